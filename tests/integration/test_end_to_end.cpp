// End to end over real sockets on 127.0.0.1: broker and workers on threads, the C++ client.
#include <catch2/catch.hpp>

#include "common/client.hpp"
#include "common/codec.hpp"
#include "support/cluster.hpp"

using namespace rc;
using namespace std::chrono_literals;

namespace {
TaskSpec make_task(const std::string& type, const Value& payload) {
    TaskSpec t;
    t.task_type = type;
    t.payload = codec::encode_value(payload);
    return t;
}
} // namespace

TEST_CASE("echo tasks run on workers and come back equal to their payload") {
    test::TestBroker broker;
    test::TestWorker w1(test::test_worker_config(broker.address(), "w1"));
    test::TestWorker w2(test::test_worker_config(broker.address(), "w2"));
    w1.start();
    w2.start();
    REQUIRE(w1.wait_registered());
    REQUIRE(w2.wait_registered());

    Client client(broker.address());
    std::vector<TaskSpec> batch;
    for (int i = 0; i < 500; ++i) {
        Value p;
        p.set("i", i);
        p.set("msg", "hello");
        batch.push_back(make_task("echo", p));
    }
    auto ids = client.submit(batch);
    REQUIRE(ids.ok());
    REQUIRE(ids->size() == 500);
    auto results = client.wait_all(*ids, 20s);
    REQUIRE(results.ok());
    REQUIRE(results->size() == 500);
    std::set<std::string> devices;
    for (std::size_t i = 0; i < results->size(); ++i) {
        const auto& r = (*results)[i];
        CHECK(r.status == TaskStatus::Success);
        CHECK(r.result_data == batch[i].payload);
        CHECK(r.attempts == 1);
        devices.insert(r.device_id);
    }
    CHECK(devices.size() == 2); // both workers took part

    auto stats = client.stats();
    REQUIRE(stats.ok());
    CHECK(stats->find("cluster_stats")->find("online_devices")->as_int() == 2);
    CHECK(stats->find("scheduler_stats")->find("succeeded")->as_int() == 500);
}

TEST_CASE("sleep is cancellable and system_info reports capabilities") {
    test::TestBroker broker;
    test::TestWorker w(test::test_worker_config(broker.address(), "w1"));
    w.start();
    REQUIRE(w.wait_registered());
    Client client(broker.address());

    Value p;
    p.set("duration", 30.0);
    auto id = client.submit_one(make_task("sleep", p));
    REQUIRE(id.ok());
    REQUIRE(test::wait_for([&] {
        auto s = client.status(*id);
        return s.ok() && s->status == TaskStatus::Running;
    }, 5s));
    auto c = client.cancel(*id);
    REQUIRE(c.ok());
    CHECK(c->changed);
    CHECK(c->status == TaskStatus::Cancelled);

    auto info = client.submit_one(make_task("system_info", Value(Map{})));
    REQUIRE(info.ok());
    auto res = client.wait_all({*info}, 10s);
    REQUIRE(res.ok());
    REQUIRE(res->size() == 1);
    auto v = codec::decode_value(res->front().result_data);
    REQUIRE(v.ok());
    CHECK(v->find("cpu_cores")->as_int() >= 1);
    CHECK(v->find("platform")->as_string() == "linux");
    CHECK(v->find("metrics") != nullptr);

    // The cancelled sleep released its slot: the device reports nothing running.
    REQUIRE(test::wait_for([&] {
        auto d = client.device(DeviceId("w1"));
        return d.ok() && d->find("running")->as_int() == 0;
    }, 5s));
}

TEST_CASE("status, devices and errors for unknown ids") {
    test::TestBroker broker;
    test::TestWorker w(test::test_worker_config(broker.address(), "dev-a"));
    w.start();
    REQUIRE(w.wait_registered());
    Client client(broker.address());

    auto devs = client.devices();
    REQUIRE(devs.ok());
    REQUIRE(devs->as_array().size() == 1);
    CHECK(devs->as_array()[0].find("device_id")->as_string() == "dev-a");
    CHECK(devs->as_array()[0].find("status")->as_string() == "online");

    auto st = client.status(TaskId("nope"));
    REQUIRE(!st.ok());
    CHECK(st.error().code == proto::ErrorCode::UnknownTask);
    auto dv = client.device(DeviceId("nope"));
    REQUIRE(!dv.ok());
    CHECK(dv.error().code == proto::ErrorCode::UnknownDevice);

    // A task type nobody advertises stays queued and says why.
    auto id = client.submit_one(make_task("no_such_type", Value(Map{})));
    REQUIRE(id.ok());
    auto s = client.status(*id);
    REQUIRE(s.ok());
    CHECK(s->status == TaskStatus::Queued);
    CHECK(s->reason.find("no online device has a handler for task type 'no_such_type'") != std::string::npos);
    // ...unless the submitter asks for strict checking.
    std::vector<TaskSpec> one{make_task("no_such_type", Value(Map{}))};
    auto strict = client.submit(one, true);
    REQUIRE(!strict.ok());
    CHECK(strict.error().code == proto::ErrorCode::UnknownTaskType);
}

TEST_CASE("client reports an unreachable broker") {
    Client::Options o;
    o.request_timeout = 300ms;
    Client client("127.0.0.1:1", o);
    auto s = client.stats();
    REQUIRE(!s.ok());
    CHECK(s.error().kind == ClientError::Kind::Unreachable);
}
