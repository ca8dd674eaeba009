// DeviceCapabilities and DeviceMetrics as rc::Value maps, for the system_info handler and the
// broker's device listing. Keys are the struct field names; no I/O and no probing here.
#pragma once

#include "capabilities.hpp"
#include "protocol.hpp"
#include "value.hpp"

namespace rc {

// Keys, in this order: cpu_cores, memory_gb, storage_gb, platform, architecture, hostname,
// gpu, gpu_name, internet, role, tags (array of strings).
[[nodiscard]] Value capabilities_to_value(const DeviceCapabilities& caps);

// Keys, in this order: load_avg, cpu_percent, memory_used_percent, storage_free_gb, running.
[[nodiscard]] Value metrics_to_value(const proto::DeviceMetrics& m);

} // namespace rc
