// The worker's agent: one DEALER link to the broker, driven by a single-threaded poll
// loop. It registers (READY/WELCOME), heartbeats, hands tasks to the executor, reports
// STARTED and RESULT, keeps results until the broker acknowledges them, and reconnects on
// a fresh socket with exponential backoff and jitter when the broker goes away.
#include <deque>
#include <map>
#include <random>
#include <unordered_map>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/client.hpp"
#include "common/clock.hpp"
#include "common/codec.hpp"
#include "common/log.hpp"
#include "executor.hpp"
#include "probe.hpp"
#include "worker.hpp"

namespace rc::worker {

namespace {
constexpr const char* kLog = "worker";
std::atomic<int> g_worker_id{0};
} // namespace

std::string_view to_string(LinkState s) {
    switch (s) {
    case LinkState::Disconnected: return "disconnected";
    case LinkState::AwaitingWelcome: return "awaiting_welcome";
    case LinkState::Registered: return "registered";
    case LinkState::Stopped: return "stopped";
    }
    return "?";
}

Worker::Worker(WorkerConfig cfg) : cfg_(std::move(cfg)) {
    auto ep = normalize_endpoint(cfg_.join);
    if (!ep) throw std::invalid_argument(ep.error());
    endpoint_ = ep.value();
    ProbeOptions po;
    po.check_internet = cfg_.check_internet;
    po.storage_path = cfg_.storage_path;
    caps_ = probe_capabilities(po);
    caps_.role = cfg_.role.empty() ? default_role(caps_.platform) : cfg_.role;
    caps_.tags = cfg_.tags;
    device_id_ = cfg_.device_id.empty() ? default_device_id() : cfg_.device_id;
    slots_ = cfg_.slots ? cfg_.slots : static_cast<unsigned>(std::max(1, caps_.cpu_cores));
    if (cfg_.builtin_handlers) {
        add_builtin_handlers(handlers_, caps_, cfg_.storage_path);
        add_outside_handlers(handlers_, cfg_.outside);
    }
    ctx_ = std::make_shared<zmq::context_t>(1);
    control_addr_ = "inproc://rc-worker-control-" + std::to_string(g_worker_id++);
}

Worker::~Worker() = default;

void Worker::stop() {
    stop_ = true;
    try {
        zmq::socket_t s(*std::static_pointer_cast<zmq::context_t>(ctx_), zmq::socket_type::pair);
        s.set(zmq::sockopt::linger, 0);
        s.connect(control_addr_);
        s.send(zmq::buffer(std::string_view("x")), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
    }
}

class Agent {
public:
    Agent(Worker& w, zmq::context_t& ctx)
        : w_(w), ctx_(ctx), control_(ctx, zmq::socket_type::pair), exec_(ctx, w.slots_),
          sampler_(w.cfg_.storage_path), rng_(std::random_device{}()) {
        control_.bind(w.control_addr_);
        hb_ = w.cfg_.heartbeat;
        backoff_ = w.cfg_.backoff_initial;
    }

    void run(const std::atomic<bool>* external_stop) {
        RC_INFO(kLog, "device " << w_.device_id_ << " joining " << w_.endpoint_ << " with " << w_.slots_
                                << " slot(s), role " << w_.caps_.role);
        connect(Clock::now());
        auto stopping = [&] { return w_.stop_.load() || (external_stop && external_stop->load()); };
        while (!stopping()) {
            TimePoint now = Clock::now();
            // Round up: a deadline 0.4 ms away must not become a zero-timeout poll (a spin).
            auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_deadline(now) - now);
            wait = std::clamp(wait, std::chrono::milliseconds(0), std::chrono::milliseconds(1000));
            std::vector<zmq::pollitem_t> items;
            items.push_back({control_.handle(), 0, ZMQ_POLLIN, 0});
            for (unsigned i = 0; i < exec_.slots(); ++i) items.push_back({exec_.socket(i).handle(), 0, ZMQ_POLLIN, 0});
            if (dealer_) items.push_back({dealer_->handle(), 0, ZMQ_POLLIN, 0});
            try {
                zmq::poll(items.data(), items.size(), wait);
            } catch (const zmq::error_t& e) {
                if (e.num() == EINTR) continue;
                throw;
            }
            now = Clock::now();
            if (items[0].revents & ZMQ_POLLIN) {
                zmq::message_t m;
                (void)control_.recv(m, zmq::recv_flags::dontwait);
            }
            for (unsigned i = 0; i < exec_.slots(); ++i)
                if (items[1 + i].revents & ZMQ_POLLIN) job_done(i);
            if (dealer_ && (items.back().revents & ZMQ_POLLIN)) drain(now);
            flush_results(now);
            timers(now);
        }
        shutdown();
    }

private:
    struct Running {
        TaskId task_id;
        std::shared_ptr<CancelToken> token;
        TimePoint deadline;
        std::uint64_t epoch = 0;
        bool started = false; // reported STARTED
        TimePoint began{};
    };

    TimePoint next_deadline(TimePoint now) const {
        TimePoint d = now + std::chrono::seconds(1);
        if (state() == LinkState::Disconnected) d = std::min(d, reconnect_at_);
        if (state() == LinkState::AwaitingWelcome) d = std::min(d, welcome_deadline_);
        if (state() == LinkState::Registered) {
            d = std::min(d, last_send_ + hb_);
            d = std::min(d, last_recv_ + hb_ * liveness_);
            if (!unstarted_.empty()) d = std::min(d, unstarted_.front().second + kStartedDelay);
            // (finished leases are dropped from unstarted_ in complete(), so this wakes the
            // loop only for tasks that are still running)
        }
        for (const auto& [_, r] : running_)
            if (!r.token->stop_requested()) d = std::min(d, r.deadline);
        return d;
    }

    LinkState state() const { return w_.state_.load(); }
    void set_state(LinkState s) { w_.state_ = s; }

    void send(const proto::WorkerMsg& msg, TimePoint now) {
        if (!dealer_) return;
        auto frames = codec::encode_from_worker(msg);
        if (!zmq::send_multipart(*dealer_, frames, zmq::send_flags::dontwait))
            RC_WARN(kLog, "send queue full; message dropped");
        last_send_ = now;
    }

    void connect(TimePoint now) {
        dealer_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
        dealer_->set(zmq::sockopt::linger, 0);
        // While the broker is away the transport retries at most one heartbeat apart, so a
        // restarted broker hears this READY within one heartbeat of listening again.
        int hb_ms = static_cast<int>(std::max<std::int64_t>(hb_.count(), 10));
        dealer_->set(zmq::sockopt::reconnect_ivl, std::min(100, hb_ms));
        dealer_->set(zmq::sockopt::reconnect_ivl_max, hb_ms);
        dealer_->set(zmq::sockopt::sndhwm, 100000);
        dealer_->set(zmq::sockopt::rcvhwm, 100000);
        dealer_->connect(w_.endpoint_);
        proto::Ready r;
        r.device_id = DeviceId(w_.device_id_);
        r.caps = w_.caps_;
        r.handlers = w_.handlers_.names();
        r.slots = w_.slots_;
        r.prefetch = w_.cfg_.prefetch;
        r.heartbeat_ms = static_cast<std::uint32_t>(w_.cfg_.heartbeat.count());
        r.instance = instance_;
        for (const auto& [key, run] : running_) r.running.push_back({run.task_id, LeaseId{key.second}, key.first});
        send(r, now);
        set_state(LinkState::AwaitingWelcome);
        // While we wait, the READY stays queued in the socket and goes out the moment the
        // broker is reachable; the deadline only decides when to start over.
        welcome_deadline_ = now + jittered(backoff_);
        RC_DEBUG(kLog, "READY sent to " << w_.endpoint_);
    }

    std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
        std::uniform_real_distribution<double> j(0.8, 1.2);
        return std::chrono::milliseconds(static_cast<std::int64_t>(d.count() * j(rng_)));
    }

    // Drops the link and starts over on a fresh socket. The backoff is spent waiting for
    // WELCOME with READY already queued (connect()), so a broker that comes back is joined
    // at once; `pause` adds a wait before reconnecting, for when the broker asked us to
    // go away. Every reset doubles the next wait, up to backoff_max.
    void reconnect(TimePoint now, bool pause, std::string_view why) {
        RC_WARN(kLog, "link to broker reset: " << why);
        dealer_.reset();
        set_state(LinkState::Disconnected);
        reconnect_at_ = pause ? now + jittered(backoff_) : now;
        backoff_ = std::min(backoff_ * 2, w_.cfg_.backoff_max);
    }

    void drain(TimePoint now) {
        for (int n = 0; n < 4096 && dealer_; ++n) {
            codec::Frames frames;
            if (!zmq::recv_multipart(*dealer_, std::back_inserter(frames), zmq::recv_flags::dontwait)) return;
            last_recv_ = now;
            auto msg = codec::decode_at_worker(frames);
            if (!msg) {
                RC_WARN(kLog, "undecodable message from broker: " << msg.error().message);
                continue;
            }
            std::visit([&](auto& m) { on(m, now); }, msg.value());
        }
    }

    void on(proto::Welcome& m, TimePoint now) {
        bool restarted = epoch_ != 0 && epoch_ != m.epoch;
        epoch_ = m.epoch;
        hb_ = std::chrono::milliseconds(std::max<std::uint32_t>(m.heartbeat_ms, 10));
        liveness_ = std::max<std::uint32_t>(m.liveness, 2);
        backoff_ = w_.cfg_.backoff_initial;
        max_message_bytes_ = m.max_message_bytes;
        set_state(LinkState::Registered);
        RC_INFO(kLog, "registered with broker (epoch " << m.epoch << (restarted ? ", restarted" : "")
                                                       << ", heartbeat " << hb_.count() << " ms)");
        for (const auto& [_, res] : unacked_) send(res, now); // re-send unacknowledged results
    }

    void on(proto::TaskAssign& m, TimePoint now) {
        auto job = std::make_unique<Job>();
        job->token = std::make_shared<CancelToken>();
        job->ctx.task_id = m.task_id;
        job->ctx.task_type = m.task_type;
        job->ctx.payload = std::move(m.payload);
        job->ctx.attempt = m.attempt;
        job->ctx.timeout = std::chrono::milliseconds(m.timeout_ms);
        job->ctx.cancel = job->token.get();
        job->lease = m.lease;
        job->epoch = epoch_;
        job->handler = w_.handlers_.find(m.task_type);
        if (!job->handler)
            RC_WARN(kLog, "no handler for task type '" << m.task_type << "' (task " << m.task_id.value << ")");
        if (!job->handler || w_.handlers_.is_inline(m.task_type)) {
            execute(*job); // a failure without a handler, or a handler that never blocks
            return complete(std::move(job), now);
        }
        running_[{epoch_, m.lease.value}] = Running{m.task_id, job->token, TimePoint::max(), epoch_, false, now};
        if (auto slot = exec_.idle_slot()) start(*slot, std::move(job), now, false);
        else waiting_.push_back(std::move(job)); // prefetched: waits for a slot
    }

    // The task's timeout runs from here. A task that waited for a slot is reported as
    // started at once, so the broker restarts its lease from now too.
    void start(unsigned slot, std::unique_ptr<Job> job, TimePoint now, bool waited) {
        LeaseKey key{job->epoch, job->lease.value};
        if (auto it = running_.find(key); it != running_.end() && job->ctx.timeout.count() > 0)
            it->second.deadline = now + job->ctx.timeout;
        unstarted_.emplace_back(key, waited ? now - kStartedDelay : now);
        exec_.start(slot, std::move(job));
    }

    void on(proto::TaskBatch& m, TimePoint now) {
        for (auto& t : m.tasks) on(t, now);
    }

    void on(proto::CancelLease& m, TimePoint) {
        auto it = running_.find({m.epoch ? m.epoch : epoch_, m.lease.value});
        if (it == running_.end()) return;
        RC_INFO(kLog, "cancel task " << m.task_id.value << " (" << m.reason << ")");
        it->second.token->request(m.reason == "timeout" ? CancelToken::Why::Timeout : CancelToken::Why::Cancelled);
    }

    void on(proto::Heartbeat& m, TimePoint now) {
        if (m.epoch != 0 && epoch_ != 0 && m.epoch != epoch_) reconnect(now, false, "broker restarted (new epoch)");
    }

    void on(proto::Ack& m, TimePoint) {
        // Each acknowledged lease belongs to the epoch listed beside it, or to this one.
        for (std::size_t i = 0; i < m.leases.size(); ++i)
            unacked_.erase({i < m.epochs.size() && m.epochs[i] ? m.epochs[i] : epoch_, m.leases[i].value});
    }

    void on(proto::Disconnect& m, TimePoint now) {
        std::string why = "broker sent DISCONNECT: " + m.reason + (m.message.empty() ? "" : " (" + m.message + ")");
        if (m.reason == "unknown_worker") {
            // The broker restarted or forgot us: re-register at once.
            backoff_ = w_.cfg_.backoff_initial;
            return reconnect(now, false, why);
        }
        if (m.reason == "device_id_in_use") RC_ERROR(kLog, why);
        if (m.reason == "shutdown") backoff_ = w_.cfg_.backoff_initial;
        reconnect(now, true, why);
    }

    void job_done(unsigned slot) {
        auto job = exec_.collect(slot);
        if (!job) return;
        TimePoint now = Clock::now();
        complete(std::move(job), now);
        if (!waiting_.empty()) {
            start(slot, std::move(waiting_.front()), now, true);
            waiting_.pop_front();
        }
    }

    // Reports a finished job and keeps its result until the broker acknowledges it.
    void complete(std::unique_ptr<Job> job, TimePoint now) {
        running_.erase({job->epoch, job->lease.value});
        while (!unstarted_.empty() && !running_.count(unstarted_.front().first)) unstarted_.pop_front();
        proto::WorkResult r;
        r.task_id = job->ctx.task_id;
        r.lease = job->lease;
        r.epoch = job->epoch;
        r.status = job->out.status;
        r.result = std::move(job->out.result);
        r.error = std::move(job->out.error);
        r.started_at = job->started_at;
        r.finished_at = job->finished_at;
        if (r.error.size() > kMaxErrorBytes) {
            std::size_t cut = kMaxErrorBytes;
            while (cut > 0 && (static_cast<unsigned char>(r.error[cut]) & 0xC0) == 0x80) --cut; // not mid-character
            r.error.resize(cut);
        }
        if (max_message_bytes_ && r.result.size() + r.error.size() + 1024 > max_message_bytes_) {
            // The broker would refuse the message; report why instead of the result.
            r.status = TaskStatus::Failed;
            r.error = "result of " + std::to_string(r.result.size()) + " bytes exceeds the broker's limit of " +
                      std::to_string(max_message_bytes_) + " bytes";
            r.result.clear();
        }
        RC_DEBUG(kLog, "task " << r.task_id.value << " " << to_string(r.status));
        if (state() == LinkState::Registered) outgoing_.push_back(r);
        unacked_.insert_or_assign(LeaseKey{r.epoch, r.lease.value}, std::move(r));
        (void)now;
    }

    // Results of this pass go out together: RESULT for one, RESULTS for several.
    void flush_results(TimePoint now) {
        if (outgoing_.empty()) return;
        if (state() == LinkState::Registered) {
            if (outgoing_.size() == 1) send(std::move(outgoing_.front()), now);
            else send(proto::WorkResults{std::move(outgoing_)}, now);
        }
        outgoing_.clear();
    }

    void timers(TimePoint now) {
        switch (state()) {
        case LinkState::Disconnected:
            if (now >= reconnect_at_) connect(now);
            break;
        case LinkState::AwaitingWelcome:
            if (now >= welcome_deadline_) reconnect(now, false, "no WELCOME from " + w_.endpoint_);
            break;
        case LinkState::Registered:
            if (now - last_recv_ > hb_ * liveness_) {
                reconnect(now, false, "broker silent for " + std::to_string(liveness_) + " heartbeats");
                break;
            }
            report_started(now);
            if (now - last_send_ >= hb_) send(proto::Heartbeat{0, sampler_.sample(static_cast<std::uint32_t>(running_.size()))}, now);
            break;
        case LinkState::Stopped: break;
        }
        for (auto& [_, r] : running_)
            if (now >= r.deadline) r.token->request(CancelToken::Why::Timeout);
    }

    // STARTED is sent only for tasks still running kStartedDelay after they began, so short
    // tasks cost one message (RESULT) instead of two.
    void report_started(TimePoint now) {
        if (unstarted_.empty() || unstarted_.front().second + kStartedDelay > now) return;
        proto::Started s;
        while (!unstarted_.empty() && unstarted_.front().second + kStartedDelay <= now) {
            auto key = unstarted_.front().first;
            unstarted_.pop_front();
            if (key.first == epoch_ && running_.count(key)) s.leases.push_back(LeaseId{key.second});
        }
        if (!s.leases.empty()) send(s, now);
    }

    void shutdown() {
        TimePoint now = Clock::now();
        RC_INFO(kLog, "stopping: " << running_.size() << " task(s) running");
        for (auto& [_, r] : running_) r.token->request(CancelToken::Why::Shutdown);
        for (auto& job : waiting_) running_.erase({job->epoch, job->lease.value});
        waiting_.clear();
        // Give running handlers a bounded time to stop, reporting what they return.
        auto deadline = now + std::chrono::seconds(5);
        while (!running_.empty() && Clock::now() < deadline) {
            std::vector<zmq::pollitem_t> items;
            for (unsigned i = 0; i < exec_.slots(); ++i) items.push_back({exec_.socket(i).handle(), 0, ZMQ_POLLIN, 0});
            try {
                zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
            } catch (const zmq::error_t&) {
            }
            for (unsigned i = 0; i < exec_.slots(); ++i)
                if (items[i].revents & ZMQ_POLLIN) job_done(i);
            flush_results(Clock::now());
        }
        if (state() == LinkState::Registered) send(proto::Disconnect{"shutdown", "worker stopping"}, Clock::now());
        if (dealer_) {
            // Let the final messages leave before the socket closes.
            dealer_->set(zmq::sockopt::linger, 1000);
            dealer_.reset();
        }
        set_state(LinkState::Stopped);
        RC_INFO(kLog, "stopped");
    }

    static constexpr std::chrono::milliseconds kStartedDelay{10};
    static constexpr std::size_t kMaxErrorBytes = 64 * 1024;

    Worker& w_;
    zmq::context_t& ctx_;
    zmq::socket_t control_;
    Executor exec_;
    std::unique_ptr<zmq::socket_t> dealer_;
    MetricsSampler sampler_;
    std::mt19937 rng_;
    std::uint64_t epoch_ = 0;
    std::uint64_t instance_ = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
    std::uint32_t max_message_bytes_ = 0;
    std::chrono::milliseconds hb_{1000};
    std::uint32_t liveness_ = 3;
    std::chrono::milliseconds backoff_{1000};
    TimePoint last_send_{}, last_recv_{}, welcome_deadline_{}, reconnect_at_{};
    // Lease ids restart with each broker epoch, so a lease is known by (epoch, lease).
    using LeaseKey = std::pair<std::uint64_t, std::uint64_t>;
    std::map<LeaseKey, Running> running_;
    std::deque<std::unique_ptr<Job>> waiting_;
    std::deque<std::pair<LeaseKey, TimePoint>> unstarted_;
    std::map<LeaseKey, proto::WorkResult> unacked_;
    std::vector<proto::WorkResult> outgoing_; // finished this pass, not yet sent
};

void Worker::run(const std::atomic<bool>* external_stop) {
    auto& ctx = *std::static_pointer_cast<zmq::context_t>(ctx_);
    stop_ = false;
    Agent agent(*this, ctx);
    agent.run(external_stop);
}

} // namespace rc::worker
