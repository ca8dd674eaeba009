// Field-by-field conversion of device descriptions into rc::Value maps (see device_value.hpp).
#include "device_value.hpp"

namespace rc {

Value capabilities_to_value(const DeviceCapabilities& c) {
    Array tags;
    tags.reserve(c.tags.size());
    for (const auto& t : c.tags)
        tags.emplace_back(t);
    return Value(Map{
        {"cpu_cores", c.cpu_cores},
        {"memory_gb", c.memory_gb},
        {"storage_gb", c.storage_gb},
        {"platform", c.platform},
        {"architecture", c.architecture},
        {"hostname", c.hostname},
        {"gpu", c.gpu},
        {"gpu_name", c.gpu_name},
        {"internet", c.internet},
        {"role", c.role},
        {"tags", std::move(tags)},
    });
}

Value metrics_to_value(const proto::DeviceMetrics& m) {
    return Value(Map{
        {"load_avg", m.load_avg},
        {"cpu_percent", m.cpu_percent},
        {"memory_used_percent", m.memory_used_percent},
        {"storage_free_gb", m.storage_free_gb},
        {"running", m.running},
    });
}

} // namespace rc
