// BackgroundLoop: one C++ loop (a broker's or a worker's run()) on its own std::thread,
// stopped and joined from Python without holding the GIL. Every running loop is listed so
// that interpreter exit can stop them all before Python finalizes (stop_all_loops()).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace rc::py_bindings {

class BackgroundLoop {
public:
    BackgroundLoop() = default;
    ~BackgroundLoop(); // stops and joins; call only without the GIL
    BackgroundLoop(const BackgroundLoop&) = delete;
    BackgroundLoop& operator=(const BackgroundLoop&) = delete;

    // Runs `body` on a new thread; `request_stop` must make it return soon, from any thread.
    // Throws std::logic_error when already running.
    void start(std::function<void()> body, std::function<void()> request_stop);
    // Waits up to `seconds` (< 0: forever) for the body to return; true when it has.
    // Call without the GIL.
    bool wait(double seconds);
    // request_stop(), then join. Idempotent. Call without the GIL.
    void stop();
    // Asks a running body to return, without waiting. Thread-safe, never blocks for long.
    void request_stop();
    // True from start() until the body has returned.
    [[nodiscard]] bool running() const;
    // what() of an exception that ended the body, or "".
    [[nodiscard]] std::string error() const;

private:
    std::mutex ops_mu_;     // serialises start() and stop(); the loop thread never takes it
    mutable std::mutex mu_; // guards the fields below
    std::condition_variable cv_;
    std::thread thread_;
    std::function<void()> request_stop_;
    bool running_ = false;
    std::string error_;
};

// Stops and joins every running loop (interpreter exit). Call without the GIL.
void stop_all_loops();

// True on a thread that is running a Python task handler: such a thread must not join the
// worker that runs it.
bool in_handler_thread();
void set_in_handler_thread(bool on);

} // namespace rc::py_bindings
