// The command task type: allow-list, no-shell splitting, shell mode, clean environment,
// output caps, and timeouts/cancellation that kill the whole process group.
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include <sys/types.h>
#include <unistd.h>

#include "common/codec.hpp"
#include "worker/handlers/outside.hpp"

using namespace rc;
using namespace rc::worker;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A private working directory, removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "rc-command-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

OutsideConfig command_config(const TempDir& dir, std::vector<std::string> allowed) {
    OutsideConfig c;
    c.allowed_programs = std::move(allowed);
    c.command_workdir = dir.path.string();
    return c;
}

HandlerOutput run(const Handler& h, const Value& payload, const CancelToken* cancel = nullptr,
                  std::chrono::milliseconds lease = 0ms) {
    TaskContext ctx;
    ctx.task_id = TaskId("t-command");
    ctx.task_type = "command";
    ctx.payload = codec::encode_value(payload);
    ctx.timeout = lease;
    CancelToken local;
    ctx.cancel = cancel ? cancel : &local;
    return h(ctx);
}

Value cmd(Value command, std::optional<double> timeout = std::nullopt) {
    Value p;
    p.set("command", std::move(command));
    if (timeout) p.set("timeout", *timeout);
    return p;
}

Value argv(std::initializer_list<const char*> words) {
    Array a;
    for (const char* w : words)
        a.emplace_back(w);
    return Value(std::move(a));
}

// Runs and requires success; returns the result map.
Value ok(const Handler& h, const Value& payload) {
    auto out = run(h, payload);
    INFO("status " << to_string(out.status) << ": " << out.error);
    REQUIRE(out.status == TaskStatus::Success);
    auto v = codec::decode_value(out.result);
    REQUIRE(v.ok());
    return *v;
}

std::string out_of(const Handler& h, const Value& payload) {
    return ok(h, payload).find("stdout")->as_string();
}

// Gone = no such process, or a zombie waiting for a parent (PID 1) that does not reap.
bool process_gone(pid_t pid) {
    if (::kill(pid, 0) != 0) return errno == ESRCH;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

pid_t read_pid(const fs::path& file) {
    std::ifstream in(file);
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
}

} // namespace

TEST_CASE("command is registered only when programs are allowed", "[command]") {
    TempDir dir;
    OutsideConfig off;
    off.python_eval_enabled = false;
    off.http_enabled = false;
    HandlerRegistry none;
    add_outside_handlers(none, off);
    CHECK(none.find("command") == nullptr);

    auto on = command_config(dir, {"echo"});
    on.python_eval_enabled = false;
    on.http_enabled = false;
    HandlerRegistry some;
    add_outside_handlers(some, on);
    CHECK(some.find("command") != nullptr);
    CHECK(outside_handlers_help().find("--allow-command") != std::string::npos);
}

TEST_CASE("command runs allowed programs and reports their output", "[command]") {
    TempDir dir;
    const auto h =
        make_command_handler(command_config(dir, {"echo", "printf", "/usr/bin/env", "pwd"}));

    const Value r = ok(h, cmd("echo hello"));
    CHECK(r.find("exit_code")->as_int() == 0);
    CHECK(r.find("stdout")->as_string() == "hello\n");
    CHECK(r.find("stderr")->as_string().empty());
    CHECK(r.find("truncated")->as_bool() == false);
    CHECK(r.find("elapsed")->is_number());

    CHECK(out_of(h, cmd("printf 'a%sb' x")) == "axb");
    CHECK(out_of(h, cmd(argv({"printf", "%s|", "a b", "c"}))) == "a b|c|");
    CHECK(out_of(h, cmd("echo 'a  b' \"c  d\" e\\ f \"q\\\"q\"")) == "a  b c  d e f q\"q\n");

    // Clean environment and the operator's working directory.
    ::setenv("RC_TEST_SECRET", "leak", 1);
    const std::string env = out_of(h, cmd("env"));
    CHECK(env.find("PATH=/usr/local/bin:/usr/bin:/bin\n") != std::string::npos);
    CHECK(env.find("LANG=C.UTF-8\n") != std::string::npos);
    CHECK(env.find("HOME=" + dir.path.string() + "\n") != std::string::npos);
    CHECK(env.find("RC_TEST_SECRET") == std::string::npos);
    ::unsetenv("RC_TEST_SECRET");
    std::string pwd = out_of(h, cmd("pwd"));
    REQUIRE_FALSE(pwd.empty());
    pwd.pop_back(); // the newline
    CHECK(fs::equivalent(pwd, dir.path));
}

TEST_CASE("command refuses programs that are not allowed", "[command]") {
    TempDir dir;
    const auto h = make_command_handler(command_config(dir, {"echo"}));
    for (const Value& c :
         {cmd("rm -rf /tmp/nothing"), cmd("/bin/rm x"), cmd(argv({"cat", "/etc/passwd"})),
          cmd("./echo hi"), cmd("bin/echo hi"), cmd("sh -c 'echo hi'")}) {
        auto out = run(h, c);
        CHECK(out.status == TaskStatus::Failed);
        CHECK_THAT(out.error, Catch::StartsWith("command refused:"));
    }
    auto out = run(h, cmd("cat /etc/passwd"));
    CHECK_THAT(out.error, Catch::Contains("'cat' is not on the allow-list (allowed: echo)"));
    CHECK_THAT(run(h, cmd("./echo")).error, Catch::Contains("relative program paths"));
}

TEST_CASE("command matches absolute allow-list entries by basename", "[command]") {
    TempDir dir;
    const auto h = make_command_handler(command_config(dir, {"/usr/bin/printf"}));
    CHECK(out_of(h, cmd("printf x")) == "x");
    CHECK(out_of(h, cmd("/usr/bin/printf y")) == "y");
    CHECK(run(h, cmd("/usr/local/bin/printf z")).status == TaskStatus::Failed);
}

TEST_CASE("command without a shell passes metacharacters literally", "[command]") {
    TempDir dir;
    const auto h = make_command_handler(command_config(dir, {"echo"}));
    CHECK(out_of(h, cmd("echo a | cat")) == "a | cat\n");
    CHECK(out_of(h, cmd("echo $HOME")) == "$HOME\n");
    CHECK(out_of(h, cmd("echo a; rm -rf /")) == "a; rm -rf /\n");
    CHECK(out_of(h, cmd("echo a && echo b")) == "a && echo b\n");
    CHECK(out_of(h, cmd("echo $(id) `id` > out < in")) == "$(id) `id` > out < in\n");
    CHECK(out_of(h, cmd("echo *")) == "*\n");
    CHECK_FALSE(fs::exists(dir.path / "out"));
}

TEST_CASE("command with allow_shell interprets shell syntax", "[command]") {
    TempDir dir;
    auto config = command_config(dir, {"echo"});
    config.allow_shell = true;
    const auto h = make_command_handler(config);
    CHECK(out_of(h, cmd("echo $HOME")) == dir.path.string() + "\n");
    CHECK(out_of(h, cmd("echo a && echo b")) == "a\nb\n");
    CHECK(out_of(h, cmd("echo;echo x")) == "\nx\n");
    CHECK(run(h, cmd("rm -rf x")).status == TaskStatus::Failed); // first word still checked
    CHECK(run(h, cmd("$(echo rm) x")).status == TaskStatus::Failed);
    CHECK(out_of(h, cmd(argv({"echo", "$HOME"}))) == "$HOME\n"); // argv lists never use a shell
}

TEST_CASE("command failures carry the exit code and stderr", "[command]") {
    TempDir dir;
    const auto h = make_command_handler(command_config(dir, {"sh"}));
    auto out = run(h, cmd(argv({"sh", "-c", "echo partial; echo oops >&2; exit 3"})));
    CHECK(out.status == TaskStatus::Failed);
    CHECK_THAT(out.error, Catch::Contains("command exited with code 3") && Catch::Contains("oops"));

    out = run(h, cmd(argv({"sh", "-c", "kill -SEGV $$"})));
    CHECK(out.status == TaskStatus::Failed);
    CHECK_THAT(out.error, Catch::Contains("SIGSEGV"));
}

TEST_CASE("command caps its output", "[command]") {
    TempDir dir;
    auto config = command_config(dir, {"head", "sh"});
    config.command_max_output_bytes = 1000;
    const auto h = make_command_handler(config);
    Value r = ok(h, cmd("head -c 300000 /dev/zero"));
    CHECK(r.find("stdout")->as_string().size() == 1000);
    CHECK(r.find("truncated")->as_bool());
    r = ok(h, cmd(argv({"sh", "-c", "head -c 300000 /dev/zero >&2; echo done"})));
    CHECK(r.find("stderr")->as_string().size() == 1000);
    CHECK(r.find("stdout")->as_string() == "done\n");
    CHECK(r.find("truncated")->as_bool());
}

TEST_CASE("command timeout kills the whole process group", "[command]") {
    TempDir dir;
    const auto h = make_command_handler(command_config(dir, {"sh"}));
    const auto start = std::chrono::steady_clock::now();
    auto out = run(h, cmd("sh -c 'sleep 30 & echo $! > child.pid; wait'", 1.0));
    CHECK(out.status == TaskStatus::Timeout);
    CHECK_THAT(out.error, Catch::Contains("timed out after 1 s"));
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    const pid_t child = read_pid(dir.path / "child.pid");
    REQUIRE(child > 0);
    CHECK(wait_until([&] { return process_gone(child); }, 5000ms));
}

TEST_CASE("command stops promptly when cancelled", "[command]") {
    TempDir dir;
    const auto h = make_command_handler(command_config(dir, {"sh"}));
    CancelToken token;
    HandlerOutput out;
    std::thread runner(
        [&] { out = run(h, cmd("sh -c 'sleep 30 & echo $! > child.pid; wait'"), &token); });
    const bool started = wait_until([&] { return read_pid(dir.path / "child.pid") > 0; }, 10000ms);
    const auto cancelled_at = std::chrono::steady_clock::now();
    token.request(CancelToken::Why::Cancelled);
    runner.join();
    REQUIRE(started);
    CHECK(out.status == TaskStatus::Cancelled);
    CHECK(std::chrono::steady_clock::now() - cancelled_at < 3s);
    const pid_t child = read_pid(dir.path / "child.pid");
    CHECK(wait_until([&] { return process_gone(child); }, 5000ms));
}

TEST_CASE("command timeout is bounded by the task lease", "[command]") {
    TempDir dir;
    const auto h = make_command_handler(command_config(dir, {"sleep"}));
    const auto start = std::chrono::steady_clock::now();
    auto out = run(h, cmd("sleep 20", 30.0), nullptr, 300ms);
    CHECK(out.status == TaskStatus::Timeout);
    CHECK_THAT(out.error, Catch::Contains("300 ms"));
    CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("command rejects malformed payloads", "[command]") {
    TempDir dir;
    const auto h = make_command_handler(command_config(dir, {"echo"}));
    Value missing;
    missing.set("cmd", "echo");
    CHECK_THAT(run(h, missing).error, Catch::Contains("needs a 'command'"));
    CHECK_THAT(run(h, cmd(Value(5))).error, Catch::Contains("string or a list"));
    CHECK_THAT(run(h, cmd(Value(Array{}))).error, Catch::Contains("empty list"));
    CHECK_THAT(run(h, cmd(Value(Array{Value("echo"), Value(1)}))).error,
               Catch::Contains("must be a string"));
    CHECK_THAT(run(h, cmd("echo 'open")).error, Catch::Contains("unterminated single quote"));
    CHECK_THAT(run(h, cmd("echo \"open")).error, Catch::Contains("unterminated double quote"));
    CHECK_THAT(run(h, cmd("   ")).error, Catch::Contains("empty"));
    CHECK_THAT(run(h, cmd("echo x", -1.0)).error, Catch::Contains("greater than 0"));
    CHECK(run(h, Value("echo")).status == TaskStatus::Failed);
}
