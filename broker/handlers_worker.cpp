// Worker-protocol handlers: the one dispatch point for RCW1 commands, one function per
// command, and what happens to a worker's leases when it goes away.
#include <algorithm>
#include <cmath>

#include "common/log.hpp"
#include "core.hpp"

namespace rc::broker {

namespace {
constexpr const char* kLog = "broker";

bool valid_device_id(const std::string& s) {
    if (s.empty() || s.size() > 128) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
               c == ':' || c == '@';
    });
}
} // namespace

void BrokerCore::send_worker(DevIdx d, proto::BrokerToWorker msg, Now now) {
    auto& w = registry_.at(d);
    w.last_sent = now.mono;
    outbox_.push_back(proto::Outbound{w.rid, std::move(msg)});
}

void BrokerCore::disconnect_peer(const RoutingId& to, std::string reason, std::string message) {
    outbox_.push_back(proto::Outbound{to, proto::BrokerToWorker(proto::Disconnect{std::move(reason), std::move(message)})});
}

void BrokerCore::on_worker(const RoutingId& from, proto::WorkerMsg& msg, Now now) {
    if (auto* ready = std::get_if<proto::Ready>(&msg)) return on_ready(from, *ready, now);
    auto d = registry_.by_route(from);
    if (!d) {
        // An unknown identity: most often a worker that outlived a broker restart. Telling
        // it to reconnect makes it re-register within one heartbeat.
        ++counters_.unknown_worker;
        if (!std::holds_alternative<proto::Disconnect>(msg)) {
            RC_DEBUG(kLog, "unknown worker " << to_hex(from.value) << "; asking it to re-register");
            disconnect_peer(from, "unknown_worker", "not registered with this broker; send READY");
        }
        return;
    }
    auto& w = registry_.at(*d);
    w.expiry = now.mono + w.heartbeat * cfg_.liveness; // any message counts as a heartbeat
    w.last_seen = now.wall;
    std::visit(
        [&](auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, proto::Heartbeat>) on_heartbeat(*d, m, now);
            else if constexpr (std::is_same_v<M, proto::WorkResult>) on_result(*d, m, now);
            else if constexpr (std::is_same_v<M, proto::WorkResults>) {
                for (auto& r : m.results) on_result(*d, r, now);
            }
            else if constexpr (std::is_same_v<M, proto::Started>) on_started(*d, m, now);
            else if constexpr (std::is_same_v<M, proto::Disconnect>) {
                RC_INFO(kLog, "device " << w.device_id.value << " disconnected: " << m.reason);
                drop_worker(*d, DropReason::Disconnected, now);
            }
        },
        msg);
}

void BrokerCore::on_ready(const RoutingId& from, proto::Ready& m, Now now) {
    if (auto d = registry_.by_route(from)) {
        ++counters_.protocol_violations;
        RC_WARN(kLog, "second READY from " << registry_.at(*d).device_id.value);
        disconnect_peer(from, "protocol_violation", "READY on a registered connection");
        drop_worker(*d, DropReason::ProtocolViolation, now);
        return;
    }
    std::string problem;
    if (m.version != proto::kProtocolVersion) problem = "unsupported protocol version " + std::to_string(m.version);
    else if (!valid_device_id(m.device_id.value)) problem = "device_id must be 1-128 characters of [A-Za-z0-9_.:@-]";
    else if (m.slots == 0 || m.slots > 4096) problem = "slots must be in 1..4096";
    else if (m.caps.cpu_cores < 0 || m.caps.memory_gb < 0 || m.caps.storage_gb < 0) problem = "capabilities must not be negative";
    if (!problem.empty()) {
        ++counters_.protocol_violations;
        RC_WARN(kLog, "refused READY from " << to_hex(from.value) << ": " << problem);
        disconnect_peer(from, "invalid_ready", problem);
        return;
    }

    DevIdx d = registry_.intern(m.device_id);
    auto& w = registry_.at(d);
    if (w.state == WorkerState::Online && w.instance != m.instance && now.mono < w.expiry) {
        // Another live process already uses this device id: refuse the newcomer rather than
        // let the two displace each other forever.
        ++counters_.protocol_violations;
        RC_WARN(kLog, "refused READY for device " << m.device_id.value << " from " << to_hex(from.value)
                                                  << ": the id is in use by a live worker");
        disconnect_peer(from, "device_id_in_use",
                        "device id '" + m.device_id.value + "' is in use by another live worker; choose a unique --device-id");
        return;
    }
    std::unordered_set<std::uint64_t> keep;
    if (w.state == WorkerState::Online) {
        // The same device from a new connection: it restarted its link. Leases it still
        // runs (listed in READY, issued by this epoch) stay attached; others are requeued.
        for (const auto& r : m.running)
            if (r.epoch == epoch_ && w.leases.count(r.lease.value)) keep.insert(r.lease.value);
        RC_INFO(kLog, "device " << w.device_id.value << " reconnected; keeping " << keep.size()
                                << " running task(s)");
        disconnect_peer(w.rid, "duplicate_device", "replaced by a newer connection");
        scheduler_.remove_device(d);
        registry_.set_offline(d, DropReason::DuplicateDevice);
        auto held = w.leases;
        for (auto id : held)
            if (!keep.count(id)) release_lease(d, LeaseId{id}, now);
        // release_lease only requeues; the kept ones remain in w.leases.
    }
    w.caps = std::move(m.caps);
    w.handlers = std::move(m.handlers);
    w.slots = m.slots;
    w.prefetch = std::min<std::uint32_t>(m.prefetch, 4 * m.slots + 64);
    w.instance = m.instance;
    auto proposal = std::chrono::milliseconds(m.heartbeat_ms);
    w.heartbeat = std::clamp<std::chrono::milliseconds>(proposal, cfg_.heartbeat, std::chrono::milliseconds(60'000));
    // Tasks it ran for an earlier broker (recovered from the store) are claimed back.
    for (const auto& r : m.running) {
        if (r.epoch == epoch_) continue;
        auto it = unclaimed_.find(EpochLease{r.epoch, r.lease.value});
        if (it == unclaimed_.end()) continue;
        TaskRecord* t = tasks_.get(it->second);
        if (t && t->id.view() == r.task_id.value) {
            std::uint64_t lease = next_lease_++;
            auto deadline = now.mono + std::chrono::milliseconds(std::llround(static_cast<double>(t->timeout_s) * 1000.0));
            leases_.emplace(lease, Lease{it->second, d, deadline, true, true, r.epoch, r.lease.value});
            lease_deadlines_.emplace(deadline, lease);
            w.leases.insert(lease);
            t->lease = LeaseId{lease};
            t->device = d;
            adopted_[EpochLease{r.epoch, r.lease.value}] = lease;
            mark_dirty(it->second, *t);
            ++counters_.reconciled;
            unclaimed_.erase(it);
        }
    }
    w.registered_at = now.wall;
    w.last_seen = now.wall;
    w.expiry = now.mono + w.heartbeat * cfg_.liveness;
    registry_.set_online(d, from);
    send_worker(d,
                proto::Welcome{epoch_, static_cast<std::uint32_t>(w.heartbeat.count()), cfg_.liveness,
                               static_cast<std::uint32_t>(cfg_.max_message_bytes)},
                now);
    scheduler_.add_device(d, w.caps, w.handlers, w.slots, static_cast<std::uint32_t>(w.leases.size()), w.prefetch);
    RC_INFO(kLog, "device " << w.device_id.value << " online: role " << w.caps.role << ", "
                            << w.slots << " slot(s), " << w.handlers.size() << " handler(s), heartbeat "
                            << w.heartbeat.count() << " ms");
}

void BrokerCore::on_heartbeat(DevIdx d, const proto::Heartbeat& m, Now) {
    if (!m.metrics) return;
    auto& w = registry_.at(d);
    w.metrics = m.metrics;
    scheduler_.set_reported_load(d, m.metrics->load_avg);
}

void BrokerCore::on_started(DevIdx d, const proto::Started& m, Now now) {
    for (auto lease : m.leases) {
        auto it = leases_.find(lease.value);
        if (it == leases_.end() || !it->second.live || it->second.device != d) continue;
        TaskRecord* t = tasks_.get(it->second.task);
        if (!t || t->lease != lease) continue;
        // The task's own timeout runs from its start (a prefetched task may have waited);
        // only the first STARTED counts, so a worker cannot stretch a lease.
        if (!it->second.started) {
            it->second.started = true;
            it->second.deadline =
                now.mono + std::chrono::milliseconds(std::llround(static_cast<double>(t->timeout_s) * 1000.0));
            lease_deadlines_.emplace(it->second.deadline, lease.value);
        }
        if (t->status == TaskStatus::Assigned) {
            transition(*t, TaskEvent::Start, now);
            t->detail().started_at = now.wall;
        }
    }
}

void BrokerCore::on_result(DevIdx d, proto::WorkResult& m, Now now) {
    auto& w = registry_.at(d);
    w.pending_acks.push_back(m.lease);
    w.pending_ack_epochs.push_back(m.epoch);
    dirty_acks_.insert(d);
    if (m.epoch != epoch_) {
        // A result for a lease of an earlier broker epoch (recovered from the store).
        EpochLease key{m.epoch, m.lease.value};
        if (auto a = adopted_.find(key); a != adopted_.end()) {
            m.lease = LeaseId{a->second}; // claimed at READY: continue as that lease
            adopted_.erase(a);
        } else if (auto u = unclaimed_.find(key); u != unclaimed_.end()) {
            // It finished while the broker was down: record it rather than run it again.
            TaskRef ref = u->second;
            TaskRecord* t = tasks_.get(ref);
            if (t && t->id.view() == m.task_id.value &&
                (t->status == TaskStatus::Assigned || t->status == TaskStatus::Running)) {
                unclaimed_.erase(u);
                ++counters_.reconciled;
                t->device = d;
                apply_result(ref, *t, w, m, now);
            }
            return;
        } else {
            ++counters_.stale_results;
            return;
        }
    }
    if (!w.leases.erase(m.lease.value)) {
        // A result re-sent after a reconnect, or for a lease this broker never issued.
        ++counters_.stale_results;
        RC_DEBUG(kLog, "ignored result for unknown lease " << m.lease.value << " of task " << m.task_id.value);
        return;
    }
    auto it = leases_.find(m.lease.value);
    Lease lease = it->second;
    leases_.erase(it);
    scheduler_.set_running(d, static_cast<std::uint32_t>(w.leases.size()));
    TaskRecord* t = tasks_.get(lease.task);
    if (!t || t->lease != m.lease ||
        (t->status != TaskStatus::Assigned && t->status != TaskStatus::Running)) {
        // At-least-once: a late result of an expired or cancelled lease never overwrites
        // the outcome of a newer attempt.
        ++counters_.stale_results;
        RC_INFO(kLog, "late result for task " << m.task_id.value << " (lease " << m.lease.value
                                              << ") ignored");
        return;
    }
    apply_result(lease.task, *t, w, m, now);
}

void BrokerCore::apply_result(TaskRef ref, TaskRecord& rec, WorkerRecord& w, proto::WorkResult& m, Now now) {
    TaskRecord* t = &rec;
    TaskDetail& detail = t->detail();
    if (m.started_at > 0) detail.started_at = m.started_at;
    detail.exec_time = (m.finished_at > 0 && m.started_at > 0) ? std::max(0.0, m.finished_at - m.started_at) : 0;
    switch (m.status) {
    case TaskStatus::Success:
        ++w.completed;
        detail.result = std::move(m.result);
        detail.error.clear();
        t->lease = LeaseId{};
        finish(ref, *t, TaskEvent::Succeed, now);
        break;
    case TaskStatus::Timeout:
        ++w.failed;
        attempt_failed(ref, *t, TaskStatus::Timeout, "timeout", m.error, false, now);
        break;
    case TaskStatus::Cancelled:
        // The worker stopped it on its own (it is shutting down). Like device loss, this
        // counts as an attempt but is requeued at once, without backoff.
        attempt_failed(ref, *t, TaskStatus::Failed, "interrupted", m.error, true, now);
        break;
    default:
        ++w.failed;
        attempt_failed(ref, *t, TaskStatus::Failed, "failed", m.error, false, now);
        break;
    }
}

void BrokerCore::release_lease(DevIdx d, LeaseId id, Now now) {
    auto& w = registry_.at(d);
    w.leases.erase(id.value);
    auto it = leases_.find(id.value);
    if (it == leases_.end()) return;
    Lease lease = it->second;
    leases_.erase(it);
    TaskRecord* t = tasks_.get(lease.task);
    if (!lease.live || !t || t->lease != id) return;
    ++counters_.requeued_device_lost;
    attempt_failed(lease.task, *t, TaskStatus::Failed, "device_lost",
                   "device " + w.device_id.value + " went offline (" + std::string(to_string(w.drop_reason)) + ")",
                   true, now);
}

void BrokerCore::drop_worker(DevIdx d, DropReason why, Now now) {
    auto& w = registry_.at(d);
    if (w.state != WorkerState::Online) return;
    scheduler_.remove_device(d);
    registry_.set_offline(d, why);
    w.pending_acks.clear();
    w.pending_ack_epochs.clear();
    auto held = w.leases;
    RC_WARN(kLog, "device " << w.device_id.value << " offline (" << to_string(why) << "); requeueing "
                            << held.size() << " task(s)");
    for (auto id : held) release_lease(d, LeaseId{id}, now);
}

} // namespace rc::broker
