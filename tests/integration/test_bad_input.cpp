// Every kind of malformed input gets an explicit error (clients: ERROR, workers:
// DISCONNECT with a reason), is counted, and the broker keeps serving without losing tasks.
#include <catch2/catch.hpp>

#include "common/client.hpp"
#include "support/cluster.hpp"
#include "support/raw_peer.hpp"

using namespace rc;
using namespace std::chrono_literals;
using proto::ErrorCode;

namespace {
constexpr std::uint8_t kSubmit = 0x21, kStatus = 0x22, kStats = 0x25;

ErrorCode expect_error(test::RawPeer& p) {
    auto r = p.recv_client();
    REQUIRE(r.has_value());
    auto* e = std::get_if<proto::ErrorReply>(&*r);
    REQUIRE(e != nullptr);
    CHECK(!e->message.empty());
    return e->code;
}

std::string expect_disconnect(test::RawPeer& p) {
    for (int i = 0; i < 5; ++i) { // a WELCOME may come first
        auto r = p.recv_worker();
        REQUIRE(r.has_value());
        if (auto* d = std::get_if<proto::Disconnect>(&*r)) return d->reason;
    }
    FAIL("no DISCONNECT");
    return {};
}

Value ready_body(const std::string& id, std::int64_t slots = 1) {
    Value v;
    v.set("version", 1);
    v.set("device_id", id);
    v.set("slots", slots);
    v.set("handlers", Value(Array{Value("echo")}));
    return v;
}
} // namespace

TEST_CASE("malformed client frames get explicit errors and the broker keeps serving") {
    auto cfg = test::test_broker_config();
    cfg.max_message_bytes = 64 * 1024;
    test::TestBroker broker(cfg);
    test::RawPeer p(broker.address());
    Value stats_req;
    stats_req.set("req", 1);

    SECTION("too few frames") {
        p.send({"", "RCC1"});
        CHECK(expect_error(p) == ErrorCode::Malformed);
    }
    SECTION("missing empty delimiter") {
        p.send({"RCC1", std::string(1, char(kStats)), test::body(stats_req), "x"});
        CHECK(expect_error(p) == ErrorCode::Malformed);
    }
    SECTION("unknown protocol header") {
        p.send_cmd("HTTP", kStats, test::body(stats_req));
        CHECK(expect_error(p) == ErrorCode::UnknownProtocol);
    }
    SECTION("unknown command") {
        p.send_cmd("RCC1", 0x7F, test::body(stats_req));
        CHECK(expect_error(p) == ErrorCode::UnknownCommand);
    }
    SECTION("command frame of two bytes") {
        p.send({"", "RCC1", "\x25\x25", test::body(stats_req)});
        CHECK(expect_error(p) == ErrorCode::Malformed);
    }
    SECTION("extra frame") {
        p.send({"", "RCC1", std::string(1, char(kStats)), test::body(stats_req), "extra"});
        CHECK(expect_error(p) == ErrorCode::Malformed);
    }
    SECTION("undecodable body") {
        p.send_cmd("RCC1", kStats, std::string("\xc1\xc1", 2));
        CHECK(expect_error(p) == ErrorCode::BadBody);
    }
    SECTION("body that is not a map") {
        p.send_cmd("RCC1", kStats, test::body(Value(Array{Value(1)})));
        CHECK(expect_error(p) == ErrorCode::BadBody);
    }
    SECTION("trailing bytes after the body") {
        p.send_cmd("RCC1", kStats, test::body(stats_req) + "\x01");
        CHECK(expect_error(p) == ErrorCode::BadBody);
    }
    SECTION("field of the wrong type") {
        Value v;
        v.set("req", 3);
        v.set("tasks", "not a list");
        p.send_cmd("RCC1", kSubmit, test::body(v));
        CHECK(expect_error(p) == ErrorCode::BadBody);
    }
    SECTION("oversized message") {
        Value v;
        v.set("req", 4);
        v.set("pad", std::string(100 * 1024, 'x'));
        p.send_cmd("RCC1", kStats, test::body(v));
        CHECK(expect_error(p) == ErrorCode::TooLarge);
    }
    SECTION("invalid task") {
        Value task;
        task.set("task_type", "bad type!");
        Value v;
        v.set("req", 5);
        v.set("tasks", Value(Array{task}));
        p.send_cmd("RCC1", kSubmit, test::body(v));
        CHECK(expect_error(p) == ErrorCode::InvalidTask);
    }
    SECTION("invalid requirements") {
        Value req;
        req.set("timeout_seconds", -1.0);
        Value task;
        task.set("task_type", "echo");
        task.set("requirements", req);
        Value v;
        v.set("req", 6);
        v.set("tasks", Value(Array{task}));
        p.send_cmd("RCC1", kSubmit, test::body(v));
        CHECK(expect_error(p) == ErrorCode::InvalidRequirements);
    }
    SECTION("unknown task") {
        Value v;
        v.set("req", 7);
        v.set("task_id", "missing");
        p.send_cmd("RCC1", kStatus, test::body(v));
        CHECK(expect_error(p) == ErrorCode::UnknownTask);
    }
    // Whatever was sent, the broker still answers a well-formed request.
    Client client(broker.address());
    auto s = client.stats();
    REQUIRE(s.ok());
    CHECK(s->find("broker") != nullptr);
}

TEST_CASE("protocol violations by workers get DISCONNECT with a reason") {
    test::TestBroker broker;
    test::RawPeer p(broker.address());

    SECTION("a command before READY") {
        Value hb;
        hb.set("epoch", 0);
        p.send_cmd("RCW1", 0x02, test::body(hb));
        CHECK(expect_disconnect(p) == "unknown_worker");
    }
    SECTION("a second READY") {
        p.send_cmd("RCW1", 0x01, test::body(ready_body("dup")));
        auto w = p.recv_worker();
        REQUIRE(w.has_value());
        REQUIRE(std::holds_alternative<proto::Welcome>(*w));
        p.send_cmd("RCW1", 0x01, test::body(ready_body("dup")));
        CHECK(expect_disconnect(p) == "protocol_violation");
    }
    SECTION("an invalid READY") {
        p.send_cmd("RCW1", 0x01, test::body(ready_body("zero-slots", 0)));
        CHECK(expect_disconnect(p) == "invalid_ready");
    }
    SECTION("an undecodable body") {
        p.send_cmd("RCW1", 0x03, std::string("\xc1", 1));
        CHECK(expect_disconnect(p) == "bad_body");
    }
    SECTION("an unknown worker command") {
        p.send_cmd("RCW1", 0x6E, test::body(Value(Map{})));
        CHECK(expect_disconnect(p) == "unknown_command");
    }
    Client client(broker.address());
    auto s = client.stats();
    REQUIRE(s.ok());
}

TEST_CASE("garbage in between loses no accepted task") {
    test::TestBroker broker;
    Client client(broker.address());
    TaskSpec t;
    t.task_type = "echo";
    t.payload = test::body(Value("keep me"));
    auto id = client.submit_one(t);
    REQUIRE(id.ok());

    test::RawPeer junk(broker.address());
    for (int i = 0; i < 50; ++i) junk.send({"", "RCW1", std::string(1, char(i)), std::string(i, '\xff')});

    // Every junk message is refused and counted before a worker appears to run the task.
    auto rejected = [&] {
        auto s = client.stats();
        if (!s.ok()) return std::int64_t{-1};
        const Value* e = s->find("errors");
        return e->find("malformed")->as_int() + e->find("unknown_command")->as_int() +
               e->find("bad_body")->as_int() + e->find("unknown_worker")->as_int();
    };
    REQUIRE(test::wait_for([&] { return rejected() >= 50; }, 10s));
    test::TestWorker w(test::test_worker_config(broker.address(), "late"));
    w.start();
    auto res = client.wait_all({*id}, 10s);
    REQUIRE(res.ok());
    REQUIRE(res->size() == 1);
    CHECK(res->front().status == TaskStatus::Success);
    CHECK(res->front().result_data == t.payload);
}
