// Tests for worker/probe (on this Linux machine, with the internet check off: no traffic
// leaves loopback) and for the device -> rc::Value converters in common/device_value.
#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/device_value.hpp"
#include "common/json.hpp"
#include "worker/probe.hpp"

using namespace rc;
using worker::ProbeOptions;

namespace {

DeviceCapabilities probe_offline() {
    ProbeOptions o;
    o.check_internet = false;
    return worker::probe_capabilities(o);
}

double meminfo_total_gib() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    long long kb = 0;
    while (in >> key >> kb) {
        if (key == "MemTotal:") return static_cast<double>(kb) / (1024.0 * 1024.0);
        in.ignore(1 << 10, '\n');
    }
    return -1;
}

bool any_android_hint() {
    for (const char* v : {"ANDROID_ROOT", "ANDROID_DATA", "TERMUX_VERSION"}) {
        if (std::getenv(v) != nullptr) return true;
    }
    return std::ifstream("/system/build.prop").good();
}

} // namespace

TEST_CASE("probe: cpu, memory and storage of this machine", "[probe]") {
    const DeviceCapabilities c = probe_offline();
    CHECK(c.cpu_cores >= 1);
    if (const unsigned hc = std::thread::hardware_concurrency(); hc != 0)
        CHECK(c.cpu_cores == static_cast<int>(hc));
    CHECK(c.memory_gb > 0);
    const double meminfo = meminfo_total_gib();
    if (meminfo > 0) CHECK(c.memory_gb == Approx(meminfo).margin(0.02));
    CHECK(c.storage_gb >= 0);
    CHECK(c.tags.empty());
}

TEST_CASE("probe: platform, architecture, hostname and role", "[probe]") {
    const DeviceCapabilities c = probe_offline();
    if (!any_android_hint()) {
        CHECK(c.platform == "linux");
        CHECK(c.role == "worker");
    }
    utsname u{};
    REQUIRE(::uname(&u) == 0);
    CHECK(c.architecture == u.machine);
    char host[256] = {};
    REQUIRE(::gethostname(host, sizeof host - 1) == 0);
    CHECK_FALSE(c.hostname.empty());
    CHECK(c.hostname == host);
    CHECK(c.gpu == !c.gpu_name.empty());
}

namespace {

// A throwaway directory tree standing in for /proc, /sys and /dev; removed on scope exit.
struct FakeRoot {
    std::filesystem::path dir;
    FakeRoot() {
        char tmpl[] = "/tmp/rc_probe_test_XXXXXX";
        const char* made = ::mkdtemp(tmpl);
        REQUIRE(made != nullptr);
        dir = made;
    }
    ~FakeRoot() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    void write(const std::string& rel, const std::string& text) const {
        const auto path = dir / rel;
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path) << text;
    }
    void drm_card(const std::string& name, const std::string& vendor,
                  const std::string& dev) const {
        write("sys/class/drm/" + name + "/device/vendor", vendor + "\n");
        write("sys/class/drm/" + name + "/device/device", dev + "\n");
    }
};

} // namespace

TEST_CASE("probe: GPU policy counts NVIDIA and AMD, not integrated or SoC GPUs", "[probe]") {
    SECTION("nothing present") {
        FakeRoot root;
        CHECK(worker::detect_gpu(root.dir.string()).empty());
    }
    SECTION("Intel integrated graphics and connectors are ignored") {
        FakeRoot root;
        root.drm_card("card0", "0x8086", "0x9b41");
        root.write("sys/class/drm/card0-eDP-1/status", "connected\n");
        root.write("sys/class/drm/renderD128/dev", "226:128\n");
        CHECK(worker::detect_gpu(root.dir.string()).empty());
    }
    SECTION("SoC GPU without a PCI vendor (phone, Raspberry Pi) is ignored") {
        FakeRoot root;
        root.write("sys/class/drm/card0/dev", "226:0\n");
        CHECK(worker::detect_gpu(root.dir.string()).empty());
    }
    SECTION("AMD card next to Intel") {
        FakeRoot root;
        root.drm_card("card0", "0x8086", "0x3e9b");
        root.drm_card("card1", "0x1002", "0x73BF");
        CHECK(worker::detect_gpu(root.dir.string()) == "AMD GPU (1002:73bf)");
    }
    SECTION("nouveau-driven NVIDIA card") {
        FakeRoot root;
        root.drm_card("card0", "0x10de", "0x1c82");
        CHECK(worker::detect_gpu(root.dir.string()) == "NVIDIA GPU (10de:1c82)");
    }
    SECTION("the proprietary driver's model name wins") {
        FakeRoot root;
        root.drm_card("card0", "0x10de", "0x1c82");
        root.write("proc/driver/nvidia/gpus/0000:01:00.0/information",
                   "Model: \t\t NVIDIA GeForce GTX 1050 Ti\nIRQ:   \t\t 130\n");
        CHECK(worker::detect_gpu(root.dir.string()) == "NVIDIA GeForce GTX 1050 Ti");
    }
    SECTION("a device node alone") {
        FakeRoot root;
        root.write("dev/nvidia0", "");
        CHECK(worker::detect_gpu(root.dir.string()) == "NVIDIA GPU");
    }
}

TEST_CASE("probe: check_internet=false never reports internet", "[probe]") {
    ProbeOptions o;
    o.check_internet = false;
    o.internet_timeout = std::chrono::milliseconds(1);
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(worker::probe_capabilities(o).internet);
}

namespace {

// A TCP socket bound to 127.0.0.1 on an ephemeral port, listening or not; closed on scope exit.
struct LoopbackSocket {
    int fd = -1;
    std::uint16_t port = 0;
    explicit LoopbackSocket(bool listen) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            (listen && ::listen(fd, 4) != 0) ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            return;
        port = ntohs(a.sin_port);
    }
    ~LoopbackSocket() {
        if (fd >= 0) ::close(fd);
    }
};

} // namespace

TEST_CASE("probe: tcp_connect_any on loopback", "[probe]") {
    using std::chrono::milliseconds;
    LoopbackSocket listener(true);
    REQUIRE(listener.port != 0);
    CHECK(worker::tcp_connect_any({{"127.0.0.1", listener.port}}, milliseconds(1000)));

    // Bound but not listening: the connect is refused, well before the timeout.
    LoopbackSocket closed(false);
    REQUIRE(closed.port != 0);
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(worker::tcp_connect_any({{"127.0.0.1", closed.port}}, milliseconds(1000)));
    CHECK(std::chrono::steady_clock::now() - start < milliseconds(900));

    // One good target is enough; unparsable addresses are skipped, never resolved.
    CHECK(worker::tcp_connect_any({{"127.0.0.1", closed.port}, {"127.0.0.1", listener.port}},
                                  milliseconds(1000)));
    CHECK_FALSE(worker::tcp_connect_any({{"localhost", listener.port}}, milliseconds(100)));
    CHECK_FALSE(worker::tcp_connect_any({}, milliseconds(100)));
}

TEST_CASE("probe: an unreadable storage path reports zero, not an error", "[probe]") {
    ProbeOptions o;
    o.check_internet = false;
    o.storage_path = "/nonexistent/retire-cluster/path";
    CHECK(worker::probe_capabilities(o).storage_gb == 0);
}

TEST_CASE("probe: android hints in the environment switch platform and role", "[probe]") {
    CHECK(worker::default_role("android") == "mobile");
    CHECK(worker::default_role("linux") == "worker");
    CHECK(worker::default_role("darwin") == "worker");
    if (any_android_hint()) return; // cannot observe the switch on a real Android host
    CHECK(worker::detect_platform() == "linux");
    ::setenv("TERMUX_VERSION", "0.118.0", 1);
    const std::string with_termux = worker::detect_platform();
    const std::string role = probe_offline().role;
    ::unsetenv("TERMUX_VERSION");
    CHECK(with_termux == "android");
    CHECK(role == "mobile");
    ::setenv("ANDROID_DATA", "/data", 1);
    const std::string with_android_data = worker::detect_platform();
    ::unsetenv("ANDROID_DATA");
    CHECK(with_android_data == "android");
    CHECK(worker::detect_platform() == "linux");
}

TEST_CASE("probe: default_device_id is stable and uses the allowed charset", "[probe]") {
    const std::string id = worker::default_device_id();
    CHECK(id == worker::default_device_id());
    REQUIRE(id.size() > 9);
    for (const char ch : id) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                        ch == '_' || ch == '.';
        INFO("id: " << id);
        CHECK(ok);
    }
    // "<hostname>-<8 hex>"
    CHECK(id[id.size() - 9] == '-');
    for (std::size_t i = id.size() - 8; i < id.size(); ++i)
        CHECK(std::isxdigit(id[i]));
}

TEST_CASE("probe: MetricsSampler values stay in range", "[probe]") {
    worker::MetricsSampler sampler;
    for (std::uint32_t i = 0; i < 5; ++i) {
        volatile double sink = 0; // a little work between samples, no sleeping
        for (int k = 0; k < 200000; ++k)
            sink = sink + k * 0.5;
        const proto::DeviceMetrics m = sampler.sample(i);
        CHECK(m.running == i);
        CHECK(m.load_avg >= 0);
        CHECK(m.cpu_percent >= 0);
        CHECK(m.cpu_percent <= 100);
        CHECK(m.memory_used_percent > 0);
        CHECK(m.memory_used_percent <= 100);
        CHECK(m.storage_free_gb >= 0);
    }
}

TEST_CASE("device_value: capabilities map uses the struct field names in order", "[probe]") {
    DeviceCapabilities c;
    c.cpu_cores = 4;
    c.memory_gb = 3.5;
    c.storage_gb = 12.25;
    c.platform = "android";
    c.architecture = "aarch64";
    c.hostname = "phone";
    c.gpu = false;
    c.internet = true;
    c.role = "mobile";
    c.tags = {"battery", "arm"};
    const Value v = capabilities_to_value(c);
    CHECK(json::dump(v) ==
          R"({"cpu_cores":4,"memory_gb":3.5,"storage_gb":12.25,"platform":"android",)"
          R"("architecture":"aarch64","hostname":"phone","gpu":false,"gpu_name":"",)"
          R"("internet":true,"role":"mobile","tags":["battery","arm"]})");
    REQUIRE(v.find("cpu_cores") != nullptr);
    CHECK(v.find("cpu_cores")->as_int() == 4);
}

TEST_CASE("device_value: metrics map uses the struct field names in order", "[probe]") {
    proto::DeviceMetrics m;
    m.load_avg = 0.5;
    m.cpu_percent = 12.5;
    m.memory_used_percent = 40.0;
    m.storage_free_gb = 7.0;
    m.running = 2;
    CHECK(json::dump(metrics_to_value(m)) ==
          R"({"load_avg":0.5,"cpu_percent":12.5,"memory_used_percent":40.0,)"
          R"("storage_free_gb":7.0,"running":2})");
}
