// rc::worker::Worker: the public C++ API of a worker node. It probes the device, holds the
// handler registry (built-ins plus custom ones) and runs the agent loop: the DEALER link
// to the broker, heartbeats, reconnects, and the executor that runs tasks.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "handler.hpp"
#include "handlers/outside.hpp"
#include "common/capabilities.hpp"

namespace rc::worker {

struct WorkerConfig {
    std::string join = "127.0.0.1:8080"; // HOST[:PORT] of the broker
    std::string device_id;               // "" = default_device_id()
    std::string role;                    // "" = mobile on Android, else worker
    std::vector<std::string> tags;
    unsigned slots = 0;                  // 0 = CPU cores
    unsigned prefetch = 0;               // tasks to queue beyond the slots (keeps short tasks flowing)
    std::chrono::milliseconds heartbeat{1000}; // proposal; the broker may raise it
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{32000};
    bool check_internet = true;          // one TCP connect to a public resolver at start
    std::string storage_path = ".";
    bool builtin_handlers = true;        // echo, sleep, system_info
    OutsideConfig outside;               // python_eval, http_request, command
};

enum class LinkState : int { Disconnected, AwaitingWelcome, Registered, Stopped };
std::string_view to_string(LinkState s);

class Agent;

class Worker {
public:
    explicit Worker(WorkerConfig cfg);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Add handlers before run(); the set is advertised in READY.
    [[nodiscard]] HandlerRegistry& handlers() { return handlers_; }
    [[nodiscard]] const DeviceCapabilities& capabilities() const { return caps_; }
    [[nodiscard]] const std::string& device_id() const { return device_id_; }
    [[nodiscard]] unsigned slots() const { return slots_; }

    // Runs until stop() or *external_stop (checked on every wake-up, including EINTR).
    void run(const std::atomic<bool>* external_stop = nullptr);
    // Thread-safe.
    void stop();
    [[nodiscard]] LinkState state() const { return state_.load(); }

private:
    friend class Agent;
    WorkerConfig cfg_;
    DeviceCapabilities caps_;
    std::string device_id_;
    unsigned slots_ = 1;
    HandlerRegistry handlers_;
    std::atomic<bool> stop_{false};
    std::atomic<LinkState> state_{LinkState::Disconnected};
    std::string endpoint_;
    std::string control_addr_;
    std::shared_ptr<void> ctx_; // zmq::context_t, kept opaque here
};

// Registers echo, sleep and system_info.
void add_builtin_handlers(HandlerRegistry& registry, const DeviceCapabilities& caps, std::string storage_path);

} // namespace rc::worker
