// Capability probing and heartbeat metrics from the OS (/proc, /sys, statvfs, uname). POSIX
// only; every read tolerates a missing or unreadable file (Android hides much of /proc).
#include "probe.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/sysctl.h>
#include <sys/types.h>
#elif defined(__linux__)
#include <sys/sysinfo.h>
#endif

namespace rc::worker {
namespace {

namespace fs = std::filesystem;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

double round2(double v) {
    return std::round(v * 100.0) / 100.0;
}

// Up to `max` bytes of a (small, usually /proc or /sys) file; empty when unreadable.
std::string read_file(const std::string& path, std::size_t max = 64 * 1024) {
    std::string out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    while (out.size() < max) {
        const ssize_t n = ::read(fd, buf, std::min(sizeof buf, max - out.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

std::string trim(std::string s) {
    const auto ws = " \t\r\n";
    s.erase(0, std::min(s.find_first_not_of(ws), s.size()));
    s.erase(s.find_last_not_of(ws) + 1);
    return s;
}

// The kB value of a /proc/meminfo field ("MemTotal:  24684096 kB"), -1 when absent.
long long meminfo_kb(std::string_view meminfo, std::string_view key) {
    std::size_t pos = 0;
    while (pos < meminfo.size()) {
        const std::size_t eol = std::min(meminfo.find('\n', pos), meminfo.size());
        const std::string_view line = meminfo.substr(pos, eol - pos);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ':') {
            return std::strtoll(std::string(line.substr(key.size() + 1)).c_str(), nullptr, 10);
        }
        pos = eol + 1;
    }
    return -1;
}

int cpu_cores() {
    if (const unsigned n = std::thread::hardware_concurrency(); n > 0) return static_cast<int>(n);
    if (const long n = ::sysconf(_SC_NPROCESSORS_ONLN); n > 0) return static_cast<int>(n);
    const std::string info = read_file("/proc/cpuinfo", 1 << 20);
    int count = 0;
    for (std::size_t p = info.find("processor"); p != std::string::npos;
         p = info.find("processor", p + 1)) {
        if (p == 0 || info[p - 1] == '\n') ++count;
    }
    return std::max(count, 1);
}

double memory_gib() {
#if defined(__APPLE__)
    std::uint64_t bytes = 0;
    std::size_t len = sizeof bytes;
    if (::sysctlbyname("hw.memsize", &bytes, &len, nullptr, 0) == 0) return bytes / kGiB;
#elif defined(__linux__)
    struct sysinfo si {};
    if (::sysinfo(&si) == 0 && si.totalram > 0)
        return static_cast<double>(si.totalram) * si.mem_unit / kGiB;
#endif
    const long long kb = meminfo_kb(read_file("/proc/meminfo"), "MemTotal");
    return kb > 0 ? static_cast<double>(kb) * 1024.0 / kGiB : 0.0;
}

double free_storage_gib(const std::string& path) {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) return 0.0;
    return static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize) / kGiB;
}

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return {};
    return buf;
}

std::string machine_arch() {
    struct utsname u {};
    if (::uname(&u) != 0) return {};
    return u.machine;
}

bool has_env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0';
}

// A hex field such as /sys/class/drm/card0/device/vendor ("0x10de\n") -> "10de".
std::string pci_id(const fs::path& file) {
    std::string s = trim(read_file(file.string(), 64));
    if (s.rfind("0x", 0) == 0) s.erase(0, 2);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// Entries of dir in name order (directory order is unspecified); empty when unreadable.
std::vector<fs::path> sorted_entries(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        out.push_back(it->path());
    std::sort(out.begin(), out.end());
    return out;
}

std::uint64_t fnv1a64(std::string_view s) {
    std::uint64_t h = 14695981039346656037ull;
    for (const unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

std::string sanitize_id(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const unsigned char c : s) {
        const char l = static_cast<char>(std::tolower(c));
        const bool ok =
            (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '-' || l == '_' || l == '.';
        out += (c < 0x80 && ok) ? l : '-';
    }
    return out;
}

} // namespace

std::string detect_platform() {
#if defined(__ANDROID__)
    return "android";
#elif defined(__APPLE__)
    return "darwin";
#elif defined(_WIN32)
    return "windows";
#else
    std::error_code ec;
    if (has_env("ANDROID_ROOT") || has_env("ANDROID_DATA") || has_env("TERMUX_VERSION") ||
        fs::exists("/system/build.prop", ec))
        return "android";
    return "linux";
#endif
}

std::string default_role(std::string_view platform) {
    return platform == "android" ? "mobile" : "worker";
}

std::string detect_gpu(const std::string& root_dir) {
    const fs::path root(root_dir);
    for (const auto& gpu : sorted_entries(root / "proc/driver/nvidia/gpus")) {
        const std::string info = read_file((gpu / "information").string());
        const std::size_t p = info.find("Model:");
        if (p == std::string::npos) continue;
        const std::string model = trim(info.substr(p + 6, info.find('\n', p) - p - 6));
        if (!model.empty()) return model;
    }
    for (const auto& card : sorted_entries(root / "sys/class/drm")) {
        const std::string name = card.filename().string();
        // cardN only; cardN-HDMI-A-1 etc. are connectors of the same device.
        if (name.rfind("card", 0) != 0 || name.size() == 4 ||
            !std::all_of(name.begin() + 4, name.end(),
                         [](unsigned char c) { return std::isdigit(c); }))
            continue;
        const std::string vendor = pci_id(card / "device" / "vendor");
        const std::string device = pci_id(card / "device" / "device");
        if (vendor == "10de") return "NVIDIA GPU (10de:" + device + ")";
        if (vendor == "1002") return "AMD GPU (1002:" + device + ")";
    }
    std::error_code ec;
    if (fs::exists(root / "dev/nvidia0", ec)) return "NVIDIA GPU";
    return {};
}

bool tcp_connect_any(const std::vector<Ipv4Target>& targets, std::chrono::milliseconds timeout) {
    std::vector<pollfd> pfds;
    pfds.reserve(targets.size());
    bool reachable = false;
    for (const auto& t : targets) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(t.port);
        if (::inet_pton(AF_INET, t.address.c_str(), &addr.sin_addr) != 1) continue;
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) continue;
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        if (rc == 0) reachable = true;
        if (rc == 0 || errno == EINPROGRESS)
            pfds.push_back(pollfd{fd, POLLOUT, 0});
        else
            ::close(fd);
    }
    std::vector<int> fds;
    for (const auto& p : pfds)
        fds.push_back(p.fd);
    std::size_t pending = pfds.size();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reachable && pending > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        const int n = ::poll(pfds.data(), pfds.size(), static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (auto& p : pfds) {
            if (p.fd < 0 || p.revents == 0) continue;
            int so_error = 0;
            socklen_t len = sizeof so_error;
            if (::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error == 0)
                reachable = true;
            p.fd = -1; // settled; poll ignores negative descriptors
            --pending;
        }
    }
    for (const int fd : fds)
        ::close(fd);
    return reachable;
}

bool internet_reachable(std::chrono::milliseconds timeout) {
    return tcp_connect_any({{"1.1.1.1", 53}, {"8.8.8.8", 53}}, timeout);
}

DeviceCapabilities probe_capabilities(const ProbeOptions& options) {
    DeviceCapabilities c;
    c.cpu_cores = cpu_cores();
    c.memory_gb = round2(memory_gib());
    c.storage_gb = round2(free_storage_gib(options.storage_path));
    c.platform = detect_platform();
    c.architecture = machine_arch();
    c.hostname = host_name();
    c.gpu_name = detect_gpu();
    c.gpu = !c.gpu_name.empty();
    c.internet = options.check_internet && internet_reachable(options.internet_timeout);
    c.role = default_role(c.platform);
    return c;
}

DeviceCapabilities probe_capabilities() {
    return probe_capabilities(ProbeOptions{});
}

std::string default_device_id() {
    const std::string host = host_name();
    std::string id_source;
    std::vector<std::string> files = {"/etc/machine-id", "/var/lib/dbus/machine-id"};
    if (const char* prefix = std::getenv("PREFIX"); prefix && *prefix)
        files.push_back(std::string(prefix) + "/etc/machine-id"); // Termux
    for (const auto& f : files) {
        id_source = trim(read_file(f, 256));
        if (!id_source.empty()) break;
    }
    if (id_source.empty()) id_source = host;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(id_source)));
    const std::string name = sanitize_id(host);
    return (name.empty() ? std::string("device") : name) + "-" + std::string(hex, 8);
}

MetricsSampler::MetricsSampler(std::string storage_path)
    : storage_path_(std::move(storage_path)), prev_(read_cpu_times()), cores_(cpu_cores()) {}

MetricsSampler::CpuTimes MetricsSampler::read_cpu_times() {
    CpuTimes t;
    const std::string stat = read_file("/proc/stat", 512); // only the aggregate first line
    if (stat.rfind("cpu ", 0) != 0) return t;
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    unsigned long long f[8] = {};
    const int n = std::sscanf(stat.c_str(), "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0],
                              &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]);
    if (n < 4) return t;
    for (const auto v : f)
        t.total += v;
    t.busy = t.total - f[3] - f[4];
    t.valid = true;
    return t;
}

proto::DeviceMetrics MetricsSampler::sample(std::uint32_t running) {
    proto::DeviceMetrics m;
    m.running = running;
#if defined(__APPLE__)
    double load[1] = {0};
    if (::getloadavg(load, 1) == 1) m.load_avg = load[0];
#else
    m.load_avg = std::max(0.0, std::strtod(read_file("/proc/loadavg", 128).c_str(), nullptr));
#endif

    const CpuTimes now = read_cpu_times();
    if (now.valid && prev_.valid && now.total > prev_.total && now.busy >= prev_.busy) {
        const double busy = static_cast<double>(now.busy - prev_.busy);
        last_cpu_percent_ = 100.0 * busy / static_cast<double>(now.total - prev_.total);
        measured_ = true;
        prev_ = now;
    } else if (!(now.valid && prev_.valid && now.total == prev_.total)) {
        prev_ = now; // first or unreadable reading, or counters went backwards (CPU hotplug)
    } // else no clock tick since prev_: keep it so the next call measures the whole interval
    // Until a delta exists (or without /proc/stat), estimate from the load average.
    const double estimate = 100.0 * m.load_avg / cores_;
    m.cpu_percent = std::clamp(measured_ ? last_cpu_percent_ : estimate, 0.0, 100.0);

    const std::string meminfo = read_file("/proc/meminfo", 8192);
    const long long total = meminfo_kb(meminfo, "MemTotal");
    long long avail = meminfo_kb(meminfo, "MemAvailable");
    if (avail < 0) { // kernels before 3.14, common on old phones
        avail = std::max(0LL, meminfo_kb(meminfo, "MemFree")) +
                std::max(0LL, meminfo_kb(meminfo, "Buffers")) +
                std::max(0LL, meminfo_kb(meminfo, "Cached"));
    }
    if (total > 0) {
        const double used = static_cast<double>(total - std::min(avail, total));
        m.memory_used_percent = std::clamp(100.0 * used / static_cast<double>(total), 0.0, 100.0);
    }
    m.storage_free_gb = round2(free_storage_gib(storage_path_));
    return m;
}

} // namespace rc::worker
