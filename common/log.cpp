// The process-wide log level and sink. The sink is swapped under a mutex; writes copy
// the sink pointer so a slow sink never blocks a swap.
#include "log.hpp"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>

namespace rc::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::mutex g_mu;
std::shared_ptr<Sink> g_sink;
} // namespace

std::string_view to_string(Level l) {
    switch (l) {
    case Level::Debug: return "DEBUG";
    case Level::Info: return "INFO";
    case Level::Warning: return "WARNING";
    case Level::Error: return "ERROR";
    }
    return "?";
}

std::optional<Level> parse_level(std::string_view s) {
    std::string l(s);
    for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (l == "debug") return Level::Debug;
    if (l == "info") return Level::Info;
    if (l == "warning" || l == "warn") return Level::Warning;
    if (l == "error") return Level::Error;
    return std::nullopt;
}

void set_level(Level l) { g_level.store(static_cast<int>(l)); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

void set_sink(Sink sink) {
    std::lock_guard lk(g_mu);
    g_sink = sink ? std::make_shared<Sink>(std::move(sink)) : nullptr;
}

void write(Level l, std::string_view component, std::string_view message) {
    std::shared_ptr<Sink> sink;
    {
        std::lock_guard lk(g_mu);
        sink = g_sink;
    }
    if (sink) {
        (*sink)(l, component, message);
        return;
    }
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::fprintf(stderr, "%s.%03dZ %-7s %.*s: %.*s\n", ts, static_cast<int>(ms.count()),
                 to_string(l).data(), static_cast<int>(component.size()), component.data(),
                 static_cast<int>(message.size()), message.data());
}

} // namespace rc::log
