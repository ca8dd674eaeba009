// Client-protocol handlers: the one dispatch point for RCC1 commands and one function per
// command. Every request gets exactly one reply: its own, or ERROR.
#include <unordered_set>

#include "common/log.hpp"
#include "core.hpp"

namespace rc::broker {

namespace {
constexpr const char* kLog = "broker";
}

void BrokerCore::reply(const RoutingId& to, proto::ClientReply msg) {
    outbox_.push_back(proto::Outbound{to, std::move(msg)});
}

void BrokerCore::reply_error(const RoutingId& to, std::uint64_t req, proto::ErrorCode code,
                             std::string message) {
    reply(to, proto::ErrorReply{req, code, std::move(message)});
}

void BrokerCore::on_client(const RoutingId& from, proto::ClientRequest& msg, Now now) {
    std::visit(
        [&](auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, proto::SubmitReq>) on_submit(from, m, now);
            else if constexpr (std::is_same_v<M, proto::StatusReq>) on_status(from, m, now);
            else if constexpr (std::is_same_v<M, proto::ResultReq>) on_get_result(from, m, now);
            else if constexpr (std::is_same_v<M, proto::CancelReq>) on_cancel(from, m, now);
            else if constexpr (std::is_same_v<M, proto::StatsReq>)
                reply(from, proto::StatsReply{m.req, stats_value(now)});
            else if constexpr (std::is_same_v<M, proto::DevicesReq>) {
                Array list;
                for (DevIdx d = 0; d < registry_.size(); ++d) {
                    const auto& w = registry_.at(d);
                    if (!m.include_offline && w.state != WorkerState::Online) continue;
                    if (!m.role.empty() && w.caps.role != m.role) continue;
                    list.push_back(device_value(d, now));
                }
                reply(from, proto::DevicesReply{m.req, Value(std::move(list))});
            } else if constexpr (std::is_same_v<M, proto::DeviceReq>) {
                auto d = registry_.by_device(m.device_id.value);
                if (!d) return reply_error(from, m.req, proto::ErrorCode::UnknownDevice,
                                           "no device '" + m.device_id.value + "'");
                reply(from, proto::DeviceReply{m.req, device_value(*d, now)});
            }
        },
        msg);
}

void BrokerCore::on_submit(const RoutingId& from, proto::SubmitReq& m, Now now) {
    using proto::ErrorCode;
    if (m.tasks.empty()) return reply_error(from, m.req, ErrorCode::InvalidTask, "no tasks in SUBMIT");
    if (cfg_.durable && !mirror_up_ && cfg_.degraded == DegradedPolicy::Refuse) {
        ++counters_.refused_not_durable;
        return reply_error(from, m.req, ErrorCode::NotDurable,
                           "the durable store is unavailable (" + mirror_error_ +
                               "); nothing was accepted, retry later");
    }
    if (active_ + m.tasks.size() > cfg_.max_queued)
        return reply_error(from, m.req, ErrorCode::QueueFull,
                           "the broker holds " + std::to_string(active_) + " unfinished tasks (limit " +
                               std::to_string(cfg_.max_queued) + ")");
    // Validate the whole batch first: it is accepted or refused as a unit.
    std::unordered_set<std::string> seen;
    for (std::size_t i = 0; i < m.tasks.size(); ++i) {
        auto& t = m.tasks[i];
        auto ok = validate(t);
        std::string where = m.tasks.size() > 1 ? "tasks[" + std::to_string(i) + "]: " : "";
        if (!ok) {
            ++counters_.invalid_task;
            RC_WARN(kLog, "refused task from " << to_hex(from.value) << ": " << ok.error().message);
            return reply_error(from, m.req,
                               ok.error().code == "invalid_requirements" ? ErrorCode::InvalidRequirements
                                                                         : ErrorCode::InvalidTask,
                               where + ok.error().message);
        }
        if (!t.task_id.empty() && (tasks_.contains(t.task_id.value) || !seen.insert(t.task_id.value).second)) {
            ++counters_.invalid_task;
            return reply_error(from, m.req, ErrorCode::DuplicateTask,
                               where + "task_id '" + t.task_id.value + "' is already known");
        }
        if (m.strict) {
            bool known = false;
            for (const auto& [_, d] : registry_.online()) {
                const auto& hs = registry_.at(d).handlers;
                if (std::find(hs.begin(), hs.end(), t.task_type) != hs.end()) { known = true; break; }
            }
            if (!known)
                return reply_error(from, m.req, ErrorCode::UnknownTaskType,
                                   where + "no online device has a handler for task type '" + t.task_type + "'");
        }
    }
    proto::SubmitReply out;
    out.req = m.req;
    out.task_ids.reserve(m.tasks.size());
    // Tasks of a batch usually share type and requirements: reuse the previous class.
    const TaskSpec* prev = nullptr;
    ClassId prev_cls = 0;
    for (auto& spec : m.tasks) {
        std::optional<TaskRef> ref;
        if (spec.task_id.empty()) {
            do { // a fresh UUID; create() refuses the (practically impossible) duplicate
                spec.task_id = TaskId(new_uuid());
                ref = tasks_.create(spec.task_id);
            } while (!ref);
        } else {
            ref = tasks_.create(spec.task_id);
        }
        TaskRecord& t = *tasks_.get(*ref);
        t.payload.assign(spec.payload);
        if (!spec.metadata.empty()) t.detail().metadata = std::move(spec.metadata);
        t.priority = spec.priority;
        t.timeout_s = static_cast<float>(spec.requirements.timeout_seconds);
        t.max_retries = static_cast<std::uint8_t>(spec.requirements.max_retries);
        if (prev && prev->task_type == spec.task_type && prev->requirements == spec.requirements) {
            scheduler_.retain_class(prev_cls);
            t.cls = prev_cls;
        } else {
            t.cls = scheduler_.class_for(spec.task_type, spec.requirements);
        }
        prev = &spec;
        prev_cls = t.cls;
        t.created_at = t.updated_at = now.wall;
        ++by_status_[static_cast<size_t>(TaskStatus::Pending)];
        ++active_;
        transition(t, TaskEvent::Accept, now);
        enqueue(*ref, t);
        out.task_ids.push_back(spec.task_id);
    }
    counters_.submitted += m.tasks.size();
    RC_DEBUG(kLog, "accepted " << m.tasks.size() << " task(s) from " << to_hex(from.value));
    if (m.wait_ms > 0 && waiters_.size() < kMaxWaiters) {
        // Submit-and-wait: one reply, once every task has ended or the wait has passed.
        std::uint64_t wid = next_waiter_++;
        Waiter w{from, m.req, out.task_ids, {}, false, 0,
                 now.mono + std::chrono::milliseconds(std::min(m.wait_ms, kMaxWaitMs)), true,
                 cfg_.durable && mirror_up_ ? journal_seq_ + 1 : 0};
        waiter_deadlines_.emplace(w.deadline, wid);
        park(wid, w);
        waiters_.emplace(wid, std::move(w));
        return;
    }
    if (cfg_.durable && mirror_up_) {
        // Accepted means durable: answer once the batch flushed at the end of this pass
        // is written.
        held_.emplace_back(journal_seq_ + 1, proto::Outbound{from, proto::ClientReply(std::move(out))});
        return;
    }
    reply(from, std::move(out));
}

void BrokerCore::on_status(const RoutingId& from, const proto::StatusReq& m, Now) {
    const TaskRecord* t = task(m.task_id.value);
    if (!t) return reply_error(from, m.req, proto::ErrorCode::UnknownTask, "no task '" + m.task_id.value + "'");
    reply(from, proto::StatusReply{m.req, info_of(*t)});
}

void BrokerCore::on_get_result(const RoutingId& from, proto::ResultReq& m, Now now) {
    // Bounded waits: a parked request holds memory, so both its length and their number
    // are capped; past the cap the request is answered at once with what is known.
    m.wait_ms = std::min<std::uint32_t>(m.wait_ms, kMaxWaitMs);
    if (waiters_.size() >= kMaxWaiters) m.wait_ms = 0;
    std::uint64_t wid = next_waiter_++;
    Waiter w{from, m.req, std::move(m.task_ids), {}, m.any, 0, {}, false, 0};
    park(wid, w);
    std::size_t done = w.ids.size() - w.remaining;
    bool now_answer = w.remaining == 0 || m.wait_ms == 0 || (m.any && done > 0);
    if (!now_answer) {
        w.deadline = now.mono + std::chrono::milliseconds(m.wait_ms);
        waiter_deadlines_.emplace(w.deadline, wid);
    }
    waiters_.emplace(wid, std::move(w));
    if (now_answer) answer_waiter(wid);
}

void BrokerCore::on_cancel(const RoutingId& from, const proto::CancelReq& m, Now now) {
    auto ref = tasks_.find(m.task_id.value);
    TaskRecord* t = ref ? tasks_.get(*ref) : nullptr;
    if (!t) return reply_error(from, m.req, proto::ErrorCode::UnknownTask, "no task '" + m.task_id.value + "'");
    if (is_terminal(t->status)) return reply(from, proto::CancelReply{m.req, t->task_id(), t->status, false});
    if (t->status == TaskStatus::Queued && t->queue_seq != 0) {
        scheduler_.forget(t->cls);
        t->queue_seq = 0;
    }
    if (t->status == TaskStatus::Assigned || t->status == TaskStatus::Running) {
        if (auto it = leases_.find(t->lease.value); it != leases_.end()) {
            it->second.live = false; // the slot frees when the worker reports back
            send_worker(it->second.device, cancel_msg(it->second, it->first, t->task_id(), "cancelled"), now);
        }
        t->lease = LeaseId{};
    }
    t->detail().reason = "cancelled by request";
    finish(*ref, *t, TaskEvent::Cancel, now);
    RC_INFO(kLog, "task " << t->id.view() << " cancelled");
    reply(from, proto::CancelReply{m.req, t->task_id(), t->status, true});
}

} // namespace rc::broker
