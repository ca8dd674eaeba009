// Private to the codec (codec*.cpp): msgpack writing and field-checked reading helpers.
// No other file may include this header or <msgpack.hpp>.
#pragma once

#include <msgpack.hpp>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "value.hpp"

namespace rc::codec::detail {

// Limits applied to every unpack: they bound memory and recursion for hostile input.
msgpack::unpack_limit unpack_limits();

class Writer {
public:
    Writer() : pk_(buf_) {}
    void map(std::uint32_t n) { pk_.pack_map(n); }
    void array(std::uint32_t n) { pk_.pack_array(n); }
    void key(std::string_view k) { str(k); }
    void str(std::string_view s) {
        pk_.pack_str(static_cast<std::uint32_t>(s.size()));
        pk_.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
    }
    void bin(std::string_view b) {
        pk_.pack_bin(static_cast<std::uint32_t>(b.size()));
        pk_.pack_bin_body(b.data(), static_cast<std::uint32_t>(b.size()));
    }
    void u64(std::uint64_t v) { pk_.pack_uint64(v); }
    void i64(std::int64_t v) { pk_.pack_int64(v); }
    // Always float64 (0xcb): the library's pack_double turns integral doubles into
    // integers, which would change 2.0 into 2 for the peer.
    void dbl(double v) {
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        char raw[9] = {static_cast<char>(0xcb)};
        for (int i = 0; i < 8; ++i) raw[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xFF);
        buf_.write(raw, sizeof raw);
    }
    void boolean(bool b) { b ? pk_.pack_true() : pk_.pack_false(); }
    void nil() { pk_.pack_nil(); }
    void value(const Value& v);
    void strings(const std::vector<std::string>& v) {
        array(static_cast<std::uint32_t>(v.size()));
        for (const auto& s : v) str(s);
    }
    [[nodiscard]] const char* data() const { return buf_.data(); }
    [[nodiscard]] std::size_t size() const { return buf_.size(); }
    [[nodiscard]] std::string take() const { return std::string(buf_.data(), buf_.size()); }

private:
    msgpack::sbuffer buf_;
    msgpack::packer<msgpack::sbuffer> pk_;
};

// Reads named fields of one msgpack map. Absent keys leave the target untouched (its
// default); a present key of the wrong type records an error and returns false.
class Reader {
public:
    // `obj` must outlive the reader. If it is not a map, ok() is false.
    explicit Reader(const msgpack::object& obj, std::string_view what);
    [[nodiscard]] bool ok() const { return error_.empty(); }
    [[nodiscard]] const std::string& error() const { return error_; }
    [[nodiscard]] const msgpack::object* find(std::string_view key) const;

    bool str(std::string_view key, std::string& out);
    bool bytes(std::string_view key, std::string& out); // bin or str
    bool u64(std::string_view key, std::uint64_t& out);
    bool u32(std::string_view key, std::uint32_t& out);
    bool i32(std::string_view key, int& out);
    bool dbl(std::string_view key, double& out);
    bool boolean(std::string_view key, bool& out);
    bool strings(std::string_view key, std::vector<std::string>& out);
    bool value(std::string_view key, Value& out);
    void fail(std::string message);

private:
    std::string what_;
    std::vector<std::pair<std::string_view, const msgpack::object*>> fields_;
    std::string error_;
};

// Converts any msgpack object to a Value (depth is bounded by unpack_limits()).
Value to_value(const msgpack::object& o);

} // namespace rc::codec::detail
