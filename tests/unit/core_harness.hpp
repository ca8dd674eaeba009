// A BrokerCore driven by hand: a manual clock, typed messages in, the outbox inspected.
// No sockets and no sleeps.
#pragma once

#include <catch2/catch.hpp>

#include "broker/core.hpp"
#include "common/codec.hpp"

namespace rc::test {

struct CoreHarness {
    broker::BrokerConfig cfg;
    Now now{TimePoint{} + std::chrono::hours(1), 1.7e9};
    std::unique_ptr<broker::BrokerCore> core;
    std::vector<proto::Outbound> out; // everything sent since the last take()

    explicit CoreHarness(broker::BrokerConfig c = {}) : cfg(c) {
        core = std::make_unique<broker::BrokerCore>(cfg, 42, now);
    }

    void pump() {
        core->on_tick(now);
        core->before_sleep(now);
        for (auto& m : core->outbox()) out.push_back(std::move(m));
        core->outbox().clear();
    }
    void advance(std::chrono::milliseconds d) {
        now = now + d;
        pump();
    }
    void from_worker(const std::string& rid, proto::WorkerMsg m) {
        core->on_message(proto::Inbound{RoutingId(rid), std::move(m)}, now);
        pump();
    }
    void from_client(proto::ClientRequest m) {
        core->on_message(proto::Inbound{RoutingId("client"), std::move(m)}, now);
        pump();
    }

    void ready(const std::string& rid, const std::string& device, DeviceCapabilities caps = {},
               std::uint32_t slots = 1, std::vector<std::string> handlers = {"echo", "sleep", "x"}) {
        proto::Ready r;
        r.device_id = DeviceId(device);
        r.caps = caps;
        r.slots = slots;
        r.handlers = std::move(handlers);
        r.heartbeat_ms = 1000;
        from_worker(rid, r);
    }

    std::vector<TaskId> submit(std::vector<TaskSpec> tasks) {
        from_client(proto::SubmitReq{1, std::move(tasks), false});
        for (auto it = out.rbegin(); it != out.rend(); ++it)
            if (auto* c = std::get_if<proto::ClientReply>(&it->msg))
                if (auto* s = std::get_if<proto::SubmitReply>(c)) return s->task_ids;
        FAIL("no SUBMIT reply");
        return {};
    }
    TaskId submit1(TaskSpec t) { return submit({std::move(t)}).at(0); }

    // TASK messages sent to `rid` since the last take(), in order.
    std::vector<proto::TaskAssign> tasks_to(const std::string& rid) {
        std::vector<proto::TaskAssign> v;
        for (auto& m : out)
            if (m.to.value == rid)
                if (auto* w = std::get_if<proto::BrokerToWorker>(&m.msg)) {
                    if (auto* t = std::get_if<proto::TaskAssign>(w)) v.push_back(*t);
                    if (auto* b = std::get_if<proto::TaskBatch>(w)) v.insert(v.end(), b->tasks.begin(), b->tasks.end());
                }
        return v;
    }
    template <typename T> std::vector<T> sent_to(const std::string& rid) {
        std::vector<T> v;
        for (auto& m : out)
            if (m.to.value == rid)
                if (auto* w = std::get_if<proto::BrokerToWorker>(&m.msg))
                    if (auto* t = std::get_if<T>(w)) v.push_back(*t);
        return v;
    }
    void take() { out.clear(); }

    void result(const std::string& rid, const proto::TaskAssign& t, TaskStatus st = TaskStatus::Success,
                std::string error = {}) {
        proto::WorkResult r;
        r.task_id = t.task_id;
        r.lease = t.lease;
        r.epoch = 42;
        r.status = st;
        r.result = t.payload;
        r.error = std::move(error);
        r.started_at = now.wall;
        r.finished_at = now.wall + 0.01;
        from_worker(rid, r);
    }
    void heartbeat(const std::string& rid) { from_worker(rid, proto::Heartbeat{}); }

    const broker::TaskRecord& task(const TaskId& id) {
        const auto* t = core->task(id.value);
        REQUIRE(t != nullptr);
        return *t;
    }
};

inline TaskSpec spec(const std::string& type = "echo", Priority p = Priority::Normal, Requirements r = {}) {
    TaskSpec t;
    t.task_type = type;
    t.priority = p;
    t.requirements = r;
    t.payload = codec::encode_value(Value("p"));
    return t;
}

inline DeviceCapabilities caps(int cores, double mem, std::string role = "worker", std::string platform = "linux",
                               std::vector<std::string> tags = {}) {
    DeviceCapabilities c;
    c.cpu_cores = cores;
    c.memory_gb = mem;
    c.storage_gb = 100;
    c.role = std::move(role);
    c.platform = std::move(platform);
    c.tags = std::move(tags);
    return c;
}

} // namespace rc::test
