// The built-in task types that reach outside the worker process: python_eval (sandboxed
// expression in a short-lived interpreter), http_request (libcurl, address policy checked
// at connect time) and command (allow-listed programs). Which ones run is operator policy.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "worker/handler.hpp"

namespace rc::worker {

struct OutsideConfig {
    // --- python_eval: safe, on when an interpreter and the sandbox script are found.
    bool python_eval_enabled = true;
    std::string python_path;    // "" = search PATH for python3
    std::string sandbox_script; // "" = <exe dir>/rc_eval.py, <exe dir>/../share/retire-cluster/
    std::chrono::seconds python_cpu_limit{5};
    std::chrono::milliseconds python_wall_limit{10000}; // further bounded by the task's lease
    std::size_t python_memory_limit_bytes = std::size_t{512} << 20;
    std::size_t python_max_output_bytes = std::size_t{1} << 20;

    // --- http_request: on by default; public addresses only unless widened here.
    bool http_enabled = true;
    bool allow_private_network = false; // loopback, RFC 1918, CGNAT 100.64/10, fc00::/7
    bool allow_link_local = false;      // 169.254/16 and fe80::/10 (cloud metadata lives here)
    std::size_t http_max_response_bytes = std::size_t{10} << 20;
    std::chrono::seconds http_default_timeout{30};
    std::chrono::seconds http_max_timeout{300};

    // --- command: off unless at least one program is allowed. Dangerous by nature.
    std::vector<std::string>
        allowed_programs;        // bare names (found on the clean PATH) or absolute paths
    bool allow_shell = false;    // string commands go through /bin/sh -c
    std::string command_workdir; // "" = a private temporary directory
    std::size_t command_max_output_bytes = std::size_t{1} << 20; // each of stdout and stderr
    std::chrono::seconds command_default_timeout{60};
    std::chrono::seconds command_max_timeout{3600};
};

// Registers python_eval (only if a Python interpreter and the sandbox script are found),
// http_request (if enabled) and command (only if allowed_programs is non-empty). Logs which
// were enabled and why the others were not.
void add_outside_handlers(HandlerRegistry& registry, const OutsideConfig& config);

// Text for `retire-cluster-worker --help`: which task types are safe, which are dangerous,
// and how to enable each.
std::string outside_handlers_help();

// --- pieces, exposed for the worker's start-up and for tests ------------------------------

// The real interpreter to run: `preferred` (a path, or a name looked up on PATH) or, when
// empty, python3 on PATH. It must start and be at least Python 3.9. Launchers such as pyenv
// shims are resolved to the interpreter they run (sys.executable), so that the sandbox can
// start it with an empty environment.
std::optional<std::string> find_python(const std::string& preferred);

// The sandbox script: `configured` when non-empty (and it exists), else next to the running
// executable, else <exe dir>/../share/retire-cluster/rc_eval.py.
std::optional<std::string> find_sandbox_script(const std::string& configured);

// The handlers themselves. `python` and `script` must come from the finders above.
Handler make_python_eval_handler(const OutsideConfig& config, std::string python,
                                 std::string script);
Handler make_http_request_handler(const OutsideConfig& config);
// The working directory is created here when config.command_workdir is empty.
Handler make_command_handler(const OutsideConfig& config);

} // namespace rc::worker
