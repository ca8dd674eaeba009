// Durability decisions on the broker core, with a manual clock and no Redis: journaling,
// acknowledging SUBMIT only once durable, refusing while the store is down, recovery and
// reconciliation with re-registering workers.
#include "common/codec.hpp"
#include "core_harness.hpp"

using namespace rc;
using namespace rc::test;
using namespace std::chrono_literals;

namespace {
broker::BrokerConfig durable_cfg() {
    broker::BrokerConfig c;
    c.durable = true;
    c.recovery_grace = 2000ms;
    return c;
}

bool has_submit_reply(const std::vector<proto::Outbound>& out) {
    for (const auto& m : out)
        if (auto* c = std::get_if<proto::ClientReply>(&m.msg))
            if (std::holds_alternative<proto::SubmitReply>(*c)) return true;
    return false;
}
} // namespace

TEST_CASE("SUBMIT is acknowledged only once its batch is durable") {
    CoreHarness h(durable_cfg());
    h.take();
    h.core->on_message(proto::Inbound{RoutingId("client"), proto::ClientRequest(proto::SubmitReq{1, {spec()}, false})}, h.now);
    h.pump();
    CHECK_FALSE(has_submit_reply(h.out)); // held
    auto batch = h.core->take_journal(h.now);
    REQUIRE(batch);
    REQUIRE(batch->ops.size() == 1);
    CHECK_FALSE(batch->ops[0].spec.empty());
    auto st = codec::decode_result(batch->ops[0].state);
    REQUIRE(st.ok());
    CHECK(st->status == TaskStatus::Queued);
    CHECK_FALSE(h.core->take_journal(h.now)); // nothing new
    h.core->on_mirror_report(broker::MirrorReport{true, batch->seq, {}}, h.now);
    h.pump();
    CHECK(has_submit_reply(h.out));
}

TEST_CASE("while the store is down SUBMIT is refused, or accepted when configured") {
    CoreHarness h(durable_cfg());
    h.core->on_mirror_report(broker::MirrorReport{false, 0, "connection refused"}, h.now);
    h.take();
    h.from_client(proto::SubmitReq{7, {spec()}, false});
    REQUIRE(h.out.size() == 1);
    auto& e = std::get<proto::ErrorReply>(std::get<proto::ClientReply>(h.out[0].msg));
    CHECK(e.code == proto::ErrorCode::NotDurable);
    CHECK(e.message.find("connection refused") != std::string::npos);

    auto cfg = durable_cfg();
    cfg.degraded = broker::DegradedPolicy::Accept;
    CoreHarness a(cfg);
    a.core->on_mirror_report(broker::MirrorReport{false, 0, "down"}, a.now);
    a.take();
    a.from_client(proto::SubmitReq{8, {spec()}, false});
    CHECK(has_submit_reply(a.out)); // at once, not durable
    CHECK(a.core->take_journal(a.now)); // still journaled, for the catch-up
}

TEST_CASE("each pass writes a changed task once, and finished tasks expire") {
    CoreHarness h(durable_cfg());
    h.ready("w", "w", caps(1, 1), 1);
    auto t = spec("echo");
    t.task_id = TaskId("t-1");
    TaskId id = t.task_id;
    h.from_client(proto::SubmitReq{1, {t}, false});
    auto b1 = h.core->take_journal(h.now); // accepted and dispatched in one pass: one op
    REQUIRE(b1);
    REQUIRE(b1->ops.size() == 1);
    CHECK(codec::decode_result(b1->ops[0].state)->status == TaskStatus::Assigned);
    CHECK_FALSE(b1->ops[0].lease.empty());
    h.result("w", h.tasks_to("w").at(0));
    auto b2 = h.core->take_journal(h.now);
    REQUIRE(b2);
    REQUIRE(b2->ops.size() == 1);
    CHECK(b2->ops[0].spec.empty()); // the spec was written already
    CHECK(b2->ops[0].ttl_ms == 3600 * 1000);
    CHECK(codec::decode_result(b2->ops[0].state)->status == TaskStatus::Success);
    CHECK(h.task(id).status == TaskStatus::Success);
}

TEST_CASE("recovery queues, keeps results, and lets workers claim what they ran") {
    CoreHarness h(durable_cfg());
    auto make = [](const std::string& id, TaskStatus s, std::uint64_t epoch, std::uint64_t lease) {
        broker::RecoveredTask t;
        t.spec = spec("sleep");
        t.spec.task_id = TaskId(id);
        t.state.task_id = TaskId(id);
        t.state.status = s;
        t.state.attempts = s == TaskStatus::Queued ? 0 : 1;
        if (s == TaskStatus::Success) t.state.result_data = codec::encode_value(Value("done"));
        t.lease_epoch = epoch;
        t.lease = lease;
        t.order = id[0];
        return t;
    };
    h.core->recover({make("a-queued", TaskStatus::Queued, 0, 0), make("b-done", TaskStatus::Success, 0, 0),
                     make("c-running", TaskStatus::Running, 9, 5), make("d-running", TaskStatus::Running, 9, 6),
                     make("e-finished-while-down", TaskStatus::Running, 9, 7)},
                    h.now);
    CHECK(h.task(TaskId("b-done")).status == TaskStatus::Success);
    CHECK(h.task(TaskId("b-done")).view().result == codec::encode_value(Value("done")));
    CHECK(h.task(TaskId("a-queued")).status == TaskStatus::Queued);

    // The worker comes back still running c; it had finished e while the broker was down.
    proto::Ready r;
    r.device_id = DeviceId("w");
    r.caps = caps(2, 2);
    r.slots = 4;
    r.handlers = {"sleep"};
    r.running = {{TaskId("c-running"), LeaseId{5}, 9}};
    h.take();
    h.from_worker("w", r);
    auto dispatched = h.tasks_to("w");
    REQUIRE(dispatched.size() == 1); // only the queued one: c is claimed, d and e wait
    CHECK(dispatched[0].task_id.value == "a-queued");
    proto::WorkResult e{TaskId("e-finished-while-down"), LeaseId{7}, 9, TaskStatus::Success,
                        codec::encode_value(Value(1)), {}, 1, 2};
    h.from_worker("w", e);
    CHECK(h.task(TaskId("e-finished-while-down")).status == TaskStatus::Success);
    auto acks = h.sent_to<proto::Ack>("w");
    REQUIRE_FALSE(acks.empty());
    CHECK(acks.back().epochs == std::vector<std::uint64_t>{9});
    proto::WorkResult c{TaskId("c-running"), LeaseId{5}, 9, TaskStatus::Success, {}, {}, 1, 2};
    h.from_worker("w", c);
    CHECK(h.task(TaskId("c-running")).status == TaskStatus::Success);
    CHECK(h.task(TaskId("c-running")).attempts == 1); // never ran twice
    CHECK(h.core->counters().reconciled == 2);

    // d was lost with the old broker: after the grace time it runs again.
    CHECK(h.task(TaskId("d-running")).status == TaskStatus::Running);
    h.take();
    h.heartbeat("w");
    h.advance(2000ms);
    auto again = h.tasks_to("w");
    REQUIRE(again.size() == 1);
    CHECK(again[0].task_id.value == "d-running");
    CHECK(again[0].attempt == 2);
    CHECK(h.task(TaskId("d-running")).view().attempt_errors.at(0).status == "broker_restart");
}
