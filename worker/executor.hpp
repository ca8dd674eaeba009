// Executor: runs handlers on slot threads so the agent loop keeps heartbeating. The agent
// talks to each slot over an inproc PAIR socket, passing ownership of a Job pointer each
// way; no locks are shared (the CancelToken's atomic flag is the one shared datum).
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "handler.hpp"

namespace rc::worker {

struct Job {
    TaskContext ctx;
    std::shared_ptr<CancelToken> token;
    LeaseId lease;
    std::uint64_t epoch = 0;
    const Handler* handler = nullptr; // null: no handler, fail without running
    HandlerOutput out;
    double started_at = 0, finished_at = 0; // unix seconds
};

// Runs job.handler (or fails the job when it has none), filling out/started_at/finished_at.
// Never throws: a handler's exception becomes a Failed output.
void execute(Job& job);

class Executor {
public:
    Executor(zmq::context_t& ctx, unsigned slots);
    ~Executor(); // requests stop, cancels running handlers' tokens via the agent, joins threads
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    [[nodiscard]] unsigned slots() const { return static_cast<unsigned>(slots_.size()); }
    [[nodiscard]] bool idle(unsigned i) const { return !slots_[i].busy; }
    [[nodiscard]] std::optional<unsigned> idle_slot() const;
    // The agent-side socket of slot i, for polling.
    [[nodiscard]] zmq::socket_t& socket(unsigned i) { return *slots_[i].sock; }
    // Starts `job` on idle slot i.
    void start(unsigned i, std::unique_ptr<Job> job);
    // Takes the finished job from slot i after its socket polled readable.
    std::unique_ptr<Job> collect(unsigned i);

private:
    struct Slot {
        std::unique_ptr<zmq::socket_t> sock;
        std::thread thread;
        bool busy = false;
    };
    static void slot_main(zmq::context_t& ctx, std::string addr);
    std::vector<Slot> slots_;
};

} // namespace rc::worker
