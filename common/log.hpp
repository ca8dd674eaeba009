// Levelled, line-oriented logging shared by all components. One line per event:
// "2026-11-29T02:30:00.123Z INFO  broker: message". A sink can be installed so that
// embedding programs (the Python bindings) receive lines instead of stderr.
#pragma once

#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace rc::log {

enum class Level : int { Debug = 10, Info = 20, Warning = 30, Error = 40 };
std::string_view to_string(Level l);
std::optional<Level> parse_level(std::string_view s); // debug|info|warning|warn|error

void set_level(Level l);
Level level();
[[nodiscard]] inline bool enabled(Level l) { return static_cast<int>(l) >= static_cast<int>(level()); }

// A sink receives (level, component, message). nullptr restores the stderr sink.
using Sink = std::function<void(Level, std::string_view component, std::string_view message)>;
void set_sink(Sink sink);

void write(Level l, std::string_view component, std::string_view message);

} // namespace rc::log

// Stream-style macros that skip formatting when the level is disabled.
#define RC_LOG(lvl, component, expr)                                                           \
    do {                                                                                       \
        if (::rc::log::enabled(lvl)) {                                                         \
            std::ostringstream rc_log_os_;                                                     \
            rc_log_os_ << expr;                                                                \
            ::rc::log::write(lvl, component, rc_log_os_.str());                                \
        }                                                                                      \
    } while (0)
#define RC_DEBUG(c, e) RC_LOG(::rc::log::Level::Debug, c, e)
#define RC_INFO(c, e) RC_LOG(::rc::log::Level::Info, c, e)
#define RC_WARN(c, e) RC_LOG(::rc::log::Level::Warning, c, e)
#define RC_ERROR(c, e) RC_LOG(::rc::log::Level::Error, c, e)
