// The broker's statistics and device descriptions as plain values (STATS, DEVICES,
// DEVICE replies). Key names follow the seed: cluster_stats, queue_stats, scheduler_stats.
#include "common/device_value.hpp"
#include "core.hpp"

namespace rc::broker {

Value BrokerCore::device_value(DevIdx d, Now now) const {
    const auto& w = registry_.at(d);
    Value v;
    v.set("device_id", w.device_id.value);
    v.set("status", std::string(to_string(w.state)));
    v.set("drop_reason", std::string(to_string(w.drop_reason)));
    v.set("role", w.caps.role);
    v.set("capabilities", capabilities_to_value(w.caps));
    Array hs;
    for (const auto& h : w.handlers) hs.emplace_back(h);
    v.set("handlers", Value(std::move(hs)));
    v.set("slots", static_cast<std::int64_t>(w.slots));
    v.set("running", static_cast<std::int64_t>(w.leases.size()));
    v.set("load", w.slots ? static_cast<double>(w.leases.size()) / w.slots : 0.0);
    v.set("heartbeat_ms", static_cast<std::int64_t>(w.heartbeat.count()));
    v.set("completed", w.completed);
    v.set("failed", w.failed);
    v.set("registered_at", w.registered_at);
    v.set("last_seen", w.last_seen);
    v.set("last_seen_ago", w.last_seen > 0 ? std::max(0.0, now.wall - w.last_seen) : -1.0);
    v.set("metrics", w.metrics ? metrics_to_value(*w.metrics) : Value{});
    return v;
}

Value BrokerCore::stats_value(Now now) const {
    Value cluster;
    std::int64_t online = 0, slots = 0, busy = 0;
    Value by_role = Value(Map{});
    Array loads;
    for (const auto& [_, d] : registry_.online()) {
        const auto& w = registry_.at(d);
        ++online;
        slots += w.slots;
        busy += static_cast<std::int64_t>(std::min<std::size_t>(w.leases.size(), w.slots));
        const Value* n = by_role.find(w.caps.role);
        by_role.set(w.caps.role, (n ? n->as_int() : 0) + 1);
        Value l;
        l.set("device_id", w.device_id.value);
        l.set("running", static_cast<std::int64_t>(w.leases.size()));
        l.set("slots", static_cast<std::int64_t>(w.slots));
        l.set("load_avg", w.metrics ? w.metrics->load_avg : 0.0);
        loads.push_back(std::move(l));
    }
    cluster.set("online_devices", online);
    cluster.set("total_devices", static_cast<std::int64_t>(registry_.size()));
    cluster.set("total_slots", slots);
    cluster.set("busy_slots", busy);
    cluster.set("utilization", slots ? static_cast<double>(busy) / slots : 0.0);
    cluster.set("devices_by_role", std::move(by_role));

    Value queue;
    std::int64_t total = 0;
    Value by_status;
    for (int s = 0; s < kTaskStatusCount; ++s) {
        total += static_cast<std::int64_t>(by_status_[s]);
        by_status.set(std::string(to_string(static_cast<TaskStatus>(s))), static_cast<std::int64_t>(by_status_[s]));
    }
    Value by_priority;
    for (int p = kPriorityLevels - 1; p >= 0; --p)
        by_priority.set(std::string(to_string(static_cast<Priority>(p))),
                        static_cast<std::int64_t>(queued_by_priority_[p]));
    queue.set("total_tasks", total);
    queue.set("queued", static_cast<std::int64_t>(by_status_[static_cast<size_t>(TaskStatus::Queued)]));
    queue.set("active", static_cast<std::int64_t>(active_));
    queue.set("by_status", std::move(by_status));
    queue.set("queued_by_priority", std::move(by_priority));
    queue.set("waiting_retry", static_cast<std::int64_t>(backoff_.size()));
    queue.set("requirement_classes", static_cast<std::int64_t>(scheduler_.class_count()));

    Value sched;
    const auto& c = counters_;
    sched.set("submitted", c.submitted);
    sched.set("dispatched", c.dispatched);
    sched.set("succeeded", c.succeeded);
    sched.set("failed", c.failed);
    sched.set("retried", c.retried);
    sched.set("timed_out", c.timed_out);
    sched.set("cancelled", c.cancelled);
    sched.set("stale_results", c.stale_results);
    sched.set("requeued_device_lost", c.requeued_device_lost);
    std::uint64_t recent = 0;
    for (const auto& [t, n] : throughput_)
        if (now.mono - t <= std::chrono::seconds(10)) recent += n;
    sched.set("throughput_per_sec", static_cast<double>(recent) / 10.0);
    sched.set("affinity", cfg_.scheduler.affinity);

    Value errors;
    errors.set("malformed", c.malformed);
    errors.set("unknown_command", c.unknown_command);
    errors.set("bad_body", c.bad_body);
    errors.set("too_large", c.too_large);
    errors.set("invalid_task", c.invalid_task);
    errors.set("protocol_violations", c.protocol_violations);
    errors.set("unknown_worker", c.unknown_worker);

    Value broker;
    broker.set("epoch", epoch_);
    broker.set("uptime_seconds", std::chrono::duration<double>(now.mono - started_).count());
    broker.set("started_at", started_wall_);

    Value durability;
    durability.set("mode", cfg_.durable ? "redis" : "memory");
    durability.set("state", !cfg_.durable ? "off" : mirror_up_ ? "up" : "down");
    durability.set("error", mirror_error_);
    durability.set("degraded_policy", cfg_.degraded == DegradedPolicy::Refuse ? "refuse" : "accept");
    durability.set("batches_pending", journal_seq_ - std::min(journal_seq_, durable_seq_));
    durability.set("replies_held", static_cast<std::int64_t>(held_.size()));
    durability.set("recovered", c.recovered);
    durability.set("reconciled", c.reconciled);
    durability.set("awaiting_claim", static_cast<std::int64_t>(unclaimed_.size()));
    durability.set("refused_not_durable", c.refused_not_durable);

    Value out;
    out.set("cluster_stats", std::move(cluster));
    out.set("durability", std::move(durability));
    out.set("queue_stats", std::move(queue));
    out.set("scheduler_stats", std::move(sched));
    out.set("device_load", Value(std::move(loads)));
    out.set("errors", std::move(errors));
    out.set("broker", std::move(broker));
    return out;
}

} // namespace rc::broker
