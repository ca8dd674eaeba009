// Runs one child program to completion under control: explicit argv/env/cwd, rlimits, its
// own process group, capped stdout/stderr, a wall-clock timeout and cancellation. It never
// runs a shell and never searches PATH; callers decide what may run and resolve its path.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "worker/handler.hpp"

namespace rc::worker {

// Resource limits applied in the child between fork and exec. Unset = inherited.
struct ProcessLimits {
    std::optional<std::uint64_t> cpu_seconds; // RLIMIT_CPU: SIGXCPU at the limit, SIGKILL 1 s later
    std::optional<std::uint64_t> address_space; // RLIMIT_AS, bytes
    std::optional<std::uint64_t> file_size;     // RLIMIT_FSIZE, bytes (0 = no regular file writes)
    std::optional<std::uint64_t> open_files;    // RLIMIT_NOFILE
    bool no_core_dumps = true;                  // RLIMIT_CORE 0
};

struct ProcessSpec {
    std::string program;           // path passed to execve (no PATH search)
    std::vector<std::string> argv; // argv[0] included; empty = {program}
    std::vector<std::string> env;  // "NAME=value" entries: the child's whole environment
    bool inherit_env = false;      // true: pass this process's environment instead of env
    std::string cwd;               // "" = inherit
    std::string stdin_data;        // written to the child's stdin, then closed; "" = /dev/null
    ProcessLimits limits;
    std::size_t max_stdout = 1u << 20; // bytes kept; the rest is read and discarded
    std::size_t max_stderr = 1u << 20;
    std::chrono::milliseconds timeout{0};      // wall clock; 0 = none
    std::chrono::milliseconds kill_grace{500}; // SIGTERM to SIGKILL on timeout/cancel
    const CancelToken* cancel = nullptr;       // polled every few milliseconds
};

struct ProcessOutcome {
    enum class End {
        Exited,    // the child exited by itself: exit_code is valid
        Signaled,  // the child died of a signal nobody here sent: signal is valid
        TimedOut,  // spec.timeout passed; the group was killed
        Cancelled, // spec.cancel fired; the group was killed
    };
    End end = End::Exited;
    int exit_code = -1;
    int signal = 0; // the terminating signal, also for TimedOut/Cancelled when known
    std::string out;
    std::string err;
    bool out_truncated = false;
    bool err_truncated = false;
    std::chrono::duration<double> elapsed{0};
};

// Runs spec to completion. When the direct child ends, whatever is left in its process
// group is killed: a task's background processes never outlive it (those that called
// setsid() escape the group; only a cgroup could catch them). Errors: the program could
// not be started (fork/exec/setup failed), with the reason.
[[nodiscard]] Result<ProcessOutcome, std::string> run_process(const ProcessSpec& spec);

// "SIGKILL", "SIGXCPU", ... or "signal N".
[[nodiscard]] std::string signal_name(int sig);

} // namespace rc::worker
