// rc::Value: a dynamic, plain-data value (nil, bool, integers, float, string, bytes,
// array, map) used for payloads, results, stats and device descriptions. It has no
// wire knowledge: msgpack lives in codec.cpp, JSON text in json.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace rc {

// Opaque bytes (msgpack-encoded payloads, binary data). std::string gives SSO and cheap moves.
using Bytes = std::string;

struct Value;
using Array = std::vector<Value>;
using Map = std::vector<std::pair<Value, Value>>; // insertion ordered; keys usually strings

struct Blob {
    Bytes data;
    auto operator<=>(const Blob&) const = default;
};

struct Value {
    using Storage = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double,
                                 std::string, Blob, Array, Map>;
    Storage v;

    Value() = default;
    Value(std::nullptr_t) {}
    Value(bool b) : v(b) {}
    Value(int i) : v(std::int64_t{i}) {}
    Value(long i) : v(std::int64_t{i}) {}
    Value(long long i) : v(std::int64_t{i}) {}
    Value(unsigned u) : v(std::int64_t{u}) {}
    Value(unsigned long u) : v(norm(u)) {}
    Value(unsigned long long u) : v(norm(u)) {}
    Value(double d) : v(d) {}
    Value(const char* s) : v(std::string(s)) {}
    Value(std::string s) : v(std::move(s)) {}
    Value(Blob b) : v(std::move(b)) {}
    Value(Array a) : v(std::move(a)) {}
    Value(Map m) : v(std::move(m)) {}

    [[nodiscard]] bool is_nil() const { return v.index() == 0; }
    [[nodiscard]] bool is_bool() const { return v.index() == 1; }
    [[nodiscard]] bool is_int() const { return v.index() == 2 || v.index() == 3; }
    [[nodiscard]] bool is_number() const { return is_int() || v.index() == 4; }
    [[nodiscard]] bool is_string() const { return v.index() == 5; }
    [[nodiscard]] bool is_blob() const { return v.index() == 6; }
    [[nodiscard]] bool is_array() const { return v.index() == 7; }
    [[nodiscard]] bool is_map() const { return v.index() == 8; }

    [[nodiscard]] bool as_bool() const { return std::get<bool>(v); }
    [[nodiscard]] const std::string& as_string() const { return std::get<std::string>(v); }
    [[nodiscard]] const Array& as_array() const { return std::get<Array>(v); }
    [[nodiscard]] Array& as_array() { return std::get<Array>(v); }
    [[nodiscard]] const Map& as_map() const { return std::get<Map>(v); }
    [[nodiscard]] Map& as_map() { return std::get<Map>(v); }
    [[nodiscard]] const Blob& as_blob() const { return std::get<Blob>(v); }
    // Numeric views: valid when is_number(); integers convert to double and back.
    [[nodiscard]] double as_double() const;
    [[nodiscard]] std::int64_t as_int() const;

    // Map lookup by string key; nullptr when absent or when this is not a map.
    [[nodiscard]] const Value* find(std::string_view key) const;
    // Insert or replace a string-keyed entry (this must be a map or nil).
    Value& set(std::string key, Value value);

    bool operator==(const Value& o) const { return v == o.v; }

private:
    static Storage norm(std::uint64_t u) {
        if (u <= static_cast<std::uint64_t>(INT64_MAX)) return std::int64_t(u);
        return u;
    }
};

} // namespace rc
