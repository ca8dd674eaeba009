// BrokerCore: event entry points, the task lifecycle (dispatch, retry, finish), timers
// and result waiters. Per-command handlers live in handlers_worker.cpp and
// handlers_client.cpp; stats in stats.cpp.
#include "core.hpp"

#include <algorithm>
#include <cmath>

#include "common/log.hpp"

namespace rc::broker {

namespace {
constexpr const char* kLog = "broker";

std::chrono::milliseconds to_ms(double seconds) {
    return std::chrono::milliseconds(std::max<std::int64_t>(1, std::llround(seconds * 1000.0)));
}
} // namespace

BrokerCore::BrokerCore(BrokerConfig cfg, std::uint64_t epoch, Now now)
    : cfg_(std::move(cfg)), epoch_(epoch), scheduler_(cfg_.scheduler) {
    // A queue entry is live while its task still exists and is queued under that seq.
    scheduler_.set_liveness_check(
        [](const void* ctx, TaskRef ref, std::uint64_t seq) {
            const auto* t = static_cast<const BrokerCore*>(ctx)->tasks_.get(ref);
            return t && t->status == TaskStatus::Queued && t->queue_seq == seq;
        },
        this);
    started_ = now.mono;
    started_wall_ = now.wall;
    next_check_ = now.mono + cfg_.heartbeat / 2;
}

void BrokerCore::on_message(proto::Inbound in, Now now) {
    std::visit(
        [&](auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, proto::WorkerMsg>) on_worker(in.from, m, now);
            else on_client(in.from, m, now);
        },
        in.msg);
}

void BrokerCore::on_decode_error(const RoutingId& from, const codec::DecodeError& e, Now now) {
    using proto::ErrorCode;
    switch (e.code) {
    case ErrorCode::UnknownCommand: ++counters_.unknown_command; break;
    case ErrorCode::BadBody: ++counters_.bad_body; break;
    case ErrorCode::TooLarge: ++counters_.too_large; break;
    default: ++counters_.malformed; break;
    }
    RC_WARN(kLog, "rejected message from " << to_hex(from.value) << ": " << proto::to_string(e.code)
                                           << ": " << e.message);
    if (e.peer == proto::Peer::Worker) {
        disconnect_peer(from, std::string(proto::to_string(e.code)), e.message);
        if (auto d = registry_.by_route(from)) drop_worker(*d, DropReason::ProtocolViolation, now);
        return;
    }
    reply_error(from, e.req, e.code, e.message);
}

void BrokerCore::on_too_large(const RoutingId& from, std::size_t size, Now now) {
    codec::DecodeError e{proto::ErrorCode::TooLarge,
                         "message of " + std::to_string(size) + " bytes exceeds the limit of " +
                             std::to_string(cfg_.max_message_bytes),
                         registry_.by_route(from) ? proto::Peer::Worker : proto::Peer::Client, 0};
    on_decode_error(from, e, now);
}

void BrokerCore::on_unroutable(const RoutingId& to, Now now) {
    if (auto d = registry_.by_route(to)) {
        RC_WARN(kLog, "device " << registry_.at(*d).device_id.value << " is unreachable");
        drop_worker(*d, DropReason::Unroutable, now);
    }
}

// ------------------------------------------------------------------ lifecycle

bool BrokerCore::transition(TaskRecord& t, TaskEvent e, Now now) {
    auto next = next_state(t.status, e);
    if (!next) {
        RC_ERROR(kLog, "illegal transition of task " << t.id.view() << ": " << to_string(t.status)
                                                     << " on " << to_string(e));
        return false;
    }
    --by_status_[static_cast<size_t>(t.status)];
    ++by_status_[static_cast<size_t>(*next)];
    if (t.status == TaskStatus::Queued) --queued_by_priority_[static_cast<size_t>(t.priority)];
    if (*next == TaskStatus::Queued) ++queued_by_priority_[static_cast<size_t>(t.priority)];
    t.status = *next;
    t.updated_at = now.wall;
    mark_dirty(TaskRef{t.idx, t.gen}, t);
    return true;
}

void BrokerCore::enqueue(TaskRef ref, TaskRecord& t) {
    t.queue_seq = next_seq_++;
    scheduler_.enqueue(t.cls, t.priority, t.queue_seq, ref);
}

void BrokerCore::dispatch(Now now) {
    while (auto a = scheduler_.next()) {
        auto& w = registry_.at(a->device);
        TaskRecord* t = tasks_.get(a->task);
        if (!t || !transition(*t, TaskEvent::Assign, now)) {
            scheduler_.set_running(a->device, static_cast<std::uint32_t>(w.leases.size()));
            continue;
        }
        LeaseId lease{next_lease_++};
        t->queue_seq = 0;
        t->attempts++;
        t->lease = lease;
        t->device = a->device;
        if (t->more) t->more->reason.clear();
        auto timeout = to_ms(static_cast<double>(t->timeout_s));
        // Beyond its slots the task waits in the worker's prefetch queue: its lease first
        // allows twice the timeout, and restarts at the full timeout on STARTED.
        auto deadline = now.mono + (w.leases.size() >= w.slots ? 2 * timeout : timeout);
        leases_.emplace(lease.value, Lease{a->task, a->device, deadline, true});
        lease_deadlines_.emplace(deadline, lease.value);
        w.leases.insert(lease.value);
        ++counters_.dispatched;
        const std::string& type = scheduler_.task_type(t->cls);
        RC_DEBUG(kLog, "dispatch " << t->id.view() << " (" << type << ", attempt " << t->attempts
                                   << ") to " << w.device_id.value
                                   << (a->by_affinity ? " by affinity" : ""));
        auto& batch = outgoing_tasks_[a->device];
        if (batch.empty()) outgoing_devices_.push_back(a->device);
        batch.push_back(proto::TaskAssign{t->task_id(), lease, type, t->payload.str(), t->view().metadata, t->attempts,
                                          static_cast<std::uint32_t>(timeout.count())});
    }
    // One message per worker per pass: TASK for one task, TASKS for several.
    for (DevIdx dev : outgoing_devices_) {
        auto& tasks = outgoing_tasks_[dev];
        if (tasks.size() == 1) send_worker(dev, std::move(tasks.front()), now);
        else send_worker(dev, proto::TaskBatch{std::move(tasks)}, now);
        tasks.clear();
    }
    outgoing_devices_.clear();
}

void BrokerCore::attempt_failed(TaskRef ref, TaskRecord& t, TaskStatus final_status,
                                std::string word, std::string error, bool at_once, Now now) {
    std::string device = t.device != kNoDevice ? registry_.at(t.device).device_id.value : "";
    t.detail().attempt_errors.push_back(AttemptError{t.attempts, word, error, device});
    t.lease = LeaseId{};
    if (t.attempts <= static_cast<std::uint32_t>(t.max_retries)) {
        if (!transition(t, TaskEvent::Requeue, now)) return;
        ++counters_.retried;
        if (at_once) {
            t.detail().reason = "requeued after " + word + ": " + error;
            enqueue(ref, t);
        } else {
            auto delay = cfg_.retry_backoff * (1LL << std::min<std::uint32_t>(t.attempts - 1, 20));
            delay = std::min<std::chrono::milliseconds>(delay, cfg_.retry_backoff_max);
            t.detail().ready_at = now.mono + delay;
            t.detail().reason = "retry " + std::to_string(t.attempts + 1) + " waits " +
                       std::to_string(delay.count()) + " ms after " + word + ": " + error;
            backoff_.emplace(t.detail().ready_at, ref);
        }
        RC_INFO(kLog, "task " << t.id.view() << " attempt " << t.attempts << " " << word << " ("
                              << error << "); retrying");
        return;
    }
    t.detail().error = std::move(error);
    t.detail().reason = word;
    finish(ref, t, final_status == TaskStatus::Timeout ? TaskEvent::TimeOut : TaskEvent::Fail, now);
}

void BrokerCore::finish(TaskRef ref, TaskRecord& t, TaskEvent e, Now now) {
    if (!transition(t, e, now)) return;
    t.detail().completed_at = now.wall;
    t.payload.clear(); // never dispatched again; results may be kept for an hour
    --active_;
    switch (t.status) {
    case TaskStatus::Success:
        ++counters_.succeeded;
        if (t.device != kNoDevice) scheduler_.note_ran(scheduler_.task_type(t.cls), t.device);
        break;
    case TaskStatus::Failed: ++counters_.failed; break;
    case TaskStatus::Timeout: ++counters_.timed_out; break;
    case TaskStatus::Cancelled: ++counters_.cancelled; break;
    default: break;
    }
    if (throughput_.empty() || now.mono - throughput_.back().first >= std::chrono::seconds(1))
        throughput_.emplace_back(now.mono, 0);
    ++throughput_.back().second;
    retention_.emplace_back(now.mono, ref);
    RC_DEBUG(kLog, "task " << t.id.view() << " " << to_string(t.status)
                           << (t.view().error.empty() ? "" : ": " + t.view().error));
    notify_waiters(t);
}

// ------------------------------------------------------------------ timers

TimePoint BrokerCore::next_deadline() const {
    TimePoint d = next_check_;
    if (!lease_deadlines_.empty()) d = std::min(d, lease_deadlines_.top().first);
    if (!backoff_.empty()) d = std::min(d, backoff_.begin()->first);
    if (!waiter_deadlines_.empty()) d = std::min(d, waiter_deadlines_.top().first);
    if (!retention_.empty()) d = std::min(d, retention_.front().first + cfg_.result_ttl);
    if (!unclaimed_.empty()) d = std::min(d, recovery_deadline_);
    return d;
}

void BrokerCore::on_tick(Now now) {
    if (now.mono >= next_check_) {
        check_workers(now);
        next_check_ = now.mono + cfg_.heartbeat / 2;
        while (!throughput_.empty() && now.mono - throughput_.front().first > std::chrono::seconds(10))
            throughput_.pop_front();
    }
    expire_leases(now);
    release_backoffs(now);
    expire_waiters(now);
    purge_results(now);
    requeue_unclaimed(now);
}

void BrokerCore::before_sleep(Now now) {
    dispatch(now);
    for (DevIdx d : dirty_acks_) {
        auto& w = registry_.at(d);
        if (w.state == WorkerState::Online && !w.pending_acks.empty()) {
            proto::Ack ack{std::move(w.pending_acks), {}};
            // Epochs travel only when a result of an earlier broker epoch is acknowledged.
            if (std::any_of(w.pending_ack_epochs.begin(), w.pending_ack_epochs.end(),
                            [&](std::uint64_t e) { return e != epoch_; }))
                ack.epochs = std::move(w.pending_ack_epochs);
            send_worker(d, std::move(ack), now);
        }
        w.pending_acks.clear();
        w.pending_ack_epochs.clear();
    }
    dirty_acks_.clear();
}

void BrokerCore::expire_leases(Now now) {
    while (!lease_deadlines_.empty() && lease_deadlines_.top().first <= now.mono) {
        auto id = lease_deadlines_.top().second;
        lease_deadlines_.pop();
        auto it = leases_.find(id);
        if (it == leases_.end() || !it->second.live || it->second.deadline > now.mono) continue;
        Lease& l = it->second;
        l.live = false; // the slot stays held until the worker reports back or goes away
        TaskRecord* t = tasks_.get(l.task);
        auto& w = registry_.at(l.device);
        if (w.state == WorkerState::Online)
            send_worker(l.device, cancel_msg(l, id, t ? t->task_id() : TaskId{}, "timeout"), now);
        if (t && t->lease.value == id &&
            (t->status == TaskStatus::Assigned || t->status == TaskStatus::Running)) {
            std::ostringstream msg;
            msg << "task exceeded its timeout of " << t->timeout_s << " s";
            attempt_failed(l.task, *t, TaskStatus::Timeout, "timeout", msg.str(), false, now);
        }
    }
}

void BrokerCore::release_backoffs(Now now) {
    while (!backoff_.empty() && backoff_.begin()->first <= now.mono) {
        TaskRef ref = backoff_.begin()->second;
        backoff_.erase(backoff_.begin());
        TaskRecord* t = tasks_.get(ref);
        if (t && t->status == TaskStatus::Queued && t->queue_seq == 0) enqueue(ref, *t);
    }
}

void BrokerCore::purge_results(Now now) {
    while (!retention_.empty() && (retention_.front().first + cfg_.result_ttl <= now.mono ||
                                   retention_.size() > cfg_.max_results)) {
        TaskRef ref = retention_.front().second;
        retention_.pop_front();
        TaskRecord* t = tasks_.get(ref);
        if (!t || !is_terminal(t->status)) continue;
        --by_status_[static_cast<size_t>(t->status)];
        scheduler_.release_class(t->cls);
        if (cfg_.durable) deleted_.push_back(t->id.str());
        tasks_.erase(ref);
    }
}

void BrokerCore::check_workers(Now now) {
    std::vector<DevIdx> online;
    online.reserve(registry_.online().size());
    for (const auto& [_, d] : registry_.online()) online.push_back(d);
    for (DevIdx d : online) {
        auto& w = registry_.at(d);
        if (now.mono >= w.expiry) {
            RC_WARN(kLog, "device " << w.device_id.value << " missed its heartbeats ("
                                    << w.heartbeat.count() << " ms x " << cfg_.liveness << ")");
            drop_worker(d, DropReason::HeartbeatExpired, now);
        } else if (now.mono - w.last_sent >= w.heartbeat) {
            send_worker(d, proto::Heartbeat{epoch_, std::nullopt}, now);
        }
    }
}

// ------------------------------------------------------------------ result waiters

void BrokerCore::park(std::uint64_t wid, Waiter& w) {
    w.refs.clear();
    w.refs.reserve(w.ids.size());
    w.remaining = 0;
    for (const auto& id : w.ids) {
        auto ref = tasks_.find(id.value);
        w.refs.push_back(ref);
        TaskRecord* t = ref ? tasks_.get(*ref) : nullptr;
        if (t && !is_terminal(t->status)) {
            t->detail().waiters.push_back(wid);
            ++w.remaining;
        }
    }
}

void BrokerCore::notify_waiters(TaskRecord& t) {
    if (!t.more || t.more->waiters.empty()) return;
    auto wids = std::move(t.more->waiters);
    t.more->waiters.clear();
    for (auto wid : wids) {
        auto it = waiters_.find(wid);
        if (it == waiters_.end()) continue;
        if (it->second.remaining > 0) --it->second.remaining;
        if (it->second.any || it->second.remaining == 0) answer_waiter(wid);
    }
}

void BrokerCore::answer_waiter(std::uint64_t wid) {
    auto it = waiters_.find(wid);
    if (it == waiters_.end()) return;
    Waiter w = std::move(it->second);
    waiters_.erase(it);
    // Unparks it from tasks still running, so repeated waits never pile up.
    auto unpark = [wid](TaskRecord& t) {
        if (!t.more) return;
        auto& v = t.more->waiters;
        v.erase(std::remove(v.begin(), v.end(), wid), v.end());
    };
    if (w.submit) {
        proto::SubmitReply s;
        s.req = w.req;
        s.task_ids = w.ids;
        for (const auto& ref : w.refs) {
            TaskRecord* t = ref ? tasks_.get(*ref) : nullptr;
            if (!t) continue;
            if (is_terminal(t->status)) s.results.push_back(result_of(*t));
            else unpark(*t);
        }
        proto::Outbound out{w.client, proto::ClientReply(std::move(s))};
        if (w.durable_seq > durable_seq_) held_.emplace_back(w.durable_seq, std::move(out));
        else outbox_.push_back(std::move(out));
        return;
    }
    proto::ResultReply r;
    r.req = w.req;
    for (std::size_t i = 0; i < w.ids.size(); ++i) {
        TaskRecord* t = w.refs[i] ? tasks_.get(*w.refs[i]) : nullptr;
        if (!t) {
            r.unknown.push_back(std::move(w.ids[i]));
        } else if (is_terminal(t->status)) {
            r.results.push_back(result_of(*t));
        } else {
            r.pending.push_back(std::move(w.ids[i]));
            unpark(*t);
        }
    }
    reply(w.client, std::move(r));
}

void BrokerCore::expire_waiters(Now now) {
    while (!waiter_deadlines_.empty() && waiter_deadlines_.top().first <= now.mono) {
        auto wid = waiter_deadlines_.top().second;
        waiter_deadlines_.pop();
        answer_waiter(wid);
    }
}

void BrokerCore::shutdown(Now now) {
    std::vector<std::uint64_t> wids;
    for (const auto& [id, _] : waiters_) wids.push_back(id);
    for (auto id : wids) answer_waiter(id);
    // SUBMITs whose tasks were never written are not acknowledged as accepted.
    for (auto& [seq, msg] : held_) {
        std::uint64_t req = std::visit([](const auto& r) { return r.req; }, std::get<proto::ClientReply>(msg.msg));
        reply_error(msg.to, req, proto::ErrorCode::ShuttingDown,
                    "the broker stopped before these tasks were stored; submit them again with the same task_ids");
    }
    held_.clear();
    std::vector<DevIdx> online;
    for (const auto& [_, d] : registry_.online()) online.push_back(d);
    for (DevIdx d : online) {
        send_worker(d, proto::Disconnect{"shutdown", "broker is shutting down"}, now);
        registry_.set_offline(d, DropReason::Shutdown);
    }
}

// ------------------------------------------------------------------ views

const TaskRecord* BrokerCore::task(const std::string& id) const {
    auto ref = tasks_.find(id);
    return ref ? tasks_.get(*ref) : nullptr;
}

TaskResult BrokerCore::result_of(const TaskRecord& t) const {
    TaskResult r;
    r.task_id = t.task_id();
    r.status = t.status;
    const TaskDetail& d = t.view();
    r.result_data = d.result;
    r.error_message = d.error;
    r.device_id = t.device != kNoDevice ? registry_.at(t.device).device_id.value : "";
    r.attempts = t.attempts;
    r.execution_time = d.exec_time;
    r.created_at = t.created_at;
    r.started_at = d.started_at;
    r.completed_at = d.completed_at;
    r.attempt_errors = d.attempt_errors;
    return r;
}

proto::TaskInfo BrokerCore::info_of(const TaskRecord& t) const {
    proto::TaskInfo i;
    i.task_id = t.task_id();
    i.task_type = scheduler_.task_type(t.cls);
    i.status = t.status;
    i.priority = t.priority;
    i.attempts = t.attempts;
    i.device_id = t.device != kNoDevice ? registry_.at(t.device).device_id.value : "";
    i.reason = queued_reason(t);
    i.created_at = t.created_at;
    i.updated_at = t.updated_at;
    return i;
}

std::string BrokerCore::queued_reason(const TaskRecord& t) const {
    if (t.status != TaskStatus::Queued || t.queue_seq == 0) {
        if (t.status == TaskStatus::Failed || t.status == TaskStatus::Timeout) return t.view().error;
        return t.view().reason;
    }
    std::unordered_map<DevIdx, std::string> names;
    for (const auto& [_, d] : registry_.online()) names.emplace(d, registry_.at(d).device_id.value);
    auto why = scheduler_.explain(t.cls, names);
    if (!t.view().reason.empty()) why = t.view().reason + "; now " + why;
    return why;
}


} // namespace rc::broker
