// The task handler API: what a handler receives (TaskContext), what it returns
// (HandlerOutput), how it learns it should stop (CancelToken), and the registry of
// handlers a worker advertises. Handlers run on executor threads, never on the agent loop.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "common/value.hpp"

namespace rc::worker {

// Set by the agent when the broker cancels the task or its deadline passes. Handlers that
// run long poll stop_requested() (or wait_for) and return Cancelled/Timeout promptly.
// A shared atomic flag is the one piece of state shared across threads in the worker;
// everything else crosses threads as messages.
class CancelToken {
public:
    enum class Why : int { None = 0, Cancelled = 1, Timeout = 2, Shutdown = 3 };
    void request(Why why) {
        int expected = 0;
        why_.compare_exchange_strong(expected, static_cast<int>(why));
    }
    [[nodiscard]] bool stop_requested() const { return why_.load() != 0; }
    [[nodiscard]] Why why() const { return static_cast<Why>(why_.load()); }
    // Sleeps up to `d`, waking early (returning true) when a stop is requested.
    bool wait_for(std::chrono::steady_clock::duration d) const;

private:
    std::atomic<int> why_{0};
};

struct TaskContext {
    TaskId task_id;
    std::string task_type;
    Bytes payload; // msgpack-encoded payload, exactly as the submitter sent it
    std::uint32_t attempt = 1;
    std::chrono::milliseconds timeout{0}; // the lease length; 0 = none
    const CancelToken* cancel = nullptr;

    // Decodes the payload; an error names what is wrong with it.
    [[nodiscard]] Result<Value, std::string> decoded_payload() const;
    [[nodiscard]] bool stop_requested() const { return cancel && cancel->stop_requested(); }
};

struct HandlerOutput {
    TaskStatus status = TaskStatus::Success; // Success, Failed, Timeout or Cancelled
    Bytes result;                            // msgpack-encoded result (empty = nil)
    std::string error;

    static HandlerOutput ok(const Value& v);
    static HandlerOutput ok_encoded(Bytes msgpack) { return {TaskStatus::Success, std::move(msgpack), {}}; }
    static HandlerOutput failed(std::string message) { return {TaskStatus::Failed, {}, std::move(message)}; }
    static HandlerOutput timed_out(std::string message) { return {TaskStatus::Timeout, {}, std::move(message)}; }
    static HandlerOutput cancelled(std::string message) { return {TaskStatus::Cancelled, {}, std::move(message)}; }
    // The output matching why the token fired (Timeout or Cancelled).
    static HandlerOutput stopped(const CancelToken& token);
};

// A handler may also throw; the executor turns any exception into Failed with its what().
using Handler = std::function<HandlerOutput(const TaskContext&)>;

// Names to handlers. Filled before the agent starts; read-only afterwards.
class HandlerRegistry {
public:
    void register_handler(std::string task_type, Handler handler);
    // For handlers that finish in microseconds and never block (echo): they run on the
    // agent's thread, saving two thread hand-offs per task. Anything that may block or run
    // long must use register_handler().
    void register_inline(std::string task_type, Handler handler);
    [[nodiscard]] bool is_inline(const std::string& task_type) const { return inline_.count(task_type) != 0; }
    void unregister(const std::string& task_type);
    [[nodiscard]] const Handler* find(const std::string& task_type) const;
    [[nodiscard]] std::vector<std::string> names() const;

private:
    std::map<std::string, Handler> handlers_;
    std::set<std::string> inline_;
};

} // namespace rc::worker
