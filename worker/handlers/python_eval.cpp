// The python_eval handler: runs worker/sandbox/rc_eval.py in a fresh, isolated interpreter
// under CPU/memory/file/wall limits and turns its one JSON line into an rc::Value. The
// expression is never evaluated inside the worker; the allow-list lives in the script.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <system_error>

#include <unistd.h>

#include "common/json.hpp"
#include "common/log.hpp"
#include "outside.hpp"
#include "outside_util.hpp"
#include "subprocess.hpp"

namespace rc::worker {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::size_t kMaxStderr = 64 * 1024;
constexpr std::size_t kEnvelopeSlack = 4096; // {"ok":true,"value":...} around the result
constexpr std::uint64_t kOpenFiles = 16;
constexpr std::string_view kVersionProbe =
    "import sys\nif sys.version_info < (3, 9): sys.exit(3)\nprint(sys.executable)";

// Undoes the script's tagging: JSON objects are {"$bytes"}, {"$float"} or {"$dict"}.
Result<Value, std::string> untag(const Value& v) {
    if (v.is_array()) {
        Array out;
        out.reserve(v.as_array().size());
        for (const auto& item : v.as_array()) {
            auto u = untag(item);
            if (!u) return u;
            out.push_back(std::move(u).value());
        }
        return Value(std::move(out));
    }
    if (!v.is_map()) return v;
    const Map& m = v.as_map();
    if (m.size() != 1 || !m[0].first.is_string()) return err(std::string("malformed tag"));
    const std::string& tag = m[0].first.as_string();
    const Value& body = m[0].second;
    if (tag == "$bytes" && body.is_string()) {
        auto raw = json::base64_decode(body.as_string());
        if (!raw) return err(raw.error());
        return Value(Blob{std::move(raw).value()});
    }
    if (tag == "$float" && body.is_string()) {
        const std::string& f = body.as_string();
        if (f == "nan") return Value(std::numeric_limits<double>::quiet_NaN());
        if (f == "inf") return Value(std::numeric_limits<double>::infinity());
        if (f == "-inf") return Value(-std::numeric_limits<double>::infinity());
    }
    if (tag == "$dict" && body.is_array()) {
        Map out;
        for (const auto& pair : body.as_array()) {
            if (!pair.is_array() || pair.as_array().size() != 2)
                return err(std::string("malformed $dict"));
            auto k = untag(pair.as_array()[0]);
            if (!k) return k;
            auto val = untag(pair.as_array()[1]);
            if (!val) return val;
            out.emplace_back(std::move(k).value(), std::move(val).value());
        }
        return Value(std::move(out));
    }
    return err("unknown tag " + tag);
}

std::string mib(std::size_t bytes) {
    return std::to_string(bytes >> 20) + " MiB";
}

bool mentions_memory(const std::string& err) {
    return err.find("MemoryError") != std::string::npos ||
           err.find("Cannot allocate memory") != std::string::npos ||
           err.find("out of memory") != std::string::npos;
}

HandlerOutput interpret(const ProcessOutcome& r, const OutsideConfig& config,
                        std::chrono::milliseconds wall, const TaskContext& ctx) {
    using End = ProcessOutcome::End;
    const std::string memory_error =
        "memory limit exceeded (" + mib(config.python_memory_limit_bytes) + ")";
    const std::string cpu_error = "expression exceeded the CPU time limit of " +
                                  std::to_string(config.python_cpu_limit.count()) + " s";
    if (r.end == End::Cancelled && ctx.cancel) return HandlerOutput::stopped(*ctx.cancel);
    if (r.end == End::TimedOut)
        return HandlerOutput::timed_out("expression did not finish within " +
                                        outside::describe(wall) + " (wall-clock limit)");
    if (r.end == End::Signaled) {
        if (r.signal == SIGXCPU) return HandlerOutput::timed_out(cpu_error);
        if (r.signal == SIGKILL && r.elapsed >= config.python_cpu_limit)
            return HandlerOutput::timed_out(cpu_error); // the hard CPU limit follows SIGXCPU
        if (mentions_memory(r.err)) return HandlerOutput::failed(memory_error);
        return HandlerOutput::failed("evaluator killed by " + signal_name(r.signal));
    }
    if (r.out_truncated)
        return HandlerOutput::failed("result is too large (more than " +
                                     std::to_string(config.python_max_output_bytes) +
                                     " bytes encoded)");
    auto reply = json::parse(r.out);
    if (r.exit_code != 0 || !reply || !reply->is_map()) {
        if (mentions_memory(r.err)) return HandlerOutput::failed(memory_error);
        return HandlerOutput::failed("evaluator exited with code " + std::to_string(r.exit_code) +
                                     ": " + outside::tail(r.err, 500));
    }
    const Value* ok = reply->find("ok");
    if (ok && ok->is_bool() && ok->as_bool()) {
        const Value* value = reply->find("value");
        auto plain = value ? untag(*value) : Result<Value, std::string>(Value{});
        if (!plain) return HandlerOutput::failed("evaluator output is malformed: " + plain.error());
        return HandlerOutput::ok(*plain);
    }
    const Value* kind = reply->find("kind");
    if (kind && kind->is_string() && kind->as_string() == "memory")
        return HandlerOutput::failed(memory_error);
    const Value* message = reply->find("error");
    return HandlerOutput::failed(message && message->is_string() ? message->as_string()
                                                                 : "evaluation failed");
}

std::string search_path(const std::string& name) {
    const char* env = std::getenv("PATH");
    const std::string path = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find(':', start), path.size());
        const std::string dir = path.substr(start, end - start);
        start = end + 1;
        if (dir.empty()) continue; // an empty entry means ".", which we never search
        const std::string candidate = dir + "/" + name;
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return {};
}

} // namespace

std::optional<std::string> find_python(const std::string& preferred) {
    const std::string name = preferred.empty() ? "python3" : preferred;
    const std::string candidate = name.find('/') != std::string::npos ? name : search_path(name);
    if (candidate.empty() || ::access(candidate.c_str(), X_OK) != 0) return std::nullopt;

    // Ask it for the real interpreter, with the operator's environment (launchers need it).
    ProcessSpec probe;
    probe.program = candidate;
    probe.argv = {candidate, "-I", "-S", "-c", std::string(kVersionProbe)};
    probe.inherit_env = true;
    probe.timeout = 20s;
    auto r = run_process(probe);
    if (!r || r->end != ProcessOutcome::End::Exited || r->exit_code != 0) return std::nullopt;
    std::string exe = outside::tail(r->out, 4096);
    if (exe.empty() || exe.find('\n') != std::string::npos || exe.front() != '/') exe = candidate;

    // The sandbox starts it with an empty environment: check that this works too.
    ProcessSpec bare;
    bare.program = exe;
    bare.argv = {exe, "-I", "-S", "-B", "-c", "import ast, base64, json, math"};
    bare.cwd = "/";
    bare.timeout = 20s;
    auto b = run_process(bare);
    if (!b || b->end != ProcessOutcome::End::Exited || b->exit_code != 0) return std::nullopt;
    return exe;
}

std::optional<std::string> find_sandbox_script(const std::string& configured) {
    std::error_code ec;
    if (!configured.empty()) {
        if (!fs::is_regular_file(configured, ec)) return std::nullopt;
        const fs::path absolute = fs::absolute(configured, ec); // the sandbox runs in "/"
        return ec ? std::nullopt : std::optional<std::string>(absolute.lexically_normal().string());
    }
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return std::nullopt;
    for (const fs::path& p :
         {exe.parent_path() / "rc_eval.py",
          exe.parent_path() / ".." / "share" / "retire-cluster" / "rc_eval.py"}) {
        if (fs::is_regular_file(p, ec)) return p.lexically_normal().string();
    }
    return std::nullopt;
}

Handler make_python_eval_handler(const OutsideConfig& config, std::string python,
                                 std::string script) {
    std::error_code ec;
    if (auto absolute = fs::absolute(script, ec); !ec)
        script = absolute.lexically_normal().string();
    return [config, python = std::move(python),
            script = std::move(script)](const TaskContext& ctx) {
        auto payload = outside::payload_map(ctx, "python_eval");
        if (!payload) return HandlerOutput::failed(payload.error());
        const Value* expr = payload->find("expression");
        if (!expr)
            return HandlerOutput::failed("python_eval: payload needs an 'expression' string");
        if (!expr->is_string())
            return HandlerOutput::failed("python_eval: 'expression' must be a string");
        if (expr->as_string().empty())
            return HandlerOutput::failed("python_eval: 'expression' is empty");
        auto wall = outside::bounded_timeout(payload->find("timeout"), config.python_wall_limit,
                                             config.python_wall_limit, ctx);
        if (!wall) return HandlerOutput::failed("python_eval: " + wall.error());

        ProcessSpec spec;
        spec.program = python;
        spec.argv = {python,
                     "-I",
                     "-S",
                     "-B",
                     script,
                     "--max-output",
                     std::to_string(config.python_max_output_bytes)};
        spec.cwd = "/"; // and an empty environment: nothing of the worker's leaks in
        spec.stdin_data = expr->as_string();
        spec.limits.cpu_seconds = static_cast<std::uint64_t>(config.python_cpu_limit.count());
        spec.limits.address_space = config.python_memory_limit_bytes;
        spec.limits.file_size = 0;
        spec.limits.open_files = kOpenFiles;
        spec.max_stdout = config.python_max_output_bytes + kEnvelopeSlack;
        spec.max_stderr = kMaxStderr;
        spec.timeout = *wall;
        spec.kill_grace = 100ms;
        spec.cancel = ctx.cancel;
        auto r = run_process(spec);
        if (!r)
            return HandlerOutput::failed("python_eval: cannot start the interpreter: " + r.error());
        return interpret(*r, config, *wall, ctx);
    };
}

} // namespace rc::worker
