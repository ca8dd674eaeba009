// Codec round trips for every message, randomised value round trips, and rejections.
#include <catch2/catch.hpp>

#include <random>

#include "common/codec.hpp"

using namespace rc;

namespace {
codec::Frames with_route(codec::Frames f) {
    codec::Frames out;
    out.emplace_back(std::string_view("\x00\x01\x02\x03\x04", 5).data(), 5);
    for (auto& m : f) out.push_back(std::move(m));
    return out;
}

template <typename T> T roundtrip_worker_msg(const T& msg) {
    auto frames = with_route(codec::encode_from_worker(msg));
    auto in = codec::decode_at_broker(frames);
    REQUIRE(in.ok());
    CHECK(in->from.value == std::string("\x00\x01\x02\x03\x04", 5));
    return std::get<T>(std::get<proto::WorkerMsg>(in->msg));
}

template <typename T> T roundtrip_client_req(const T& msg) {
    auto frames = with_route(codec::encode_from_client(msg));
    auto in = codec::decode_at_broker(frames);
    REQUIRE(in.ok());
    return std::get<T>(std::get<proto::ClientRequest>(in->msg));
}

template <typename T> T roundtrip_to_worker(const T& msg) {
    auto frames = codec::encode_for_peer(RoutingId("r"), proto::Outbound{RoutingId("r"), proto::BrokerToWorker(msg)});
    REQUIRE(frames[0].to_string() == "r");
    frames.erase(frames.begin());
    auto out = codec::decode_at_worker(frames);
    REQUIRE(out.ok());
    return std::get<T>(out.value());
}

template <typename T> T roundtrip_to_client(const T& msg) {
    auto frames = codec::encode_for_peer(RoutingId("c"), proto::Outbound{RoutingId("c"), proto::ClientReply(msg)});
    frames.erase(frames.begin());
    auto out = codec::decode_at_client(frames);
    REQUIRE(out.ok());
    return std::get<T>(out.value());
}

Value random_value(std::mt19937& rng, int depth) {
    std::uniform_int_distribution<int> kind(0, depth > 3 ? 6 : 8);
    switch (kind(rng)) {
    case 0: return Value{};
    case 1: return Value(rng() % 2 == 0);
    case 2: return Value(static_cast<long long>(rng()) - (1LL << 31));
    case 3: return Value(static_cast<unsigned long long>(rng()) << 32 | rng());
    case 4: return Value(static_cast<double>(rng()) / 7.0);
    case 5: return Value(std::string(rng() % 40, static_cast<char>('a' + rng() % 26)));
    case 6: return Value(Blob{std::string(rng() % 20, static_cast<char>(rng() % 256))});
    case 7: {
        Array a;
        for (unsigned i = 0; i < rng() % 5; ++i) a.push_back(random_value(rng, depth + 1));
        return Value(std::move(a));
    }
    default: {
        Map m;
        for (unsigned i = 0; i < rng() % 5; ++i) m.emplace_back(Value("k" + std::to_string(i)), random_value(rng, depth + 1));
        return Value(std::move(m));
    }
    }
}
} // namespace

TEST_CASE("values round trip through msgpack") {
    std::mt19937 rng(12345);
    for (int i = 0; i < 500; ++i) {
        Value v = random_value(rng, 0);
        auto back = codec::decode_value(codec::encode_value(v));
        REQUIRE(back.ok());
        CHECK(back.value() == v);
    }
}

TEST_CASE("value decoding rejects trailing bytes and garbage") {
    auto bytes = codec::encode_value(Value(42));
    CHECK_FALSE(codec::decode_value(bytes + "x").ok());
    CHECK_FALSE(codec::decode_value(std::string("\xc1", 1)).ok());
    CHECK_FALSE(codec::decode_value(std::string("\xdd\xff\xff\xff\xff", 5)).ok()); // array of 4G elements
}

TEST_CASE("worker messages round trip") {
    proto::Ready r;
    r.device_id = DeviceId("pi-4");
    r.caps.cpu_cores = 4;
    r.caps.memory_gb = 3.8;
    r.caps.platform = "linux";
    r.caps.role = "compute";
    r.caps.tags = {"gpu-capable", "kitchen"};
    r.caps.gpu = true;
    r.caps.gpu_name = "NVIDIA";
    r.handlers = {"echo", "sleep"};
    r.slots = 3;
    r.heartbeat_ms = 2500;
    r.running = {{TaskId("t1"), LeaseId{9}, 77}};
    auto r2 = roundtrip_worker_msg(r);
    CHECK(r2.device_id == r.device_id);
    CHECK(r2.caps == r.caps);
    CHECK(r2.handlers == r.handlers);
    CHECK(r2.slots == 3);
    CHECK(r2.heartbeat_ms == 2500);
    REQUIRE(r2.running.size() == 1);
    CHECK(r2.running[0].lease.value == 9);
    CHECK(r2.running[0].epoch == 77);

    proto::WorkResult w{TaskId("t"), LeaseId{5}, 42, TaskStatus::Failed, codec::encode_value(Value("x")), "boom", 1.5, 2.5};
    auto w2 = roundtrip_worker_msg(w);
    CHECK(w2.task_id == w.task_id);
    CHECK(w2.lease == w.lease);
    CHECK(w2.status == TaskStatus::Failed);
    CHECK(w2.result == w.result);
    CHECK(w2.error == "boom");
    CHECK(w2.finished_at == 2.5);

    proto::Heartbeat h{0, proto::DeviceMetrics{0.5, 12.0, 40.0, 100.0, 2}};
    auto h2 = roundtrip_worker_msg(h);
    REQUIRE(h2.metrics.has_value());
    CHECK(h2.metrics->running == 2);
    CHECK(roundtrip_worker_msg(proto::Started{{LeaseId{1}, LeaseId{2}}}).leases.size() == 2);
    CHECK(roundtrip_worker_msg(proto::Disconnect{"shutdown", "bye"}).reason == "shutdown");
}

TEST_CASE("broker-to-worker messages round trip") {
    auto w = roundtrip_to_worker(proto::Welcome{99, 1500, 4, 1024});
    CHECK(w.epoch == 99);
    CHECK(w.heartbeat_ms == 1500);
    CHECK(w.liveness == 4);
    proto::TaskAssign t{TaskId("id"), LeaseId{3}, "echo", codec::encode_value(Value("p")), "", 2, 60000};
    auto t2 = roundtrip_to_worker(t);
    CHECK(t2.payload == t.payload);
    CHECK(t2.attempt == 2);
    CHECK(t2.timeout_ms == 60000);
    CHECK(roundtrip_to_worker(proto::CancelLease{TaskId("id"), LeaseId{3}, "timeout"}).reason == "timeout");
    CHECK(roundtrip_to_worker(proto::Ack{{LeaseId{4}}, {}}).leases.at(0).value == 4);
    auto ack = roundtrip_to_worker(proto::Ack{{LeaseId{4}, LeaseId{5}}, {0, 77}});
    CHECK(ack.epochs == std::vector<std::uint64_t>{0, 77});
    CHECK(roundtrip_to_worker(proto::Heartbeat{5, std::nullopt}).epoch == 5);
}

TEST_CASE("client messages round trip") {
    proto::SubmitReq s;
    s.req = 7;
    s.strict = true;
    TaskSpec t;
    t.task_id = TaskId("abc");
    t.task_type = "python_eval";
    t.payload = codec::encode_value(Value("2+2"));
    t.priority = Priority::Urgent;
    t.requirements.min_cpu_cores = 4;
    t.requirements.min_memory_gb = 8;
    t.requirements.required_platform = "linux";
    t.requirements.required_tags = {"a", "b"};
    t.requirements.timeout_seconds = 60;
    t.requirements.max_retries = 0;
    s.tasks = {t};
    auto s2 = roundtrip_client_req(s);
    CHECK(s2.req == 7);
    CHECK(s2.strict);
    REQUIRE(s2.tasks.size() == 1);
    CHECK(s2.tasks[0].task_id == t.task_id);
    CHECK(s2.tasks[0].priority == Priority::Urgent);
    CHECK(s2.tasks[0].requirements == t.requirements);
    CHECK(s2.tasks[0].payload == t.payload);

    auto r = roundtrip_client_req(proto::ResultReq{8, {TaskId("a"), TaskId("b")}, 500, true});
    CHECK(r.task_ids.size() == 2);
    CHECK(r.wait_ms == 500);
    CHECK(r.any);

    TaskResult tr;
    tr.task_id = TaskId("a");
    tr.status = TaskStatus::Success;
    tr.result_data = codec::encode_value(Value(4));
    tr.attempts = 3;
    tr.attempt_errors = {{1, "failed", "e1", "d1"}, {2, "timeout", "e2", "d2"}};
    auto rr = roundtrip_to_client(proto::ResultReply{8, {tr}, {TaskId("b")}, {TaskId("c")}});
    REQUIRE(rr.results.size() == 1);
    CHECK(rr.results[0].attempts == 3);
    CHECK(rr.results[0].attempt_errors.size() == 2);
    CHECK(rr.results[0].attempt_errors[1].status == "timeout");
    CHECK(rr.pending.at(0).value == "b");
    CHECK(rr.unknown.at(0).value == "c");
    auto e = roundtrip_to_client(proto::ErrorReply{9, proto::ErrorCode::TooLarge, "big"});
    CHECK(e.code == proto::ErrorCode::TooLarge);
    Value st;
    st.set("x", 1);
    CHECK(roundtrip_to_client(proto::StatsReply{1, st}).stats == st);
}

TEST_CASE("frame-level rejections") {
    auto good = with_route(codec::encode_from_client(proto::StatsReq{1}));
    auto copy = [&] {
        codec::Frames f;
        for (auto& m : good) f.emplace_back(m.data(), m.size());
        return f;
    };
    using proto::ErrorCode;
    auto code = [](codec::Frames f) {
        auto r = codec::decode_at_broker(f);
        REQUIRE_FALSE(r.ok());
        return r.error().code;
    };
    {
        auto f = copy();
        f.pop_back();
        CHECK(code(std::move(f)) == ErrorCode::Malformed);
    }
    {
        auto f = copy();
        f.emplace_back("x", 1);
        CHECK(code(std::move(f)) == ErrorCode::Malformed);
    }
    {
        auto f = copy();
        f[1] = zmq::message_t("x", 1);
        CHECK(code(std::move(f)) == ErrorCode::Malformed);
    }
    {
        auto f = copy();
        f[2] = zmq::message_t("MDPC01", 6);
        CHECK(code(std::move(f)) == ErrorCode::UnknownProtocol);
    }
    {
        auto f = copy();
        f[3] = zmq::message_t("\x7f", 1);
        CHECK(code(std::move(f)) == ErrorCode::UnknownCommand);
    }
    {
        auto f = copy();
        f[4] = zmq::message_t("\x91\x01", 2); // an array, not a map
        CHECK(code(std::move(f)) == ErrorCode::BadBody);
    }
    {
        auto f = copy();
        std::string b(static_cast<const char*>(f[4].data()), f[4].size());
        b += '\0';
        f[4] = zmq::message_t(b.data(), b.size());
        auto r = codec::decode_at_broker(f);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == ErrorCode::BadBody);
        CHECK(r.error().req == 1); // the request id is still reported
    }
    {
        // A worker command on the client header is unknown.
        auto f = copy();
        f[3] = zmq::message_t("\x01", 1);
        CHECK(code(std::move(f)) == ErrorCode::UnknownCommand);
    }
}

TEST_CASE("unknown keys are ignored and missing ones take defaults") {
    Value body;
    body.set("req", 4);
    body.set("from_the_future", Value(Array{Value(1)}));
    Value task;
    task.set("task_type", "echo");
    body.set("tasks", Value(Array{task}));
    codec::Frames f;
    f.emplace_back("r", 1);
    f.emplace_back();
    f.emplace_back("RCC1", 4);
    f.emplace_back("\x21", 1);
    auto b = codec::encode_value(body);
    f.emplace_back(b.data(), b.size());
    auto in = codec::decode_at_broker(f);
    REQUIRE(in.ok());
    auto& s = std::get<proto::SubmitReq>(std::get<proto::ClientRequest>(in->msg));
    REQUIRE(s.tasks.size() == 1);
    CHECK(s.tasks[0].priority == Priority::Normal);
    CHECK(s.tasks[0].requirements.timeout_seconds == 300);
    CHECK(s.tasks[0].requirements.max_retries == 3);
}

TEST_CASE("batched TASKS and RESULTS round trip") {
    proto::TaskAssign a{TaskId("a"), LeaseId{1}, "echo", codec::encode_value(Value(1)), "", 1, 1000};
    proto::TaskAssign b{TaskId("b"), LeaseId{2}, "sleep", codec::encode_value(Value(2)), "", 2, 2000};
    auto batch = roundtrip_to_worker(proto::TaskBatch{{a, b}});
    REQUIRE(batch.tasks.size() == 2);
    CHECK(batch.tasks[1].task_id.value == "b");
    CHECK(batch.tasks[1].attempt == 2);
    CHECK(batch.tasks[1].payload == b.payload);

    proto::WorkResult r1{TaskId("a"), LeaseId{1}, 5, TaskStatus::Success, codec::encode_value(Value("x")), "", 1, 2};
    proto::WorkResult r2{TaskId("b"), LeaseId{2}, 5, TaskStatus::Failed, {}, "boom", 1, 2};
    auto rs = roundtrip_worker_msg(proto::WorkResults{{r1, r2}});
    REQUIRE(rs.results.size() == 2);
    CHECK(rs.results[0].result == r1.result);
    CHECK(rs.results[1].status == TaskStatus::Failed);
    CHECK(rs.results[1].error == "boom");

    // One bad entry spoils the batch: the whole message is refused.
    Value bad;
    bad.set("results", Value(Array{Value(Map{}), Value("not a map")}));
    codec::Frames f;
    f.emplace_back("r", 1);
    f.emplace_back();
    f.emplace_back("RCW1", 4);
    f.emplace_back("\x06", 1);
    auto body = codec::encode_value(bad);
    f.emplace_back(body.data(), body.size());
    auto in = codec::decode_at_broker(f);
    REQUIRE_FALSE(in.ok());
    CHECK(in.error().code == proto::ErrorCode::BadBody);
}
