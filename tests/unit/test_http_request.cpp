// The http_request task type against a local server (tests/support/http_test_server.py on
// 127.0.0.1, ephemeral port), plus the address policy table for IPv4 and IPv6.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/codec.hpp"
#include "common/json.hpp"
#include "worker/handlers/net_policy.hpp"
#include "worker/handlers/outside.hpp"

using namespace rc;
using namespace rc::worker;
using namespace std::chrono_literals;

namespace {

const std::string kServerScript =
    std::filesystem::absolute(std::filesystem::path(__FILE__).parent_path() /
                              "../support/http_test_server.py")
        .lexically_normal()
        .string();

// Starts the test server and kills it when the test ends.
class TestServer {
public:
    TestServer() {
        const auto python = find_python("");
        REQUIRE(python.has_value());
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        std::vector<std::string> args{*python, "-I", "-B", kServerScript};
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(p[1], 1);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(p[1]);
        fd_ = p[0];
        port_ = read_port();
        REQUIRE(port_ > 0);
    }
    ~TestServer() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        ::close(fd_);
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    [[nodiscard]] std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    [[nodiscard]] int port() const { return port_; }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
    int port_ = 0;

    int read_port() const {
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + 15s;
        while (line.find('\n') == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            pollfd pfd{fd_, POLLIN, 0};
            if (::poll(&pfd, 1, 100) <= 0) continue;
            char buf[64];
            const ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) break;
            line.append(buf, static_cast<std::size_t>(n));
        }
        try {
            return std::stoi(line);
        } catch (...) {
            return 0;
        }
    }
};

OutsideConfig local_config() {
    OutsideConfig c;
    c.allow_private_network = true; // the test server is on loopback
    return c;
}

HandlerOutput run(const OutsideConfig& config, const Value& payload,
                  const CancelToken* cancel = nullptr) {
    TaskContext ctx;
    ctx.task_id = TaskId("t-http");
    ctx.task_type = "http_request";
    ctx.payload = codec::encode_value(payload);
    CancelToken local;
    ctx.cancel = cancel ? cancel : &local;
    return make_http_request_handler(config)(ctx);
}

Value get(const std::string& url) {
    Value p;
    p.set("url", url);
    return p;
}

Value ok(const OutsideConfig& config, const Value& payload) {
    auto out = run(config, payload);
    INFO("status " << to_string(out.status) << ": " << out.error);
    REQUIRE(out.status == TaskStatus::Success);
    auto v = codec::decode_value(out.result);
    REQUIRE(v.ok());
    return *v;
}

std::string header(const Value& result, const std::string& name) {
    const Value* v = result.find("headers")->find(name);
    return v && v->is_string() ? v->as_string() : "";
}

} // namespace

TEST_CASE("address policy refuses non-public addresses", "[http_request]") {
    const AddressPolicy strict{};
    const AddressPolicy lan{true, false};
    const AddressPolicy metadata{false, true};
    for (const char* ip :
         {"127.0.0.1", "127.1.2.3", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
          "100.64.0.1", "100.127.255.254", "::1", "fc00::1", "fd12:3456::1", "::ffff:127.0.0.1",
          "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:c0a8:101::1", "::10.0.0.1"}) {
        INFO(ip);
        CHECK(refusal(ip, strict).has_value());
        CHECK_FALSE(refusal(ip, lan).has_value());
    }
    for (const char* ip : {"169.254.169.254", "169.254.0.1", "fe80::1", "::ffff:169.254.169.254"}) {
        INFO(ip);
        CHECK(refusal(ip, strict).has_value());
        CHECK(refusal(ip, lan).has_value()); // metadata stays refused on a LAN-enabled worker
        CHECK_FALSE(refusal(ip, metadata).has_value());
    }
    for (const char* ip : {"0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255",
                           "240.0.0.1", "::", "ff02::1", "::ffff:0.0.0.0"}) {
        INFO(ip);
        CHECK(refusal(ip, AddressPolicy{true, true}).has_value()); // never allowed
    }
    for (const char* ip : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.169.0.1",
                           "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"}) {
        INFO(ip);
        CHECK_FALSE(refusal(ip, strict).has_value());
    }
    CHECK(refusal("127.0.0.1", strict).value() ==
          "refused: 127.0.0.1 is a loopback address (start the worker with "
          "--allow-private-network to allow it)");
    CHECK_THAT(refusal("169.254.169.254", lan).value(),
               Catch::StartsWith("refused: 169.254.169.254 is a link-local address"));
    CHECK_THAT(refusal("0.0.0.0", lan).value(),
               Catch::Contains("unspecified") && Catch::Contains("never"));
    CHECK(refusal("not-an-ip", lan).has_value());
}

TEST_CASE("http_request is registered unless disabled", "[http_request]") {
    OutsideConfig c;
    c.python_eval_enabled = false;
    HandlerRegistry on;
    add_outside_handlers(on, c);
    CHECK(on.find("http_request") != nullptr);
    c.http_enabled = false;
    HandlerRegistry off;
    add_outside_handlers(off, c);
    CHECK(off.find("http_request") == nullptr);
}

TEST_CASE("http_request GET returns status, headers and a text body", "[http_request]") {
    TestServer server;
    const Value r = ok(local_config(), get(server.url("/hello")));
    CHECK(r.find("status_code")->as_int() == 200);
    CHECK(r.find("body")->as_string() == "hello from the test server\n");
    CHECK(r.find("body_encoding")->as_string() == "text");
    CHECK(header(r, "content-type") == "text/plain; charset=utf-8");
    CHECK(r.find("url")->as_string() == server.url("/hello"));
    CHECK(r.find("elapsed")->is_number());

    const Value redirected = ok(local_config(), get(server.url("/redirect-local")));
    CHECK(redirected.find("status_code")->as_int() == 200);
    CHECK(redirected.find("url")->as_string() == server.url("/hello"));

    for (int code : {404, 503}) { // HTTP errors are results, not task failures
        const Value e = ok(local_config(), get(server.url("/status/" + std::to_string(code))));
        CHECK(e.find("status_code")->as_int() == code);
    }
    Value head = get(server.url("/hello"));
    head.set("method", "head");
    CHECK(ok(local_config(), head).find("body")->as_string().empty());
}

TEST_CASE("http_request POST sends JSON and headers", "[http_request]") {
    TestServer server;
    Value p = get(server.url("/echo"));
    p.set("method", "POST");
    Value headers;
    headers.set("X-Test", "42");
    headers.set("X-Number", 7);
    p.set("headers", headers);
    Value body;
    body.set("a", Array{Value(1), Value(2)});
    body.set("b", "c");
    p.set("json", body);
    const Value r = ok(local_config(), p);
    CHECK(r.find("status_code")->as_int() == 200);
    auto echoed = json::parse(r.find("body")->as_string());
    REQUIRE(echoed.ok());
    CHECK(echoed->find("method")->as_string() == "POST");
    CHECK(*echoed->find("json") == body);
    CHECK(echoed->find("headers")->find("x-test")->as_string() == "42");
    CHECK(echoed->find("headers")->find("x-number")->as_string() == "7");
    CHECK(echoed->find("headers")->find("content-type")->as_string() == "application/json");

    Value put = get(server.url("/echo"));
    put.set("method", "PUT");
    put.set("body", "[1, 2, 3]");
    auto put_echo = json::parse(ok(local_config(), put).find("body")->as_string());
    REQUIRE(put_echo.ok());
    CHECK(put_echo->find("method")->as_string() == "PUT");
    CHECK(*put_echo->find("json") == Value(Array{Value(1), Value(2), Value(3)}));
}

TEST_CASE("http_request returns binary bodies as base64", "[http_request]") {
    TestServer server;
    const Value r = ok(local_config(), get(server.url("/bin")));
    CHECK(r.find("body_encoding")->as_string() == "base64");
    auto raw = json::base64_decode(r.find("body")->as_string());
    REQUIRE(raw.ok());
    REQUIRE(raw->size() == 1024);
    for (std::size_t i = 0; i < raw->size(); ++i)
        CHECK(static_cast<unsigned char>((*raw)[i]) == i % 256);
}

TEST_CASE("http_request times out", "[http_request]") {
    TestServer server;
    Value p = get(server.url("/slow"));
    p.set("timeout", 0.5);
    const auto start = std::chrono::steady_clock::now();
    auto out = run(local_config(), p);
    CHECK(out.status == TaskStatus::Timeout);
    CHECK_THAT(out.error, Catch::Contains("timed out after 500 ms"));
    CHECK(std::chrono::steady_clock::now() - start < 4s);

    CancelToken cancelled;
    cancelled.request(CancelToken::Why::Cancelled);
    CHECK(run(local_config(), get(server.url("/slow")), &cancelled).status ==
          TaskStatus::Cancelled);
}

TEST_CASE("http_request caps the response size", "[http_request]") {
    TestServer server;
    auto config = local_config();
    config.http_max_response_bytes = std::size_t{1} << 20;
    auto out = run(config, get(server.url("/big")));
    CHECK(out.status == TaskStatus::Failed);
    CHECK(out.error == "response body is larger than the limit of 1048576 bytes");

    Value more = get(server.url("/big"));
    more.set("max_bytes", 100 << 20); // a payload cannot raise the operator's cap
    CHECK(run(config, more).status == TaskStatus::Failed);

    Value less = get(server.url("/hello"));
    less.set("max_bytes", 5);
    CHECK_THAT(run(config, less).error, Catch::Contains("limit of 5 bytes"));
    CHECK(ok(local_config(), get(server.url("/big"))).find("body")->as_string().size() == 2u << 20);
}

TEST_CASE("http_request refuses loopback without allow_private_network", "[http_request]") {
    TestServer server;
    const OutsideConfig strict; // the default
    auto out = run(strict, get(server.url("/hello")));
    CHECK(out.status == TaskStatus::Failed);
    CHECK(out.error == "refused: 127.0.0.1 is a loopback address (start the worker with "
                       "--allow-private-network to allow it)");
    out = run(strict, get("http://localhost:" + std::to_string(server.port()) + "/hello"));
    CHECK(out.status == TaskStatus::Failed);
    CHECK_THAT(out.error, Catch::StartsWith("refused: ") && Catch::Contains("loopback"));
}

TEST_CASE("http_request refuses a redirect to the metadata address", "[http_request]") {
    TestServer server;
    const auto start = std::chrono::steady_clock::now();
    auto out = run(local_config(), get(server.url("/redirect-meta")));
    CHECK(out.status == TaskStatus::Failed);
    CHECK_THAT(out.error, Catch::StartsWith("refused: 169.254.169.254 is a link-local address"));
    CHECK(std::chrono::steady_clock::now() - start < 5s); // refused before any connect attempt
}

TEST_CASE("http_request validates its payload", "[http_request]") {
    const OutsideConfig c = local_config();
    CHECK_THAT(run(c, get("file:///etc/passwd")).error, Catch::Contains("only http and https"));
    CHECK_THAT(run(c, get("ftp://example.com/")).error, Catch::Contains("only http and https"));
    CHECK_THAT(run(c, get("gopher://127.0.0.1/")).error, Catch::Contains("only http and https"));
    CHECK_THAT(run(c, Value(Map{})).error, Catch::Contains("'url'"));
    Value trace = get("http://127.0.0.1:1/");
    trace.set("method", "TRACE");
    CHECK_THAT(run(c, trace).error, Catch::Contains("unsupported method"));
    Value injected = get("http://127.0.0.1:1/");
    Value h;
    h.set("X-A", "1\r\nX-Injected: 2");
    injected.set("headers", h);
    CHECK_THAT(run(c, injected).error, Catch::Contains("line break"));
    Value both = get("http://127.0.0.1:1/");
    both.set("body", "x");
    both.set("json", 1);
    CHECK_THAT(run(c, both).error, Catch::Contains("either 'body' or 'json'"));
    Value bad_timeout = get("http://127.0.0.1:1/");
    bad_timeout.set("timeout", "soon");
    CHECK_THAT(run(c, bad_timeout).error, Catch::Contains("'timeout'"));
}
