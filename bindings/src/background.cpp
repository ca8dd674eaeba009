// BackgroundLoop and the registry of running loops. Lock order: the registry mutex, then a
// loop's state mutex; a loop's thread never holds both at once, and no lock here is held
// while waiting for the GIL.
#include "background.hpp"

#include <chrono>
#include <csignal>
#include <set>
#include <stdexcept>

#include <pthread.h>

#include <pybind11/pybind11.h>

#include "module.hpp"

namespace rc::py_bindings {

namespace {
std::mutex g_mu;
std::condition_variable g_cv;
std::set<BackgroundLoop*> g_loops;
thread_local bool t_in_handler = false;

// Blocks asynchronous signals (SIGINT, SIGTERM, ...) in the threads it is alive for, so
// that the kernel delivers them to Python's main thread, which handles them; ZeroMQ's own
// threads do the same. Threads created meanwhile inherit the mask.
class BlockSignals {
public:
    BlockSignals() {
        sigset_t set;
        sigfillset(&set);
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
            sigdelset(&set, sig);
        pthread_sigmask(SIG_BLOCK, &set, &old_);
    }
    ~BlockSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
    BlockSignals(const BlockSignals&) = delete;
    BlockSignals& operator=(const BlockSignals&) = delete;

private:
    sigset_t old_{};
};
} // namespace

bool in_handler_thread() {
    return t_in_handler;
}
void set_in_handler_thread(bool on) {
    t_in_handler = on;
}

BackgroundLoop::~BackgroundLoop() {
    stop();
}

void BackgroundLoop::start(std::function<void()> body, std::function<void()> request_stop) {
    std::lock_guard ops(ops_mu_);
    {
        std::lock_guard lk(mu_);
        if (running_) throw std::logic_error("already running");
    }
    if (thread_.joinable()) thread_.join(); // a previous run that has returned
    {
        std::lock_guard lk(mu_);
        running_ = true;
        error_.clear();
        request_stop_ = std::move(request_stop);
    }
    {
        std::lock_guard g(g_mu);
        g_loops.insert(this);
    }
    BlockSignals blocked; // the loop thread, and the threads it starts, inherit the mask
    thread_ = std::thread([this, body = std::move(body)] {
        std::string error;
        try {
            body();
        } catch (const std::exception& e) {
            error = e.what();
        } catch (...) {
            error = "unknown exception";
        }
        {
            std::lock_guard lk(mu_);
            running_ = false;
            error_ = error;
        }
        cv_.notify_all();
        std::lock_guard g(g_mu);
        g_loops.erase(this);
        g_cv.notify_all();
    });
}

bool BackgroundLoop::wait(double seconds) {
    std::unique_lock lk(mu_);
    if (seconds < 0) {
        cv_.wait(lk, [this] { return !running_; });
        return true;
    }
    return cv_.wait_for(lk, std::chrono::duration<double>(seconds), [this] { return !running_; });
}

void BackgroundLoop::request_stop() {
    std::function<void()> rs;
    {
        std::lock_guard lk(mu_);
        if (!running_) return;
        rs = request_stop_;
    }
    if (rs) rs();
}

void BackgroundLoop::stop() {
    std::lock_guard ops(ops_mu_);
    request_stop();
    if (thread_.joinable()) thread_.join();
}

bool BackgroundLoop::running() const {
    std::lock_guard lk(mu_);
    return running_;
}

std::string BackgroundLoop::error() const {
    std::lock_guard lk(mu_);
    return error_;
}

void stop_all_loops() {
    std::unique_lock lk(g_mu);
    for (BackgroundLoop* loop : g_loops)
        loop->request_stop();
    // Loops leave the registry as their threads end; a handler that never returns is not
    // waited for forever.
    g_cv.wait_for(lk, std::chrono::seconds(30), [] { return g_loops.empty(); });
}

void bind_runtime(py::module_& m) {
    m.def(
        "stop_all", [] { stop_all_loops(); }, py::call_guard<py::gil_scoped_release>(),
        "Stops every running embedded broker and worker (used at interpreter exit).");
}

} // namespace rc::py_bindings
