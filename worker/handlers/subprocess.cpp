// fork/exec under limits plus the poll() loop that feeds stdin, drains capped output and
// enforces the timeout and cancellation. Between fork and exec the child only makes
// async-signal-safe calls: everything it needs is prepared by the parent beforehand.
#include "subprocess.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ; // NOLINT: POSIX global

namespace rc::worker {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kFirstHighFd = 10;        // pipe ends live at or above this number (see raise_fd)
constexpr int kReportFd = 3;            // the child's exec-error pipe after the dup2 dance
constexpr auto kPollStep = 10ms;        // cancellation and exit are noticed this fast
constexpr auto kDrainAfterExit = 250ms; // reading leftovers once the direct child is gone
constexpr std::size_t kChunk = 64 * 1024;
constexpr int kReadsPerRound = 16; // a child that never stops writing cannot starve the clock

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    [[nodiscard]] int get() const { return fd_; }
    [[nodiscard]] bool open() const { return fd_ >= 0; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

// Moves fd to a number >= kFirstHighFd (close-on-exec), so that the child's dup2 onto
// 0..3 never overwrites another descriptor it still has to dup.
int raise_fd(int fd) {
    if (fd < 0 || fd >= kFirstHighFd) return fd;
    int high = ::fcntl(fd, F_DUPFD_CLOEXEC, kFirstHighFd);
    ::close(fd);
    return high;
}

bool make_pipe(Fd& read_end, Fd& write_end) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return false;
    read_end = Fd(raise_fd(p[0]));
    write_end = Fd(raise_fd(p[1]));
    return read_end.open() && write_end.open();
}

void set_nonblocking(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

enum class Stage : int { Setpgid = 1, Dup, Chdir, Setrlimit, Exec };

const char* stage_name(int stage) {
    switch (static_cast<Stage>(stage)) {
    case Stage::Setpgid:
        return "setpgid";
    case Stage::Dup:
        return "dup2";
    case Stage::Chdir:
        return "chdir";
    case Stage::Setrlimit:
        return "setrlimit";
    case Stage::Exec:
        return "execve";
    }
    return "setup";
}

struct LimitEntry {
    int resource;
    rlimit value;
};

// Limits clamped to the current hard limits (raising a hard limit would fail).
std::vector<LimitEntry> prepare_limits(const ProcessLimits& l) {
    std::vector<LimitEntry> out;
    auto add = [&](int resource, std::uint64_t soft, std::uint64_t hard) {
        rlimit cur{};
        if (::getrlimit(resource, &cur) != 0) return;
        const rlim_t h = std::min<rlim_t>(static_cast<rlim_t>(hard), cur.rlim_max);
        out.push_back({resource, {std::min<rlim_t>(static_cast<rlim_t>(soft), h), h}});
    };
    if (l.cpu_seconds) add(RLIMIT_CPU, *l.cpu_seconds, *l.cpu_seconds + 1);
    if (l.address_space) add(RLIMIT_AS, *l.address_space, *l.address_space);
    if (l.file_size) add(RLIMIT_FSIZE, *l.file_size, *l.file_size);
    if (l.open_files) add(RLIMIT_NOFILE, *l.open_files, *l.open_files);
    if (l.no_core_dumps) add(RLIMIT_CORE, 0, 0);
    return out;
}

// Everything the child needs, built before fork (the child must not allocate).
struct ChildPlan {
    const char* program = nullptr;
    std::vector<char*> argv;
    std::vector<char*> envp;
    char* const* env = nullptr;
    const char* cwd = nullptr;
    std::vector<LimitEntry> limits;
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1, report_fd = -1;
    int max_fd = 1024;
};

[[noreturn]] void report_and_exit(int report_fd, Stage stage) {
    const int msg[2] = {static_cast<int>(stage), errno};
    [[maybe_unused]] auto n = ::write(report_fd, msg, sizeof msg);
    ::_exit(127);
}

[[noreturn]] void exec_child(const ChildPlan& p) {
    if (::setpgid(0, 0) != 0) report_and_exit(p.report_fd, Stage::Setpgid);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int s = 1; s < NSIG; ++s)
        ::sigaction(s, &dfl, nullptr); // ignored dispositions survive exec
    if (::dup2(p.stdin_fd, 0) < 0 || ::dup2(p.stdout_fd, 1) < 0 || ::dup2(p.stderr_fd, 2) < 0 ||
        ::dup2(p.report_fd, kReportFd) < 0)
        report_and_exit(p.report_fd, Stage::Dup);
    ::fcntl(kReportFd, F_SETFD, FD_CLOEXEC); // dup2 cleared it; exec success must close it
    bool closed = false;
#ifdef SYS_close_range
    closed = ::syscall(SYS_close_range, kReportFd + 1, ~0u, 0u) == 0;
#endif
    if (!closed) {
        for (int fd = kReportFd + 1; fd < p.max_fd; ++fd)
            ::close(fd);
    }
    if (p.cwd && ::chdir(p.cwd) != 0) report_and_exit(kReportFd, Stage::Chdir);
    for (const auto& l : p.limits) {
        if (::setrlimit(l.resource, &l.value) != 0) report_and_exit(kReportFd, Stage::Setrlimit);
    }
    ::execve(p.program, p.argv.data(), p.env);
    report_and_exit(kReportFd, Stage::Exec);
}

// Blocks SIGPIPE in this thread while we write to the child's stdin, so a child that exits
// early yields EPIPE instead of killing the worker; a SIGPIPE we caused is consumed.
class SigpipeBlock {
public:
    SigpipeBlock() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
        sigset_t pending;
        ::sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    }
    ~SigpipeBlock() {
        if (!was_pending_) {
            sigset_t pending;
            ::sigpending(&pending);
            if (sigismember(&pending, SIGPIPE) == 1) {
                timespec zero{0, 0};
                ::sigtimedwait(&pipe_, nullptr, &zero);
            }
        }
        ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

private:
    sigset_t pipe_{}, old_{};
    bool was_pending_ = false;
};

// One captured stream: keeps the first `cap` bytes, reads and drops the rest.
struct Capture {
    Fd fd;
    std::string* buf = nullptr;
    std::size_t cap = 0;
    bool* truncated = nullptr;

    void pump(char* tmp) {
        for (int i = 0; i < kReadsPerRound && fd.open(); ++i) {
            const ssize_t n = ::read(fd.get(), tmp, kChunk);
            if (n > 0) {
                const std::size_t room = cap > buf->size() ? cap - buf->size() : 0;
                const std::size_t take = std::min(room, static_cast<std::size_t>(n));
                buf->append(tmp, take);
                if (take < static_cast<std::size_t>(n)) *truncated = true;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
            fd.reset(); // EOF or a real error
        }
    }
};

// Reaps the dead members of a group whose parent we became (possible when this process is
// PID 1 or a subreaper; a no-op otherwise). Only called after the leader itself was reaped.
void reap_group(pid_t pgid) {
    while (::waitpid(-pgid, nullptr, WNOHANG) > 0) {
    }
}

} // namespace

std::string signal_name(int sig) {
    switch (sig) {
    case SIGHUP:
        return "SIGHUP";
    case SIGINT:
        return "SIGINT";
    case SIGQUIT:
        return "SIGQUIT";
    case SIGILL:
        return "SIGILL";
    case SIGABRT:
        return "SIGABRT";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGKILL:
        return "SIGKILL";
    case SIGSEGV:
        return "SIGSEGV";
    case SIGPIPE:
        return "SIGPIPE";
    case SIGALRM:
        return "SIGALRM";
    case SIGTERM:
        return "SIGTERM";
    case SIGXCPU:
        return "SIGXCPU";
    case SIGXFSZ:
        return "SIGXFSZ";
    case SIGSYS:
        return "SIGSYS";
    default:
        return "signal " + std::to_string(sig);
    }
}

Result<ProcessOutcome, std::string> run_process(const ProcessSpec& spec) {
    if (spec.program.empty()) return err(std::string("no program given"));
    const auto start = Clock::now();

    // Everything the child touches is prepared here, before fork.
    std::vector<std::string> argv_storage =
        spec.argv.empty() ? std::vector<std::string>{spec.program} : spec.argv;
    std::vector<std::string> env_storage = spec.env;
    ChildPlan plan;
    plan.program = spec.program.c_str();
    for (auto& a : argv_storage)
        plan.argv.push_back(a.data());
    plan.argv.push_back(nullptr);
    if (spec.inherit_env) {
        plan.env = environ;
    } else {
        for (auto& e : env_storage)
            plan.envp.push_back(e.data());
        plan.envp.push_back(nullptr);
        plan.env = plan.envp.data();
    }
    plan.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
    plan.limits = prepare_limits(spec.limits);
    const long open_max = ::sysconf(_SC_OPEN_MAX);
    plan.max_fd = open_max > 0 ? static_cast<int>(std::min(open_max, 65536L)) : 1024;

    ProcessOutcome outcome;
    Fd in_r, in_w, report_r, report_w;
    Capture out{{}, &outcome.out, spec.max_stdout, &outcome.out_truncated};
    Capture errc{{}, &outcome.err, spec.max_stderr, &outcome.err_truncated};
    Fd out_w, err_w;
    if (!make_pipe(out.fd, out_w) || !make_pipe(errc.fd, err_w) || !make_pipe(report_r, report_w))
        return err("cannot create pipes: " + std::string(std::strerror(errno)));
    if (spec.stdin_data.empty()) {
        in_r = Fd(raise_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
        if (!in_r.open()) return err("cannot open /dev/null: " + std::string(std::strerror(errno)));
    } else if (!make_pipe(in_r, in_w)) {
        return err("cannot create pipes: " + std::string(std::strerror(errno)));
    }
    plan.stdin_fd = in_r.get();
    plan.stdout_fd = out_w.get();
    plan.stderr_fd = err_w.get();
    plan.report_fd = report_w.get();

    SigpipeBlock sigpipe_block; // before fork: the child resets its mask itself
    const pid_t pid = ::fork();
    if (pid < 0) return err("cannot fork: " + std::string(std::strerror(errno)));
    if (pid == 0) exec_child(plan);

    ::setpgid(pid, pid); // also done by the child; whichever runs first wins the race
    in_r.reset();
    out_w.reset();
    err_w.reset();
    report_w.reset();

    int report[2] = {0, 0};
    ssize_t got;
    do {
        got = ::read(report_r.get(), report, sizeof report);
    } while (got < 0 && errno == EINTR);
    if (got == static_cast<ssize_t>(sizeof report)) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        return err(std::string("cannot start ") + spec.program + ": " + stage_name(report[0]) +
                   " failed: " + std::strerror(report[1]));
    }

    set_nonblocking(out.fd.get());
    set_nonblocking(errc.fd.get());
    if (in_w.open()) set_nonblocking(in_w.get());
    std::size_t in_off = 0;

    const auto deadline =
        spec.timeout.count() > 0 ? start + spec.timeout : Clock::time_point::max();
    enum class Kill { None, Term, Hard } kill = Kill::None;
    auto escalate_at = Clock::time_point::max();
    auto drain_until = Clock::time_point::max();
    bool exited = false;
    bool status_known = true; // false only if someone else reaped the child (SIGCHLD ignored)
    int status = 0;
    std::array<char, kChunk> tmp{};

    for (;;) {
        auto now = Clock::now();
        if (!exited) {
            siginfo_t info{};
            const int r =
                ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
            if ((r == 0 && info.si_pid == pid) || (r < 0 && errno == ECHILD)) {
                exited = true;
                ::killpg(pid,
                         SIGKILL); // leftovers: signalled while the leader still holds the pgid
                if (::waitpid(pid, &status, 0) != pid) status_known = false;
                reap_group(pid);
                drain_until = now + kDrainAfterExit;
            }
        }
        if (exited && ((!out.fd.open() && !errc.fd.open()) || now >= drain_until)) break;
        if (!exited) {
            if (kill == Kill::None) {
                const bool cancel = spec.cancel && spec.cancel->stop_requested();
                if (cancel || now >= deadline) {
                    outcome.end =
                        cancel ? ProcessOutcome::End::Cancelled : ProcessOutcome::End::TimedOut;
                    ::killpg(pid, SIGTERM);
                    kill = Kill::Term;
                    escalate_at = now + spec.kill_grace;
                }
            } else if (kill == Kill::Term && now >= escalate_at) {
                ::killpg(pid, SIGKILL);
                kill = Kill::Hard;
            }
        }

        std::array<pollfd, 3> fds{};
        nfds_t n = 0;
        if (out.fd.open()) fds[n++] = {out.fd.get(), POLLIN, 0};
        if (errc.fd.open()) fds[n++] = {errc.fd.get(), POLLIN, 0};
        if (in_w.open()) fds[n++] = {in_w.get(), POLLOUT, 0};
        ::poll(fds.data(), n, static_cast<int>(kPollStep.count()));

        out.pump(tmp.data());
        errc.pump(tmp.data());
        if (in_w.open()) {
            const std::size_t left = spec.stdin_data.size() - in_off;
            const ssize_t w =
                ::write(in_w.get(), spec.stdin_data.data() + in_off, std::min(left, kChunk));
            if (w > 0) in_off += static_cast<std::size_t>(w);
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == spec.stdin_data.size())
                in_w.reset(); // done, or the child closed its stdin (EPIPE)
        }
    }
    reap_group(pid);

    if (status_known && WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
    if (status_known && WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
    if (kill == Kill::None) {
        outcome.end =
            outcome.signal != 0 ? ProcessOutcome::End::Signaled : ProcessOutcome::End::Exited;
    }
    outcome.elapsed = Clock::now() - start;
    return outcome;
}

} // namespace rc::worker
