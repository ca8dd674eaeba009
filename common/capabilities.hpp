// What a device advertises (DeviceCapabilities) and the pure matching rule against a
// task's Requirements. Used by the broker's scheduler and by tests; no I/O.
#pragma once

#include <string>
#include <vector>

#include "task.hpp"

namespace rc {

struct DeviceCapabilities {
    int cpu_cores = 1;
    double memory_gb = 0;
    double storage_gb = 0;
    std::string platform = "linux"; // linux, android, darwin, windows
    std::string architecture;       // x86_64, aarch64, ...
    std::string hostname;
    bool gpu = false;
    std::string gpu_name;
    bool internet = false;
    std::string role = "worker"; // worker, compute, storage, mobile
    std::vector<std::string> tags;

    bool operator==(const DeviceCapabilities&) const = default;
};

// True when the device meets every resource, platform, role and tag requirement.
// Handler availability and free slots are checked by the scheduler, not here.
[[nodiscard]] bool satisfies(const DeviceCapabilities& caps, const Requirements& req);

// The first requirement field that `caps` fails, as a short phrase such as
// "min_memory_gb >= 8"; empty when it satisfies all of them.
[[nodiscard]] std::string first_unmet(const DeviceCapabilities& caps, const Requirements& req);

// A relative strength used to break load ties: more cores and memory rank higher.
[[nodiscard]] double strength(const DeviceCapabilities& caps);

} // namespace rc
