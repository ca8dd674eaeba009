// Payload access, timeout bounding and UTF-8 helpers for the outside handlers.
#include "outside_util.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace rc::worker::outside {
namespace {

// Length of the well-formed UTF-8 sequence at s[i] (Unicode table 3-7), 0 if none.
std::size_t utf8_len(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
        return i + k < s.size() && b(k) >= lo && b(k) <= hi;
    };
    const unsigned c = b(0);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return cont(1, lo, hi) && cont(2) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

bool is_space(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

} // namespace

Result<Value, std::string> payload_map(const TaskContext& ctx, std::string_view type) {
    auto decoded = ctx.decoded_payload();
    if (!decoded)
        return err(std::string(type) + ": payload is not valid msgpack: " + decoded.error());
    if (!decoded->is_map()) return err(std::string(type) + ": payload must be a map");
    return std::move(decoded).value();
}

Result<std::chrono::milliseconds, std::string> bounded_timeout(const Value* requested,
                                                               std::chrono::milliseconds fallback,
                                                               std::chrono::milliseconds max,
                                                               const TaskContext& ctx) {
    using std::chrono::milliseconds;
    milliseconds t = fallback;
    if (requested && !requested->is_nil()) {
        if (!requested->is_number())
            return err(std::string("'timeout' must be a number of seconds"));
        const double s = requested->as_double();
        if (!std::isfinite(s) || s <= 0)
            return err(std::string("'timeout' must be greater than 0"));
        t = s * 1000.0 >= static_cast<double>(max.count()) ? max
                                                           : milliseconds(std::llround(s * 1000.0));
    }
    t = std::min(t, max);
    if (ctx.timeout.count() > 0) t = std::min(t, ctx.timeout);
    return std::max(t, milliseconds(1));
}

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_len(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string sanitize_utf8(std::string_view s) {
    if (valid_utf8(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 16);
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_len(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::string tail(std::string_view s, std::size_t n) {
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    if (s.size() > n) {
        std::size_t cut = s.size() - n;
        // Do not start inside a multi-byte character.
        while (cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
            ++cut;
        s.remove_prefix(cut);
    }
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    return sanitize_utf8(s);
}

std::string describe(std::chrono::milliseconds d) {
    std::ostringstream os;
    if (d.count() % 1000 == 0)
        os << d.count() / 1000 << " s";
    else if (d.count() < 1000)
        os << d.count() << " ms";
    else
        os << static_cast<double>(d.count()) / 1000.0 << " s";
    return os.str();
}

} // namespace rc::worker::outside
