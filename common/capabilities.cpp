// The matching rule between device capabilities and task requirements.
#include "capabilities.hpp"

#include <algorithm>
#include <sstream>

namespace rc {

static std::string fmt_num(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
}

std::string first_unmet(const DeviceCapabilities& c, const Requirements& r) {
    if (c.cpu_cores < r.min_cpu_cores) return "min_cpu_cores >= " + std::to_string(r.min_cpu_cores);
    if (c.memory_gb < r.min_memory_gb) return "min_memory_gb >= " + fmt_num(r.min_memory_gb);
    if (c.storage_gb < r.min_storage_gb) return "min_storage_gb >= " + fmt_num(r.min_storage_gb);
    if (r.gpu_required && !c.gpu) return "gpu_required";
    if (r.internet_required && !c.internet) return "internet_required";
    if (!r.required_platform.empty() && c.platform != r.required_platform)
        return "required_platform = " + r.required_platform;
    if (!r.required_role.empty() && c.role != r.required_role)
        return "required_role = " + r.required_role;
    for (const auto& t : r.required_tags)
        if (std::find(c.tags.begin(), c.tags.end(), t) == c.tags.end())
            return "required_tags contains " + t;
    return {};
}

bool satisfies(const DeviceCapabilities& c, const Requirements& r) {
    // The same rule as first_unmet(), without building strings: this runs once per
    // (device, requirement class) pair, which is millions of times at scale.
    if (c.cpu_cores < r.min_cpu_cores || c.memory_gb < r.min_memory_gb || c.storage_gb < r.min_storage_gb)
        return false;
    if ((r.gpu_required && !c.gpu) || (r.internet_required && !c.internet)) return false;
    if (!r.required_platform.empty() && c.platform != r.required_platform) return false;
    if (!r.required_role.empty() && c.role != r.required_role) return false;
    for (const auto& t : r.required_tags)
        if (std::find(c.tags.begin(), c.tags.end(), t) == c.tags.end()) return false;
    return true;
}

double strength(const DeviceCapabilities& c) { return c.cpu_cores * 4.0 + c.memory_gb; }

} // namespace rc
