// Slot threads: receive a Job pointer, run its handler, send the pointer back. A null
// pointer tells the thread to exit.
#include "executor.hpp"

#include <atomic>
#include <cstring>

namespace rc::worker {

namespace {
std::atomic<int> g_executor_id{0};

double wall_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void send_ptr(zmq::socket_t& s, Job* job) {
    s.send(zmq::buffer(&job, sizeof job), zmq::send_flags::none);
}

Job* recv_ptr(zmq::socket_t& s) {
    zmq::message_t m;
    if (!s.recv(m) || m.size() != sizeof(Job*)) return nullptr;
    Job* job = nullptr;
    std::memcpy(&job, m.data(), sizeof job);
    return job;
}
} // namespace

void execute(Job& job) {
    job.started_at = wall_now();
    if (!job.handler) {
        job.out = HandlerOutput::failed("no handler for task type '" + job.ctx.task_type + "'");
    } else {
        try {
            job.out = (*job.handler)(job.ctx);
        } catch (const std::exception& e) {
            job.out = HandlerOutput::failed(std::string("handler raised: ") + e.what());
        } catch (...) {
            job.out = HandlerOutput::failed("handler raised a non-standard exception");
        }
    }
    job.finished_at = wall_now();
}

void Executor::slot_main(zmq::context_t& ctx, std::string addr) {
    zmq::socket_t sock(ctx, zmq::socket_type::pair);
    sock.set(zmq::sockopt::linger, 0);
    sock.connect(addr);
    for (;;) {
        Job* job = nullptr;
        try {
            job = recv_ptr(sock);
        } catch (const zmq::error_t&) {
            return; // context terminated
        }
        if (!job) return;
        execute(*job);
        send_ptr(sock, job);
    }
}

Executor::Executor(zmq::context_t& ctx, unsigned slots) {
    int id = g_executor_id++;
    slots_.resize(std::max(1u, slots));
    for (unsigned i = 0; i < slots_.size(); ++i) {
        std::string addr = "inproc://rc-exec-" + std::to_string(id) + "-" + std::to_string(i);
        slots_[i].sock = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::pair);
        slots_[i].sock->set(zmq::sockopt::linger, 0);
        slots_[i].sock->bind(addr);
        slots_[i].thread = std::thread(&Executor::slot_main, std::ref(ctx), addr);
    }
}

Executor::~Executor() {
    for (auto& s : slots_) {
        // Wait for a running handler to come back before telling the thread to exit.
        if (s.busy) std::unique_ptr<Job>(recv_ptr(*s.sock));
        send_ptr(*s.sock, nullptr);
    }
    for (auto& s : slots_)
        if (s.thread.joinable()) s.thread.join();
}

std::optional<unsigned> Executor::idle_slot() const {
    for (unsigned i = 0; i < slots_.size(); ++i)
        if (!slots_[i].busy) return i;
    return std::nullopt;
}

void Executor::start(unsigned i, std::unique_ptr<Job> job) {
    slots_[i].busy = true;
    send_ptr(*slots_[i].sock, job.release());
}

std::unique_ptr<Job> Executor::collect(unsigned i) {
    std::unique_ptr<Job> job(recv_ptr(*slots_[i].sock));
    slots_[i].busy = false;
    return job;
}

} // namespace rc::worker
