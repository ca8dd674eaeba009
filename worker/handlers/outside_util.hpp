// Small helpers shared by the python_eval, command and http_request handlers: payload
// field access with clear errors, timeout bounding and UTF-8 checks. No I/O.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/value.hpp"
#include "worker/handler.hpp"

namespace rc::worker::outside {

// The decoded payload, which must be a map; errors name the task type.
[[nodiscard]] Result<Value, std::string> payload_map(const TaskContext& ctx, std::string_view type);

// The wall-clock budget for one task: `requested` seconds (a number > 0, or nil for
// `fallback`), capped by `max` and by the task's lease when it has one.
[[nodiscard]] Result<std::chrono::milliseconds, std::string>
bounded_timeout(const Value* requested, std::chrono::milliseconds fallback,
                std::chrono::milliseconds max, const TaskContext& ctx);

[[nodiscard]] bool valid_utf8(std::string_view s);
// s with each byte of an invalid UTF-8 sequence replaced by U+FFFD.
[[nodiscard]] std::string sanitize_utf8(std::string_view s);
// The last `n` bytes of s (whole UTF-8 characters), trimmed of surrounding whitespace.
[[nodiscard]] std::string tail(std::string_view s, std::size_t n);
// "1.5 s", "200 ms": for error messages.
[[nodiscard]] std::string describe(std::chrono::milliseconds d);

} // namespace rc::worker::outside
