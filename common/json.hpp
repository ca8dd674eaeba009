// JSON text <-> rc::Value (RFC 8259) and base64 (RFC 4648). Pure functions, no I/O; the
// parser takes untrusted input and reports every failure as an error string, never an assert.
#pragma once

#include <string>
#include <string_view>

#include "result.hpp"
#include "value.hpp"

namespace rc::json {

// Nesting deeper than this many arrays/objects is rejected (guards the recursive parser).
inline constexpr int kMaxDepth = 128;

// Strict RFC 8259 parse of one JSON text (any value at the top level, surrounded by optional
// whitespace). Objects become Maps with string keys in document order; duplicate keys are
// rejected (first-wins vs last-wins ambiguity is a classic parser-differential bug).
// Numbers: integers (no fraction/exponent) become int64 when they fit, else uint64 when they
// fit, else double; others become double; magnitudes beyond double range are rejected,
// underflow becomes 0. Strings must be valid UTF-8; \uXXXX escapes must pair surrogates.
// Errors read "json: <reason> at offset <byte offset>".
[[nodiscard]] Result<Value, std::string> parse(std::string_view text);

// Serialises v. indent < 0: compact ("{"a":1,"b":[2]}"); indent >= 0: pretty, one member
// per line, indented by `indent` spaces per level. Mapping of non-JSON values:
//  - Blob -> standard base64 string with padding (the type is not recoverable by parse).
//  - Non-string map keys -> their compact JSON text used as the key string (1 -> "1");
//    Blob keys -> their base64 text.
//  - double -> shortest text that round-trips; integral values keep a ".0" (2.0 -> "2.0")
//    so they parse back as double; NaN and +-Infinity -> null.
//  - Strings: valid UTF-8 passes through, control characters are escaped (\n, \u001f, ...),
//    each byte of an invalid UTF-8 sequence becomes U+FFFD.
[[nodiscard]] std::string dump(const Value& v, int indent = -1);

// Standard alphabet (A-Z a-z 0-9 + /) with '=' padding.
[[nodiscard]] std::string base64_encode(std::string_view bytes);
// Accepts the standard alphabet, padded or unpadded; rejects other characters (including
// whitespace), misplaced padding and non-zero trailing bits. Errors mention the offset.
[[nodiscard]] Result<std::string, std::string> base64_decode(std::string_view text);

} // namespace rc::json
