// BrokerCore's durability: journaling changed tasks, holding SUBMIT replies until their
// tasks are written, and rebuilding state from the store after a restart (reconciling
// tasks that were running with the workers that re-register). docs/durability.md.
#include "common/codec.hpp"
#include "common/log.hpp"
#include "core.hpp"

namespace rc::broker {

namespace {
constexpr const char* kLog = "broker";
}

void BrokerCore::mark_dirty(TaskRef ref, TaskRecord& t) {
    if (!cfg_.durable || t.dirty) return;
    t.dirty = true;
    dirty_.push_back(ref);
}

JournalOp BrokerCore::snapshot(const TaskRecord& t) const {
    JournalOp op;
    op.task_id = t.id.str();
    op.state = codec::encode_result(result_of(t));
    if (t.lease.value != 0) op.lease = std::to_string(epoch_) + ":" + std::to_string(t.lease.value);
    if (!t.persisted) {
        TaskSpec spec;
        spec.task_id = t.task_id();
        spec.task_type = scheduler_.task_type(t.cls);
        spec.payload = t.payload.str();
        spec.priority = t.priority;
        spec.requirements = scheduler_.requirements(t.cls);
        spec.requirements.timeout_seconds = static_cast<double>(t.timeout_s);
        spec.requirements.max_retries = t.max_retries;
        spec.metadata = t.view().metadata;
        op.spec = codec::encode_spec(spec);
        op.order = static_cast<std::uint64_t>(t.created_at * 1e6);
    }
    if (is_terminal(t.status))
        op.ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.result_ttl).count();
    return op;
}

std::unique_ptr<JournalBatch> BrokerCore::take_journal(Now) {
    if (!cfg_.durable || (dirty_.empty() && deleted_.empty())) return nullptr;
    auto batch = std::make_unique<JournalBatch>();
    batch->seq = ++journal_seq_;
    batch->ops.reserve(dirty_.size() + deleted_.size());
    for (TaskRef ref : dirty_) {
        TaskRecord* t = tasks_.get(ref);
        if (!t || !t->dirty) continue;
        t->dirty = false;
        batch->ops.push_back(snapshot(*t));
        t->persisted = true;
    }
    for (auto& id : deleted_) {
        JournalOp op;
        op.kind = JournalOp::Kind::Delete;
        op.task_id = std::move(id);
        batch->ops.push_back(std::move(op));
    }
    dirty_.clear();
    deleted_.clear();
    return batch;
}

void BrokerCore::on_mirror_report(const MirrorReport& r, Now) {
    if (!r.up) {
        if (mirror_up_)
            RC_ERROR(kLog, "durable store unavailable: " << r.error
                                                         << (cfg_.degraded == DegradedPolicy::Refuse
                                                                 ? "; refusing new tasks until it returns"
                                                                 : "; accepting new tasks without durability"));
        mirror_up_ = false;
        mirror_error_ = r.error;
        return;
    }
    if (!mirror_up_) RC_INFO(kLog, "durable store is back");
    mirror_up_ = true;
    mirror_error_.clear();
    durable_seq_ = std::max(durable_seq_, r.durable_seq);
    while (!held_.empty() && held_.front().first <= durable_seq_) {
        outbox_.push_back(std::move(held_.front().second));
        held_.pop_front();
    }
}

void BrokerCore::recover(std::vector<RecoveredTask> tasks, Now now) {
    std::sort(tasks.begin(), tasks.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
    std::size_t queued = 0, inflight = 0, finished = 0;
    for (auto& rt : tasks) {
        auto ref = tasks_.create(rt.spec.task_id);
        if (!ref) continue;
        TaskRecord& t = *tasks_.get(*ref);
        t.payload.assign(rt.spec.payload);
        if (!rt.spec.metadata.empty()) t.detail().metadata = std::move(rt.spec.metadata);
        t.priority = rt.spec.priority;
        t.timeout_s = static_cast<float>(rt.spec.requirements.timeout_seconds);
        t.max_retries = static_cast<std::uint8_t>(rt.spec.requirements.max_retries);
        t.cls = scheduler_.class_for(rt.spec.task_type, rt.spec.requirements);
        t.created_at = rt.state.created_at;
        t.updated_at = now.wall;
        t.attempts = rt.state.attempts;
        t.persisted = true;
        if (!rt.state.device_id.empty()) t.device = registry_.intern(DeviceId(rt.state.device_id));
        if (!rt.state.attempt_errors.empty() || !rt.state.error_message.empty() || !rt.state.result_data.empty()) {
            auto& d = t.detail();
            d.attempt_errors = std::move(rt.state.attempt_errors);
            d.error = std::move(rt.state.error_message);
            d.result = std::move(rt.state.result_data);
            d.started_at = rt.state.started_at;
            d.completed_at = rt.state.completed_at;
            d.exec_time = rt.state.execution_time;
        }
        ++counters_.recovered;
        TaskStatus s = rt.state.status;
        if (is_terminal(s)) {
            t.status = s;
            ++by_status_[static_cast<size_t>(s)];
            retention_.emplace_back(now.mono, *ref);
            ++finished;
            continue;
        }
        ++active_;
        if ((s == TaskStatus::Assigned || s == TaskStatus::Running) && rt.lease_epoch && rt.lease) {
            // It was running: give its worker a chance to claim it before running it again.
            t.status = s;
            ++by_status_[static_cast<size_t>(s)];
            unclaimed_.emplace(EpochLease{rt.lease_epoch, rt.lease}, *ref);
            ++inflight;
            continue;
        }
        t.status = TaskStatus::Queued;
        ++by_status_[static_cast<size_t>(TaskStatus::Queued)];
        ++queued_by_priority_[static_cast<size_t>(t.priority)];
        enqueue(*ref, t);
        ++queued;
    }
    if (!unclaimed_.empty()) recovery_deadline_ = now.mono + cfg_.recovery_grace;
    RC_INFO(kLog, "recovered " << tasks.size() << " task(s): " << queued << " queued, " << inflight
                               << " in flight (awaiting their workers), " << finished << " finished");
}

void BrokerCore::requeue_unclaimed(Now now) {
    if (unclaimed_.empty() || now.mono < recovery_deadline_) return;
    auto pending = std::move(unclaimed_);
    unclaimed_.clear();
    for (const auto& [_, ref] : pending) {
        TaskRecord* t = tasks_.get(ref);
        if (!t || t->lease.value != 0 || (t->status != TaskStatus::Assigned && t->status != TaskStatus::Running))
            continue;
        attempt_failed(ref, *t, TaskStatus::Failed, "broker_restart",
                       "the broker restarted while the task ran and no worker claimed it", true, now);
    }
}

} // namespace rc::broker
