// Detects what this device can offer (DeviceCapabilities), a stable default device id, and the
// per-heartbeat load metrics. Reads the OS only (/proc, /sys, statvfs, uname); the single
// network action is the optional internet check, which tests switch off.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/capabilities.hpp"
#include "common/protocol.hpp"

namespace rc::worker {

struct ProbeOptions {
    // One non-blocking TCP connect per public resolver (1.1.1.1:53 and 8.8.8.8:53, started
    // together); internet = true when either completes within internet_timeout. No data is
    // sent. Set false in tests and on networks where outbound probes are unwelcome.
    bool check_internet = true;
    std::chrono::milliseconds internet_timeout{1500};
    // The filesystem whose free space is reported as storage_gb.
    std::string storage_path = ".";
};

// Sizes are GiB (2^30 bytes) rounded to 0.01; storage_gb is the space available to
// unprivileged users (statvfs f_bavail) on options.storage_path's filesystem.
//
// GPU policy: gpu = true only for a GPU a compute task can plausibly use: an NVIDIA device
// (/proc/driver/nvidia/gpus/*/information "Model:" line, or /dev/nvidia0, or a DRM card with
// PCI vendor 0x10de) or an AMD one (DRM card with vendor 0x1002). Intel integrated graphics
// (0x8086) and SoC GPUs without a PCI vendor (Mali, Adreno, VideoCore on phones and Pis) are
// not reported: a task that sets gpu_required expects CUDA/ROCm-class hardware, and nearly
// every laptop and phone would otherwise match. gpu_name is the model when the driver gives
// one, else "NVIDIA GPU (10de:xxxx)" / "AMD GPU (1002:xxxx)".
//
// tags are left empty (they come from configuration). role is default_role(platform).
[[nodiscard]] DeviceCapabilities probe_capabilities(const ProbeOptions& options);
[[nodiscard]] DeviceCapabilities probe_capabilities(); // ProbeOptions{} (checks internet)

// "android" under Android/Termux (ANDROID_ROOT, ANDROID_DATA or TERMUX_VERSION set, or
// /system/build.prop exists), "darwin" on Apple, "windows" on Windows, else "linux".
[[nodiscard]] std::string detect_platform();

// The first GPU that counts under the policy above, as gpu_name; empty when none. root_dir
// prefixes /proc, /sys and /dev (tests point it at a fake tree).
[[nodiscard]] std::string detect_gpu(const std::string& root_dir = "/");

// "mobile" for android, "worker" otherwise.
[[nodiscard]] std::string default_role(std::string_view platform);

// True when a TCP connection to 1.1.1.1:53 or 8.8.8.8:53 opens within timeout (see
// ProbeOptions). Sends traffic to public addresses: never call it from tests.
[[nodiscard]] bool internet_reachable(std::chrono::milliseconds timeout);

struct Ipv4Target {
    std::string address; // dotted quad; anything else is skipped
    std::uint16_t port = 0;
};
// The mechanism behind internet_reachable: one non-blocking connect per target, all started
// at once; true as soon as any completes, false on refusal by all or at the timeout. Each
// connection is closed without sending data. Tests use it with 127.0.0.1 only.
[[nodiscard]] bool tcp_connect_any(const std::vector<Ipv4Target>& targets,
                                   std::chrono::milliseconds timeout);

// "<hostname>-<8 hex>", where the hex is the top of a 64-bit FNV-1a hash of the machine id
// (/etc/machine-id, /var/lib/dbus/machine-id, $PREFIX/etc/machine-id), or of the hostname when
// none exists. Lowercase; characters outside [a-z0-9-_.] become '-'. Stable across calls and
// restarts. Caveat: Android usually has neither a machine id nor a distinct hostname
// ("localhost"), so phones should be given an explicit --device-id.
[[nodiscard]] std::string default_device_id();

// Samples the heartbeat metrics. Keeps the previous /proc/stat counters so cpu_percent is
// the busy share of CPU time since the previous sample (or since construction for the first).
// Until one clock tick (~10 ms) has passed since construction, and wherever /proc/stat is
// unreadable (Android 8+ apps), cpu_percent is estimated as load_avg / cores, capped at 100:
// keep one sampler alive rather than constructing one per call. Cost per call: three small
// /proc reads and one statvfs (~50 us on a desktop).
class MetricsSampler {
public:
    explicit MetricsSampler(std::string storage_path = ".");
    [[nodiscard]] proto::DeviceMetrics sample(std::uint32_t running);

private:
    struct CpuTimes {
        std::uint64_t busy = 0;
        std::uint64_t total = 0;
        bool valid = false;
    };
    static CpuTimes read_cpu_times();

    std::string storage_path_;
    CpuTimes prev_;
    double last_cpu_percent_ = 0;
    bool measured_ = false; // a /proc/stat delta has been seen
    int cores_ = 1;
};

} // namespace rc::worker
