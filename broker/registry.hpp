// The device registry: one record per device id ever seen, the routing id of
// each online one, and liveness bookkeeping. Storage and lookups only; the core decides.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.hpp"
#include "common/protocol.hpp"
#include "scheduler.hpp"

namespace rc::broker {

enum class WorkerState : std::uint8_t { Online, Offline };
std::string_view to_string(WorkerState s);

// Why a worker went offline. Logged and shown in device listings.
enum class DropReason : std::uint8_t {
    None,
    HeartbeatExpired,  // silent for heartbeat x liveness
    Disconnected,      // it sent DISCONNECT
    DuplicateDevice,   // the same device id registered from a new connection
    ProtocolViolation, // it broke the protocol
    Unroutable,        // a send failed with EHOSTUNREACH
    Shutdown,          // the broker is stopping
};
std::string_view to_string(DropReason r);

struct WorkerRecord {
    DeviceId device_id;
    RoutingId rid;
    WorkerState state = WorkerState::Offline;
    DropReason drop_reason = DropReason::None;
    DeviceCapabilities caps;
    std::vector<std::string> handlers;
    std::uint32_t slots = 1;
    std::uint32_t prefetch = 0; // tasks it queues beyond its slots
    std::uint64_t instance = 0; // the worker process behind the current connection
    std::chrono::milliseconds heartbeat{1000};
    TimePoint expiry{};    // offline when now passes this
    TimePoint last_sent{}; // last message the broker sent it
    double registered_at = 0;
    double last_seen = 0; // wall clock, for display
    std::optional<proto::DeviceMetrics> metrics;
    std::unordered_set<std::uint64_t> leases; // leases holding one of its slots
    std::vector<LeaseId> pending_acks;         // results to acknowledge this pass
    std::vector<std::uint64_t> pending_ack_epochs; // the epoch of each, parallel
    std::uint64_t completed = 0, failed = 0;
};

class Registry {
public:
    // The index for `id`, creating an offline record if it is new.
    DevIdx intern(const DeviceId& id);
    [[nodiscard]] WorkerRecord& at(DevIdx i) { return records_[i]; }
    [[nodiscard]] const WorkerRecord& at(DevIdx i) const { return records_[i]; }
    [[nodiscard]] std::optional<DevIdx> by_device(const std::string& id) const;
    [[nodiscard]] std::optional<DevIdx> by_route(const RoutingId& rid) const;
    void set_online(DevIdx i, const RoutingId& rid);
    void set_offline(DevIdx i, DropReason why);
    [[nodiscard]] const std::unordered_map<RoutingId, DevIdx>& online() const { return online_; }
    [[nodiscard]] std::size_t size() const { return records_.size(); }

private:
    std::vector<WorkerRecord> records_;
    std::unordered_map<std::string, DevIdx> by_device_;
    std::unordered_map<RoutingId, DevIdx> online_;
};

} // namespace rc::broker
