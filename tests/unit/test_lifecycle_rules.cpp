// Leases, timeouts, retries with backoff, device loss, late results, cancellation and
// liveness on the broker core with a manual clock.
#include "core_harness.hpp"

using namespace rc;
using namespace rc::test;
using namespace std::chrono_literals;

namespace {
broker::BrokerConfig fast() {
    broker::BrokerConfig c;
    c.retry_backoff = 100ms;
    c.heartbeat = 1000ms;
    c.liveness = 3;
    return c;
}
} // namespace

TEST_CASE("a failing task is retried with backoff and succeeds on attempt 3") {
    CoreHarness h(fast());
    h.ready("w", "w", caps(2, 2), 1);
    auto id = h.submit1(spec("x"));
    auto t = h.tasks_to("w");
    REQUIRE(t.size() == 1);
    h.take();
    h.result("w", t[0], TaskStatus::Failed, "first failure");
    CHECK(h.task(id).status == TaskStatus::Queued);
    CHECK(h.core->queued_reason(h.task(id)).find("retry 2 waits 100 ms") != std::string::npos);
    h.advance(99ms);
    CHECK(h.tasks_to("w").empty()); // still backing off
    h.advance(1ms);
    t = h.tasks_to("w");
    REQUIRE(t.size() == 1);
    CHECK(t[0].attempt == 2);
    h.take();
    h.result("w", t[0], TaskStatus::Failed, "second failure");
    h.advance(199ms);
    CHECK(h.tasks_to("w").empty()); // the backoff doubled
    h.advance(1ms);
    t = h.tasks_to("w");
    REQUIRE(t.size() == 1);
    CHECK(t[0].attempt == 3);
    h.result("w", t[0]);
    const auto& rec = h.task(id);
    CHECK(rec.status == TaskStatus::Success);
    CHECK(rec.attempts == 3);
    REQUIRE(rec.view().attempt_errors.size() == 2);
    CHECK(rec.view().attempt_errors[0].error == "first failure");
    CHECK(rec.view().attempt_errors[1].error == "second failure");
}

TEST_CASE("retries are exhausted after max_retries and the task ends FAILED") {
    CoreHarness h(fast());
    h.ready("w", "w", caps(2, 2), 1);
    Requirements r;
    r.max_retries = 1;
    auto id = h.submit1(spec("x", Priority::Normal, r));
    for (int attempt = 1; attempt <= 2; ++attempt) {
        auto t = h.tasks_to("w");
        REQUIRE(t.size() == 1);
        h.take();
        h.result("w", t[0], TaskStatus::Failed, "boom " + std::to_string(attempt));
        h.advance(1000ms);
    }
    const auto& rec = h.task(id);
    CHECK(rec.status == TaskStatus::Failed);
    CHECK(rec.attempts == 2);
    CHECK(rec.view().error == "boom 2");
    CHECK(h.tasks_to("w").empty());
    auto s = h.core->stats_value(h.now);
    CHECK(s.find("scheduler_stats")->find("failed")->as_int() == 1);
    CHECK(s.find("scheduler_stats")->find("retried")->as_int() == 1);
}

TEST_CASE("lease expiry: CANCEL to the worker, retry, and a late result never overwrites the newer attempt") {
    CoreHarness h(fast());
    h.ready("w", "w", caps(2, 2), 2);
    Requirements r;
    r.timeout_seconds = 1;
    r.max_retries = 1;
    auto id = h.submit1(spec("sleep", Priority::Normal, r));
    auto first = h.tasks_to("w");
    REQUIRE(first.size() == 1);
    CHECK(first[0].timeout_ms == 1000);
    h.take();
    h.heartbeat("w");
    h.advance(1000ms);
    auto cancels = h.sent_to<proto::CancelLease>("w");
    REQUIRE(cancels.size() == 1);
    CHECK(cancels[0].reason == "timeout");
    CHECK(cancels[0].lease == first[0].lease);
    CHECK(h.task(id).status == TaskStatus::Queued);
    h.take();
    h.advance(100ms); // backoff
    auto second = h.tasks_to("w");
    REQUIRE(second.size() == 1); // the expired lease still holds a slot; the second one is free
    CHECK(second[0].attempt == 2);
    CHECK(second[0].lease != first[0].lease);

    h.result("w", first[0], TaskStatus::Success); // late: ignored
    CHECK(h.task(id).status == TaskStatus::Assigned);
    CHECK(h.core->counters().stale_results == 1);

    h.result("w", second[0], TaskStatus::Success);
    CHECK(h.task(id).status == TaskStatus::Success);
    CHECK(h.task(id).attempts == 2);
    REQUIRE(h.task(id).view().attempt_errors.size() == 1);
    CHECK(h.task(id).view().attempt_errors[0].status == "timeout");
}

TEST_CASE("a task that keeps timing out ends TIMEOUT after its retries") {
    CoreHarness h(fast());
    h.ready("w", "w", caps(2, 2), 4);
    Requirements r;
    r.timeout_seconds = 0.5;
    r.max_retries = 2;
    auto id = h.submit1(spec("sleep", Priority::Normal, r));
    for (int i = 0; i < 20 && !is_terminal(h.task(id).status); ++i) {
        h.heartbeat("w");
        h.advance(250ms);
    }
    CHECK(h.task(id).status == TaskStatus::Timeout);
    CHECK(h.task(id).attempts == 3);
    CHECK(h.sent_to<proto::CancelLease>("w").size() == 3);
}

TEST_CASE("a silent device goes offline and its tasks are requeued at once") {
    CoreHarness h(fast());
    h.ready("a", "a", caps(8, 8), 2);
    h.ready("b", "b", caps(1, 1), 2);
    h.take();
    auto ids = h.submit({spec("sleep"), spec("sleep")});
    auto on_a = h.tasks_to("a");
    REQUIRE(on_a.size() == 1); // load balancing spread them
    h.take();
    // Only b keeps talking.
    for (int i = 0; i < 6; ++i) {
        h.advance(500ms);
        h.heartbeat("b");
    }
    const auto& a = h.core->registry().at(*h.core->registry().by_device("a"));
    CHECK(a.state == broker::WorkerState::Offline);
    CHECK(a.drop_reason == broker::DropReason::HeartbeatExpired);
    auto moved = h.tasks_to("b");
    REQUIRE(moved.size() == 1);
    CHECK(moved[0].task_id == on_a[0].task_id);
    CHECK(moved[0].attempt == 2);
    CHECK(h.task(on_a[0].task_id).view().attempt_errors.at(0).status == "device_lost");
}

TEST_CASE("busy workers expire too, and heartbeats are sent only to quiet workers") {
    CoreHarness h(fast());
    h.ready("w", "w", caps(1, 1), 1);
    h.submit1(spec("sleep"));
    h.take();
    h.advance(1000ms);
    CHECK(h.sent_to<proto::Heartbeat>("w").size() == 1);
    h.advance(2000ms); // 3 s of silence = heartbeat x liveness
    CHECK(h.core->registry().at(0).state == broker::WorkerState::Offline);
}

TEST_CASE("cancel: queued at once, running on its worker") {
    CoreHarness h(fast());
    auto queued = h.submit1(spec("sleep"));
    h.from_client(proto::CancelReq{2, queued});
    CHECK(h.task(queued).status == TaskStatus::Cancelled);

    h.ready("w", "w", caps(1, 1), 1);
    CHECK(h.tasks_to("w").empty()); // the cancelled task is never dispatched
    auto running = h.submit1(spec("sleep"));
    auto t = h.tasks_to("w");
    REQUIRE(t.size() == 1);
    h.take();
    h.from_client(proto::CancelReq{3, running});
    CHECK(h.task(running).status == TaskStatus::Cancelled);
    auto c = h.sent_to<proto::CancelLease>("w");
    REQUIRE(c.size() == 1);
    CHECK(c[0].reason == "cancelled");
    // The slot frees only when the worker reports back.
    auto next = h.submit1(spec("sleep"));
    CHECK(h.task(next).status == TaskStatus::Queued);
    h.result("w", t[0], TaskStatus::Cancelled, "task cancelled");
    CHECK(h.task(running).status == TaskStatus::Cancelled);
    CHECK(h.task(next).status == TaskStatus::Assigned);
}

TEST_CASE("a reconnecting device keeps the tasks it still runs") {
    CoreHarness h(fast());
    h.ready("old", "dev", caps(2, 2), 2);
    h.submit({spec("sleep"), spec("sleep")});
    auto t = h.tasks_to("old");
    REQUIRE(t.size() == 2);
    h.take();
    proto::Ready r;
    r.device_id = DeviceId("dev");
    r.caps = caps(2, 2);
    r.slots = 2;
    r.handlers = {"sleep"};
    r.running = {{t[0].task_id, t[0].lease, 42}}; // still runs the first; lost the second
    h.from_worker("new", r);
    CHECK(h.sent_to<proto::Disconnect>("old").size() == 1);
    auto again = h.tasks_to("new");
    REQUIRE(again.size() == 1); // only the lost one is dispatched again
    CHECK(again[0].task_id == t[1].task_id);
    h.result("new", t[0]);
    CHECK(h.task(t[0].task_id).status == TaskStatus::Success);
    CHECK(h.task(t[0].task_id).attempts == 1);
}

TEST_CASE("results are acknowledged once per pass and unknown workers are told to re-register") {
    CoreHarness h(fast());
    h.ready("w", "w", caps(1, 1), 1);
    h.submit1(spec("echo"));
    auto t = h.tasks_to("w");
    REQUIRE(t.size() == 1);
    h.take();
    h.result("w", t[0]);
    auto acks = h.sent_to<proto::Ack>("w");
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].leases.at(0) == t[0].lease);
    h.take();
    h.result("w", t[0]); // a re-sent duplicate is acknowledged again and ignored
    CHECK(h.sent_to<proto::Ack>("w").size() == 1);
    CHECK(h.core->counters().succeeded == 1);

    h.take();
    h.heartbeat("stranger");
    auto d = h.sent_to<proto::Disconnect>("stranger");
    REQUIRE(d.size() == 1);
    CHECK(d[0].reason == "unknown_worker");
}

TEST_CASE("finished results are retained for a bounded time") {
    broker::BrokerConfig c = fast();
    c.result_ttl = std::chrono::seconds(10);
    CoreHarness h(c);
    h.ready("w", "w", caps(1, 1), 1);
    auto id = h.submit1(spec("echo"));
    h.result("w", h.tasks_to("w").at(0));
    CHECK(h.core->task(id.value) != nullptr);
    for (int i = 0; i < 11; ++i) {
        h.heartbeat("w");
        h.advance(1000ms);
    }
    CHECK(h.core->task(id.value) == nullptr);
}

TEST_CASE("result waits answer when the task ends or the wait expires") {
    CoreHarness h(fast());
    auto id = h.submit1(spec("echo"));
    h.take();
    h.from_client(proto::ResultReq{5, {id}, 5000, false});
    CHECK(h.out.empty()); // parked
    h.ready("w", "w", caps(1, 1), 1);
    h.result("w", h.tasks_to("w").at(0));
    bool answered = false;
    for (auto& m : h.out)
        if (auto* c = std::get_if<proto::ClientReply>(&m.msg))
            if (auto* r = std::get_if<proto::ResultReply>(c)) {
                answered = true;
                CHECK(r->req == 5);
                REQUIRE(r->results.size() == 1);
                CHECK(r->results[0].status == TaskStatus::Success);
            }
    CHECK(answered);

    auto slow = h.submit1(spec("no_handler"));
    h.take();
    h.from_client(proto::ResultReq{6, {slow, TaskId("ghost")}, 300, false});
    CHECK(h.out.empty());
    h.advance(300ms);
    REQUIRE(h.out.size() == 1);
    auto& r = std::get<proto::ResultReply>(std::get<proto::ClientReply>(h.out[0].msg));
    CHECK(r.pending.at(0) == slow);
    CHECK(r.unknown.at(0).value == "ghost");
}

TEST_CASE("prefetch: a device takes slots + prefetch leases, and STARTED restarts a lease's clock") {
    CoreHarness h(fast());
    proto::Ready r;
    r.device_id = DeviceId("p");
    r.caps = caps(1, 1);
    r.slots = 1;
    r.prefetch = 2;
    r.handlers = {"sleep"};
    h.from_worker("p", r);
    h.take();
    Requirements rq;
    rq.timeout_seconds = 1;
    h.submit({spec("sleep", Priority::Normal, rq), spec("sleep", Priority::Normal, rq),
              spec("sleep", Priority::Normal, rq), spec("sleep", Priority::Normal, rq)});
    auto t = h.tasks_to("p");
    REQUIRE(t.size() == 3); // one slot + two prefetched; the fourth waits at the broker
    auto s = h.core->stats_value(h.now);
    CHECK(s.find("cluster_stats")->find("busy_slots")->as_int() == 1);
    // The prefetched ones may wait: their leases first allow twice the timeout, and
    // STARTED restarts a lease at its full timeout.
    h.take();
    h.heartbeat("p");
    h.advance(500ms);
    h.from_worker("p", proto::Started{{t[1].lease}}); // the second starts at 0.5 s
    h.advance(500ms);
    auto c = h.sent_to<proto::CancelLease>("p");
    REQUIRE(c.size() == 1); // 1 s: the first, which ran from the start
    CHECK(c[0].lease == t[0].lease);
    h.take();
    h.heartbeat("p");
    h.advance(500ms);
    c = h.sent_to<proto::CancelLease>("p");
    REQUIRE(c.size() == 1); // 1.5 s: the second, 1 s after its STARTED
    CHECK(c[0].lease == t[1].lease);
    h.take();
    h.heartbeat("p");
    h.advance(500ms);
    c = h.sent_to<proto::CancelLease>("p");
    REQUIRE(c.size() == 1); // 2 s: the third, which never started
    CHECK(c[0].lease == t[2].lease);
}

TEST_CASE("submit-and-wait answers once, with the results") {
    CoreHarness h(fast());
    h.ready("w", "w", caps(1, 1), 2);
    h.take();
    h.from_client(proto::SubmitReq{9, {spec("echo"), spec("echo")}, false, 5000});
    auto t = h.tasks_to("w");
    REQUIRE(t.size() == 2);
    auto replies = [&] {
        std::vector<proto::SubmitReply> v;
        for (auto& m : h.out)
            if (auto* c = std::get_if<proto::ClientReply>(&m.msg))
                if (auto* s = std::get_if<proto::SubmitReply>(c)) v.push_back(*s);
        return v;
    };
    CHECK(replies().empty());
    h.result("w", t[0]);
    CHECK(replies().empty());
    h.result("w", t[1]);
    auto r = replies();
    REQUIRE(r.size() == 1);
    CHECK(r[0].req == 9);
    CHECK(r[0].task_ids.size() == 2);
    CHECK(r[0].results.size() == 2);
    CHECK(r[0].results[0].status == TaskStatus::Success);
}
