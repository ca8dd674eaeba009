// Registry storage and the names of worker states and drop reasons.
#include "registry.hpp"

namespace rc::broker {

std::string_view to_string(WorkerState s) { return s == WorkerState::Online ? "online" : "offline"; }

std::string_view to_string(DropReason r) {
    switch (r) {
    case DropReason::None: return "none";
    case DropReason::HeartbeatExpired: return "heartbeat_expired";
    case DropReason::Disconnected: return "disconnected";
    case DropReason::DuplicateDevice: return "duplicate_device";
    case DropReason::ProtocolViolation: return "protocol_violation";
    case DropReason::Unroutable: return "unroutable";
    case DropReason::Shutdown: return "shutdown";
    }
    return "?";
}

DevIdx Registry::intern(const DeviceId& id) {
    if (auto it = by_device_.find(id.value); it != by_device_.end()) return it->second;
    auto idx = static_cast<DevIdx>(records_.size());
    records_.emplace_back();
    records_.back().device_id = id;
    by_device_.emplace(id.value, idx);
    return idx;
}

std::optional<DevIdx> Registry::by_device(const std::string& id) const {
    auto it = by_device_.find(id);
    if (it == by_device_.end()) return std::nullopt;
    return it->second;
}

std::optional<DevIdx> Registry::by_route(const RoutingId& rid) const {
    auto it = online_.find(rid);
    if (it == online_.end()) return std::nullopt;
    return it->second;
}

void Registry::set_online(DevIdx i, const RoutingId& rid) {
    auto& r = records_[i];
    if (r.state == WorkerState::Online) online_.erase(r.rid);
    r.rid = rid;
    r.state = WorkerState::Online;
    r.drop_reason = DropReason::None;
    online_[rid] = i;
}

void Registry::set_offline(DevIdx i, DropReason why) {
    auto& r = records_[i];
    if (r.state == WorkerState::Online) online_.erase(r.rid);
    r.state = WorkerState::Offline;
    r.drop_reason = why;
    r.metrics.reset();
}

} // namespace rc::broker
