// The task status transition table and task validation.
#include <catch2/catch.hpp>

#include "common/task.hpp"

using namespace rc;
using S = TaskStatus;
using E = TaskEvent;

TEST_CASE("every legal transition and nothing else") {
    const std::vector<std::tuple<S, E, S>> legal = {
        {S::Pending, E::Accept, S::Queued},    {S::Pending, E::Cancel, S::Cancelled},
        {S::Queued, E::Assign, S::Assigned},   {S::Queued, E::Cancel, S::Cancelled},
        {S::Assigned, E::Start, S::Running},   {S::Assigned, E::Succeed, S::Success},
        {S::Assigned, E::Fail, S::Failed},     {S::Assigned, E::TimeOut, S::Timeout},
        {S::Assigned, E::Requeue, S::Queued},  {S::Assigned, E::Cancel, S::Cancelled},
        {S::Running, E::Succeed, S::Success},  {S::Running, E::Fail, S::Failed},
        {S::Running, E::TimeOut, S::Timeout},  {S::Running, E::Requeue, S::Queued},
        {S::Running, E::Cancel, S::Cancelled},
    };
    int count = 0;
    for (int s = 0; s < kTaskStatusCount; ++s) {
        for (int e = 0; e <= static_cast<int>(E::Cancel); ++e) {
            auto from = static_cast<S>(s);
            auto ev = static_cast<E>(e);
            auto got = next_state(from, ev);
            auto it = std::find_if(legal.begin(), legal.end(), [&](const auto& row) {
                return std::get<0>(row) == from && std::get<1>(row) == ev;
            });
            if (it == legal.end()) {
                CHECK_FALSE(got.has_value());
            } else {
                REQUIRE(got.has_value());
                CHECK(*got == std::get<2>(*it));
                ++count;
            }
        }
    }
    CHECK(count == static_cast<int>(legal.size()));
}

TEST_CASE("terminal states accept no event") {
    for (S s : {S::Success, S::Failed, S::Timeout, S::Cancelled}) {
        CHECK(is_terminal(s));
        for (int e = 0; e <= static_cast<int>(E::Cancel); ++e) CHECK_FALSE(next_state(s, static_cast<E>(e)));
    }
    CHECK_FALSE(is_terminal(S::Running));
}

TEST_CASE("status and priority names") {
    CHECK(to_string(S::Success) == "success");
    CHECK(parse_task_status("CANCELLED") == S::Cancelled);
    CHECK_FALSE(parse_task_status("done"));
    CHECK(parse_priority("urgent") == Priority::Urgent);
    CHECK(parse_priority("HIGH") == Priority::High);
    CHECK(parse_priority("0") == Priority::Low);
    CHECK_FALSE(parse_priority("asap"));
    CHECK(Priority::Urgent > Priority::High);
    CHECK(Priority::High > Priority::Normal);
    CHECK(Priority::Normal > Priority::Low);
}

TEST_CASE("task validation") {
    TaskSpec t;
    t.task_type = "echo";
    CHECK(validate(t).ok());
    CHECK(t.requirements.timeout_seconds == 300);
    CHECK(t.requirements.max_retries == 3);

    auto bad = [](auto mutate, const std::string& code) {
        TaskSpec s;
        s.task_type = "echo";
        mutate(s);
        auto r = validate(s);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == code);
    };
    bad([](TaskSpec& s) { s.task_type = ""; }, "invalid_task");
    bad([](TaskSpec& s) { s.task_type = "has space"; }, "invalid_task");
    bad([](TaskSpec& s) { s.task_id = TaskId(std::string(200, 'a')); }, "invalid_task");
    bad([](TaskSpec& s) { s.requirements.min_memory_gb = -1; }, "invalid_requirements");
    bad([](TaskSpec& s) { s.requirements.timeout_seconds = 0; }, "invalid_requirements");
    bad([](TaskSpec& s) { s.requirements.max_retries = -1; }, "invalid_requirements");
    bad([](TaskSpec& s) { s.requirements.required_platform = "beos"; }, "invalid_requirements");
    bad([](TaskSpec& s) { s.requirements.required_role = "boss"; }, "invalid_requirements");
    bad([](TaskSpec& s) { s.requirements.required_tags = {"no spaces allowed"}; }, "invalid_requirements");
}

TEST_CASE("uuids are version 4 and distinct") {
    auto a = new_uuid(), b = new_uuid();
    CHECK(a != b);
    REQUIRE(a.size() == 36);
    CHECK(a[14] == '4');
    CHECK((a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b'));
}
