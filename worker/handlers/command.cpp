// The command handler: runs an allow-listed program (argv list, or a string split with
// POSIX-like quoting and no shell) or, only with allow_shell, a /bin/sh -c string. It owns
// program resolution and the result shape; process control lives in subprocess.cpp.
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

#include "common/log.hpp"
#include "outside.hpp"
#include "outside_util.hpp"
#include "subprocess.hpp"

namespace rc::worker {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCleanPath = "/usr/local/bin:/usr/bin:/bin";
constexpr std::string_view kShellMeta = ";&|<>()`$\n";

// Splits a command line into words. Single quotes keep everything literally; double
// quotes keep everything but \" \\ \$ \` (backslash escapes those four); a backslash
// outside quotes escapes the next character. Nothing else is special: | ; && > < $()
// backticks and globs are ordinary characters, so they reach the program as arguments.
Result<std::vector<std::string>, std::string> split_words(std::string_view s) {
    std::vector<std::string> words;
    std::string cur;
    bool in_word = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) words.push_back(std::move(cur));
            cur.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        if (c == '\'') {
            const std::size_t close = s.find('\'', i + 1);
            if (close == std::string_view::npos)
                return err(std::string("unterminated single quote"));
            cur.append(s.substr(i + 1, close - i - 1));
            i = close;
        } else if (c == '"') {
            std::size_t j = i + 1;
            for (; j < s.size() && s[j] != '"'; ++j) {
                if (s[j] == '\\' && j + 1 < s.size() &&
                    std::string_view("\"\\$`").find(s[j + 1]) != std::string_view::npos)
                    ++j;
                cur += s[j];
            }
            if (j >= s.size()) return err(std::string("unterminated double quote"));
            i = j;
        } else if (c == '\\') {
            if (i + 1 >= s.size()) return err(std::string("trailing backslash"));
            cur += s[++i];
        } else {
            cur += c;
        }
    }
    if (in_word) words.push_back(std::move(cur));
    return words;
}

// First executable regular file called `name` in kCleanPath, or "".
std::string find_on_clean_path(const std::string& name) {
    const std::string path = kCleanPath;
    std::size_t start = 0;
    while (start < path.size()) {
        const std::size_t end = std::min(path.find(':', start), path.size());
        const std::string candidate = path.substr(start, end - start) + "/" + name;
        start = end + 1;
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return {};
}

std::string allowed_list(const std::vector<std::string>& allowed) {
    std::string out;
    for (const auto& a : allowed)
        out += (out.empty() ? "" : ", ") + a;
    return out;
}

// The absolute path to execute for `word`, or why it is refused. Bare allow-list entries
// name a program found on the clean PATH; entries with a '/' are exact absolute paths.
// Paths are compared lexically (never through symlinks: on multi-call binaries such as
// busybox, the file behind a link would allow every applet).
Result<std::string, std::string> resolve_program(const std::string& word,
                                                 const std::vector<std::string>& allowed) {
    const std::string refused =
        "program '" + word + "' is not on the allow-list (allowed: " + allowed_list(allowed) + ")";
    if (word.empty()) return err(std::string("empty program name"));
    if (word.find('/') != std::string::npos) {
        if (word.front() != '/')
            return err("relative program paths are not allowed: '" + word + "'");
        const std::string normal = fs::path(word).lexically_normal().string();
        for (const auto& a : allowed) {
            if (a.find('/') != std::string::npos &&
                fs::path(a).lexically_normal().string() == normal)
                return normal;
            if (a.find('/') == std::string::npos && find_on_clean_path(a) == normal) return normal;
        }
        return err(refused);
    }
    for (const auto& a : allowed) {
        if (a.find('/') != std::string::npos && fs::path(a).filename() == word) return a;
    }
    for (const auto& a : allowed) {
        if (a != word) continue;
        std::string found = find_on_clean_path(word);
        if (found.empty())
            return err("program '" + word + "' is allowed but not found on PATH=" + kCleanPath);
        return found;
    }
    return err(refused);
}

struct Invocation {
    std::string program;
    std::vector<std::string> argv;
};

Result<Invocation, std::string> plan(const Value& command, const OutsideConfig& config) {
    if (command.is_array()) { // argv form: never a shell
        std::vector<std::string> argv;
        for (const auto& w : command.as_array()) {
            if (!w.is_string())
                return err(std::string("every element of the 'command' list must be a string"));
            argv.push_back(w.as_string());
        }
        if (argv.empty()) return err(std::string("'command' is an empty list"));
        for (const auto& w : argv) {
            if (w.find('\0') != std::string::npos)
                return err(std::string("arguments cannot contain NUL bytes"));
        }
        auto program = resolve_program(argv[0], config.allowed_programs);
        if (!program) return err(program.error());
        return Invocation{std::move(program).value(), std::move(argv)};
    }
    if (!command.is_string())
        return err(std::string("'command' must be a string or a list of strings"));
    const std::string& line = command.as_string();
    if (line.find('\0') != std::string::npos)
        return err(std::string("the command cannot contain NUL bytes"));
    auto words = split_words(line);
    if (!words) return err("cannot parse the command: " + words.error());
    if (words->empty()) return err(std::string("'command' is empty"));
    if (config.allow_shell) {
        // Best effort only: with a shell, `allowed ; anything` runs anything.
        std::string first = (*words)[0];
        first = first.substr(0, first.find_first_of(kShellMeta));
        auto program = resolve_program(first, config.allowed_programs);
        if (!program) return err(program.error());
        return Invocation{"/bin/sh", {"sh", "-c", line}};
    }
    auto program = resolve_program((*words)[0], config.allowed_programs);
    if (!program) return err(program.error());
    return Invocation{std::move(program).value(), std::move(words).value()};
}

std::string make_private_dir() {
    std::string tmpl = (fs::temp_directory_path() / "rc-command-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
        throw std::runtime_error("cannot create a working directory for command tasks: " + tmpl);
    return tmpl;
}

} // namespace

Handler make_command_handler(const OutsideConfig& config) {
    const std::string workdir =
        config.command_workdir.empty() ? make_private_dir() : config.command_workdir;
    return [config, workdir](const TaskContext& ctx) {
        auto payload = outside::payload_map(ctx, "command");
        if (!payload) return HandlerOutput::failed(payload.error());
        const Value* command = payload->find("command");
        if (!command)
            return HandlerOutput::failed("command: payload needs a 'command' string or list");
        auto inv = plan(*command, config);
        if (!inv) return HandlerOutput::failed("command refused: " + inv.error());
        auto timeout =
            outside::bounded_timeout(payload->find("timeout"), config.command_default_timeout,
                                     config.command_max_timeout, ctx);
        if (!timeout) return HandlerOutput::failed("command: " + timeout.error());

        ProcessSpec spec;
        spec.program = inv->program;
        spec.argv = inv->argv;
        spec.env = {std::string("PATH=") + kCleanPath, "HOME=" + workdir, "LANG=C.UTF-8"};
        spec.cwd = workdir;
        spec.max_stdout = config.command_max_output_bytes;
        spec.max_stderr = config.command_max_output_bytes;
        spec.timeout = *timeout;
        spec.cancel = ctx.cancel;
        auto r = run_process(spec);
        if (!r) return HandlerOutput::failed("command: " + r.error());

        using End = ProcessOutcome::End;
        if (r->end == End::Cancelled && ctx.cancel) return HandlerOutput::stopped(*ctx.cancel);
        if (r->end == End::TimedOut)
            return HandlerOutput::timed_out("command timed out after " +
                                            outside::describe(*timeout) +
                                            "; its process group was killed");
        if (r->end == End::Signaled)
            return HandlerOutput::failed("command killed by " + signal_name(r->signal) + ": " +
                                         outside::tail(r->err, 500));
        if (r->exit_code != 0) {
            std::string message = "command exited with code " + std::to_string(r->exit_code);
            const std::string err_tail = outside::tail(r->err, 500);
            if (!err_tail.empty()) message += ": " + err_tail;
            return HandlerOutput::failed(message);
        }
        Value result;
        result.set("exit_code", r->exit_code);
        result.set("stdout", outside::sanitize_utf8(r->out));
        result.set("stderr", outside::sanitize_utf8(r->err));
        result.set("elapsed", r->elapsed.count());
        result.set("truncated", r->out_truncated || r->err_truncated);
        return HandlerOutput::ok(result);
    };
}

} // namespace rc::worker
