// Scheduling rules on the broker core with a manual clock: requirement matching, priority
// order, no head-of-line blocking, load balancing, slots and affinity.
#include "core_harness.hpp"

using namespace rc;
using namespace rc::test;
using namespace std::chrono_literals;

TEST_CASE("tasks land only on devices that meet every requirement") {
    CoreHarness h;
    h.ready("big", "big", caps(8, 16, "compute", "linux", {"gpu-capable"}), 4);
    h.ready("phone", "phone", caps(4, 2, "mobile", "android"), 4);
    h.take();

    Requirements mem;
    mem.min_memory_gb = 8;
    Requirements android;
    android.required_platform = "android";
    android.required_role = "mobile";
    Requirements tagged;
    tagged.required_tags = {"gpu-capable"};
    Requirements cores;
    cores.min_cpu_cores = 6;
    h.submit({spec("echo", Priority::Normal, mem), spec("echo", Priority::Normal, android),
              spec("echo", Priority::Normal, tagged), spec("echo", Priority::Normal, cores)});
    CHECK(h.tasks_to("big").size() == 3);
    CHECK(h.tasks_to("phone").size() == 1);
}

TEST_CASE("a task no device can run stays queued with a readable reason") {
    CoreHarness h;
    h.ready("w", "small", caps(2, 3.8), 2);
    Requirements r;
    r.min_memory_gb = 8;
    auto id = h.submit1(spec("echo", Priority::Normal, r));
    CHECK(h.task(id).status == TaskStatus::Queued);
    CHECK(h.core->queued_reason(h.task(id)) == "no online device has min_memory_gb >= 8 (largest: 3.8)");

    Requirements role;
    role.required_role = "compute";
    auto id2 = h.submit1(spec("echo", Priority::Normal, role));
    CHECK(h.core->queued_reason(h.task(id2)) == "no online device has required_role = compute");

    auto id3 = h.submit1(spec("nobody_has_this"));
    CHECK(h.core->queued_reason(h.task(id3)) == "no online device has a handler for task type 'nobody_has_this'");

    // Individually satisfiable requirements that no single device meets together.
    h.ready("w2", "gpu-box", caps(1, 1, "compute"), 1);
    Requirements both;
    both.min_memory_gb = 3;
    both.required_role = "compute";
    auto id4 = h.submit1(spec("echo", Priority::Normal, both));
    CHECK(h.core->queued_reason(h.task(id4)).rfind("no single online device meets all requirements", 0) == 0);

    // Once a suitable device joins, the first task runs.
    h.take();
    h.ready("w3", "large", caps(4, 16, "compute"), 4);
    CHECK(h.tasks_to("w3").size() == 2); // id and id4; id2 already went to w2; id3 has no handler
    CHECK(h.task(id2).status == TaskStatus::Assigned);
    CHECK(h.task(id3).status == TaskStatus::Queued);
}

TEST_CASE("priorities: urgent before high before normal before low, FIFO within a level") {
    CoreHarness h;
    std::vector<TaskSpec> batch;
    std::vector<std::string> names = {"low1", "normal1", "low2", "high1", "urgent1", "normal2", "urgent2", "high2"};
    std::vector<Priority> prios = {Priority::Low,  Priority::Normal, Priority::Low,    Priority::High,
                                   Priority::Urgent, Priority::Normal, Priority::Urgent, Priority::High};
    for (std::size_t i = 0; i < names.size(); ++i) {
        auto t = spec("echo", prios[i]);
        t.task_id = TaskId(names[i]);
        batch.push_back(t);
    }
    h.submit(batch);
    h.ready("w", "w", caps(2, 2), 1);
    std::vector<std::string> order;
    for (int i = 0; i < 8; ++i) {
        auto ts = h.tasks_to("w");
        REQUIRE(ts.size() == 1); // one slot: one at a time
        order.push_back(ts[0].task_id.value);
        h.take();
        h.result("w", ts[0]);
    }
    CHECK(order == std::vector<std::string>{"urgent1", "urgent2", "high1", "high2", "normal1", "normal2", "low1", "low2"});
}

TEST_CASE("no head-of-line blocking: an unrunnable urgent task does not hold back runnable ones") {
    CoreHarness h;
    h.ready("w", "w", caps(2, 2), 2);
    h.take();
    Requirements gpu;
    gpu.gpu_required = true;
    auto blocked = h.submit1(spec("echo", Priority::Urgent, gpu));
    h.submit({spec("echo", Priority::Low), spec("echo", Priority::Low)});
    CHECK(h.tasks_to("w").size() == 2);
    CHECK(h.task(blocked).status == TaskStatus::Queued);
    CHECK(h.core->queued_reason(h.task(blocked)) == "no online device has a GPU (gpu_required)");
}

TEST_CASE("load balancing: least loaded first, then the stronger device; never beyond slots") {
    CoreHarness h;
    h.ready("weak", "weak", caps(1, 1), 2);
    h.ready("strong", "strong", caps(8, 16), 2);
    h.take();
    auto first = h.submit1(spec("sleep"));
    CHECK(h.tasks_to("strong").size() == 1); // tie on load: the stronger device
    h.take();
    h.submit1(spec("sleep"));
    CHECK(h.tasks_to("weak").size() == 1); // strong is now busier (1/2 vs 0/2)
    h.take();
    h.submit({spec("sleep"), spec("sleep"), spec("sleep"), spec("sleep")});
    CHECK(h.tasks_to("weak").size() + h.tasks_to("strong").size() == 2); // 4 slots in all
    CHECK(h.task(first).status == TaskStatus::Assigned);

    auto stats = h.core->stats_value(h.now);
    CHECK(stats.find("cluster_stats")->find("busy_slots")->as_int() == 4);
    CHECK(stats.find("cluster_stats")->find("total_slots")->as_int() == 4);
    CHECK(stats.find("cluster_stats")->find("utilization")->as_double() == 1.0);
    CHECK(stats.find("queue_stats")->find("queued")->as_int() == 2);
}

TEST_CASE("reported load breaks ties between equally busy devices") {
    CoreHarness h;
    h.ready("a", "a", caps(4, 4), 2);
    h.ready("b", "b", caps(4, 4), 2);
    h.from_worker("a", proto::Heartbeat{0, proto::DeviceMetrics{3.5, 90, 50, 10, 0}});
    h.from_worker("b", proto::Heartbeat{0, proto::DeviceMetrics{0.1, 5, 50, 10, 0}});
    h.take();
    h.submit1(spec("sleep"));
    CHECK(h.tasks_to("b").size() == 1);
}

TEST_CASE("affinity: a type prefers the device that last ran it, within the slack") {
    auto run = [](bool affinity) {
        broker::BrokerConfig cfg;
        cfg.scheduler.affinity = affinity;
        CoreHarness h(cfg);
        h.ready("small", "small", caps(2, 2), 4);
        h.take();
        h.submit1(spec("x"));
        auto t = h.tasks_to("small");
        REQUIRE(t.size() == 1);
        h.result("small", t[0]); // "x" last ran on small
        h.ready("big", "big", caps(8, 16), 4);
        h.take();
        h.submit1(spec("x"));
        return h.tasks_to("small").size() == 1 ? std::string("small") : std::string("big");
    };
    CHECK(run(true) == "small");  // affinity wins over the stronger idle device
    CHECK(run(false) == "big");   // without it, the stronger device wins the tie
}

TEST_CASE("affinity yields to a much less loaded device") {
    CoreHarness h;
    Requirements only_a;
    only_a.required_tags = {"a"};
    h.ready("a", "a", caps(2, 2, "worker", "linux", {"a"}), 4);
    h.submit1(spec("x"));
    auto t = h.tasks_to("a");
    REQUIRE(t.size() == 1);
    h.result("a", t[0]); // x last ran on a
    h.submit({spec("sleep", Priority::Normal, only_a), spec("sleep", Priority::Normal, only_a)});
    CHECK(h.tasks_to("a").size() == 3); // a is now at 2/4
    h.ready("b", "b", caps(2, 2), 4);
    h.take();
    h.submit1(spec("x"));
    CHECK(h.tasks_to("b").size() == 1); // 0.5 > 0.0 + 0.25 slack
}

TEST_CASE("a device freed in the same pass goes to the most urgent class it can serve") {
    CoreHarness h;
    Requirements only_x;
    only_x.required_tags = {"x"};
    // Two busy devices; an urgent task only "x" can run, and a low task either can run.
    h.ready("a", "a", caps(8, 8), 1);
    h.ready("x", "x", caps(1, 1, "worker", "linux", {"x"}), 1);
    h.submit({spec("sleep"), spec("sleep")});
    auto on_a = h.tasks_to("a"), on_x = h.tasks_to("x");
    REQUIRE(on_a.size() == 1);
    REQUIRE(on_x.size() == 1);
    h.take();
    auto urgent = h.submit1(spec("sleep", Priority::Urgent, only_x));
    auto low = h.submit1(spec("sleep", Priority::Low));
    // Both devices free up in one pass; x is the stronger... a must not take x's chance.
    h.core->on_message(proto::Inbound{RoutingId("x"), proto::WorkerMsg(proto::WorkResult{on_x[0].task_id, on_x[0].lease, 42, TaskStatus::Success, {}, {}, 1, 2})}, h.now);
    h.core->on_message(proto::Inbound{RoutingId("a"), proto::WorkerMsg(proto::WorkResult{on_a[0].task_id, on_a[0].lease, 42, TaskStatus::Success, {}, {}, 1, 2})}, h.now);
    h.pump();
    CHECK(h.task(urgent).status == TaskStatus::Assigned);
    CHECK(h.task(low).status == TaskStatus::Assigned);
    auto x_tasks = h.tasks_to("x");
    REQUIRE(x_tasks.size() == 1);
    CHECK(x_tasks[0].task_id == urgent);
}
