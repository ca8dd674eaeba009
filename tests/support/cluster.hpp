// In-process cluster pieces for integration tests: a broker on an ephemeral loopback port
// running on its own thread, and workers on their own threads. RAII: destructors stop
// and join everything they started.
#pragma once

#include <memory>
#include <thread>

#include "broker/server.hpp"
#include "support/wait_for.hpp"
#include "worker/worker.hpp"

namespace rc::test {

inline broker::BrokerConfig test_broker_config() {
    broker::BrokerConfig cfg;
    cfg.bind = "127.0.0.1";
    cfg.port = 0;
    cfg.heartbeat = std::chrono::milliseconds(100);
    cfg.retry_backoff = std::chrono::milliseconds(50);
    return cfg;
}

class TestBroker {
public:
    explicit TestBroker(broker::BrokerConfig cfg = test_broker_config())
        : server_(std::make_unique<broker::BrokerServer>(cfg)) {
        thread_ = std::thread([this] { server_->run(); });
    }
    ~TestBroker() { stop(); }
    void stop() {
        if (!thread_.joinable()) return;
        server_->stop();
        thread_.join();
    }
    [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
    [[nodiscard]] int port() const { return server_->port(); }

private:
    std::unique_ptr<broker::BrokerServer> server_;
    std::thread thread_;
};

inline worker::WorkerConfig test_worker_config(const std::string& address, const std::string& id) {
    worker::WorkerConfig cfg;
    cfg.join = address;
    cfg.device_id = id;
    cfg.slots = 2;
    cfg.heartbeat = std::chrono::milliseconds(100);
    cfg.backoff_initial = std::chrono::milliseconds(100);
    cfg.backoff_max = std::chrono::milliseconds(400);
    cfg.check_internet = false;
    cfg.outside.python_eval_enabled = false;
    cfg.outside.http_enabled = false;
    return cfg;
}

class TestWorker {
public:
    explicit TestWorker(worker::WorkerConfig cfg) : worker_(std::make_unique<worker::Worker>(std::move(cfg))) {}
    ~TestWorker() { stop(); }
    [[nodiscard]] worker::Worker& get() { return *worker_; }
    void start() {
        thread_ = std::thread([this] { worker_->run(); });
    }
    void stop() {
        if (!thread_.joinable()) return;
        worker_->stop();
        thread_.join();
    }
    bool wait_registered(std::chrono::milliseconds t = std::chrono::milliseconds(5000)) {
        return wait_for([&] { return worker_->state() == worker::LinkState::Registered; }, t);
    }

private:
    std::unique_ptr<worker::Worker> worker_;
    std::thread thread_;
};

} // namespace rc::test
