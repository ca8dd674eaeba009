// Strong identifier types shared by broker, worker and clients. They exist so that a
// task id can never be passed where a device id is expected; they carry no behaviour.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace rc {

template <typename Tag> struct StringId {
    std::string value;
    StringId() = default;
    explicit StringId(std::string v) : value(std::move(v)) {}
    auto operator<=>(const StringId&) const = default;
    [[nodiscard]] bool empty() const { return value.empty(); }
    [[nodiscard]] const std::string& str() const { return value; }
};

struct TaskIdTag {};
struct DeviceIdTag {};
struct RoutingIdTag {};
using TaskId = StringId<TaskIdTag>;
using DeviceId = StringId<DeviceIdTag>;
// The opaque identity frame a ROUTER socket assigns to a connection (binary bytes).
using RoutingId = StringId<RoutingIdTag>;

// A lease is one dispatch of one task attempt to one worker. Ids are unique per broker
// epoch; (epoch, lease) is unique forever.
struct LeaseId {
    std::uint64_t value = 0;
    auto operator<=>(const LeaseId&) const = default;
};

// Hex rendering for logs; routing ids are binary.
std::string to_hex(const std::string& bytes);

} // namespace rc

template <typename Tag> struct std::hash<rc::StringId<Tag>> {
    size_t operator()(const rc::StringId<Tag>& id) const noexcept {
        return std::hash<std::string>{}(id.value);
    }
};
template <> struct std::hash<rc::LeaseId> {
    size_t operator()(const rc::LeaseId& id) const noexcept {
        return std::hash<std::uint64_t>{}(id.value);
    }
};
