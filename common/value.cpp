// Accessors of rc::Value that are not worth inlining.
#include "value.hpp"

namespace rc {

double Value::as_double() const {
    if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    if (auto* u = std::get_if<std::uint64_t>(&v)) return static_cast<double>(*u);
    return std::get<double>(v);
}

std::int64_t Value::as_int() const {
    if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
    if (auto* u = std::get_if<std::uint64_t>(&v)) return static_cast<std::int64_t>(*u);
    return static_cast<std::int64_t>(std::get<double>(v));
}

const Value* Value::find(std::string_view key) const {
    const auto* m = std::get_if<Map>(&v);
    if (!m) return nullptr;
    for (const auto& [k, val] : *m) {
        if (k.is_string() && k.as_string() == key) return &val;
    }
    return nullptr;
}

Value& Value::set(std::string key, Value value) {
    if (is_nil()) v = Map{};
    auto& m = std::get<Map>(v);
    for (auto& [k, val] : m) {
        if (k.is_string() && k.as_string() == key) {
            val = std::move(value);
            return val;
        }
    }
    m.emplace_back(Value(std::move(key)), std::move(value));
    return m.back().second;
}

} // namespace rc
