// Start-up policy for the outside task types: which of python_eval, http_request and command
// are registered, with a log line for each decision, and the --help text describing them.
#include "outside.hpp"

#include "common/log.hpp"

namespace rc::worker {

void add_outside_handlers(HandlerRegistry& registry, const OutsideConfig& config) {
    constexpr const char* kLog = "worker";

    if (!config.python_eval_enabled) {
        RC_INFO(kLog, "python_eval disabled by configuration");
    } else if (auto python = find_python(config.python_path); !python) {
        RC_WARN(kLog, "python_eval disabled: no usable Python 3.9+ interpreter ("
                          << (config.python_path.empty() ? "python3 on PATH" : config.python_path)
                          << ")");
    } else if (auto script = find_sandbox_script(config.sandbox_script); !script) {
        RC_WARN(kLog, "python_eval disabled: sandbox script rc_eval.py not found ("
                          << (config.sandbox_script.empty() ? "looked next to the executable"
                                                            : config.sandbox_script)
                          << ")");
    } else {
        RC_INFO(kLog, "python_eval enabled: " << *python << " " << *script << " (cpu "
                                              << config.python_cpu_limit.count() << " s, memory "
                                              << (config.python_memory_limit_bytes >> 20)
                                              << " MiB)");
        registry.register_handler("python_eval",
                                  make_python_eval_handler(config, *python, *script));
    }

    if (!config.http_enabled) {
        RC_INFO(kLog, "http_request disabled by configuration");
    } else {
        RC_INFO(kLog, "http_request enabled ("
                          << (config.allow_private_network ? "private networks allowed"
                                                           : "public addresses only")
                          << (config.allow_link_local ? ", link-local allowed" : "") << ")");
        registry.register_handler("http_request", make_http_request_handler(config));
    }

    if (config.allowed_programs.empty()) {
        RC_INFO(kLog, "command disabled: no program allowed (use --allow-command PROGRAM)");
    } else {
        std::string list;
        for (const auto& p : config.allowed_programs)
            list += (list.empty() ? "" : ", ") + p;
        RC_WARN(kLog, "command enabled for: "
                          << list << (config.allow_shell ? " (shell syntax allowed)" : ""));
        registry.register_handler("command", make_command_handler(config));
    }
}

std::string outside_handlers_help() {
    return R"(Task types that reach outside the worker:

  python_eval   SAFE, on when python3 (3.9+) and rc_eval.py are found.
                Evaluates one expression from an allow-listed subset of Python (literals,
                arithmetic, comparisons, comprehensions, a few builtins, math.<name>) in a
                separate interpreter with CPU, memory, file and time limits.
                --python PATH selects the interpreter; --no-python turns it off.
  http_request  SAFE BY DEFAULT, on. Fetches http/https URLs on public addresses only;
                loopback, private, CGNAT and link-local addresses are refused after DNS and
                after every redirect. --no-http turns it off.
                --allow-private-network also allows loopback and private networks (the
                worker's LAN and its own services); link-local (cloud metadata) stays refused.
  command       DANGEROUS, off. Runs programs named with --allow-command PROGRAM
                (repeatable; a bare name is looked up on /usr/local/bin:/usr/bin:/bin, a
                path must match exactly). Arguments are never interpreted by a shell.
                --allow-shell passes string commands to /bin/sh -c: only the first word is
                checked, so shell syntax can then run ANY program. Avoid it.
                --command-workdir DIR sets the working directory (default: a private
                temporary directory).
)";
}

} // namespace rc::worker
