// Codec part 1: msgpack <-> rc::Value and the Writer/Reader helpers used by codec.cpp.
#include <cmath>

#include "codec.hpp"
#include "codec_detail.hpp"

namespace rc::codec {
namespace detail {

msgpack::unpack_limit unpack_limits() {
    // array, map, str, bin, ext element counts/sizes, and nesting depth.
    return msgpack::unpack_limit(1u << 22, 1u << 20, 64u << 20, 64u << 20, 1u << 20, 64);
}

void Writer::value(const Value& v) {
    std::visit(
        [this](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) nil();
            else if constexpr (std::is_same_v<T, bool>) boolean(x);
            else if constexpr (std::is_same_v<T, std::int64_t>) i64(x);
            else if constexpr (std::is_same_v<T, std::uint64_t>) u64(x);
            else if constexpr (std::is_same_v<T, double>) dbl(x);
            else if constexpr (std::is_same_v<T, std::string>) str(x);
            else if constexpr (std::is_same_v<T, Blob>) bin(x.data);
            else if constexpr (std::is_same_v<T, Array>) {
                array(static_cast<std::uint32_t>(x.size()));
                for (const auto& e : x) value(e);
            } else {
                map(static_cast<std::uint32_t>(x.size()));
                for (const auto& [k, e] : x) {
                    value(k);
                    value(e);
                }
            }
        },
        v.v);
}

Value to_value(const msgpack::object& o) {
    switch (o.type) {
    case msgpack::type::NIL: return Value{};
    case msgpack::type::BOOLEAN: return Value(o.via.boolean);
    case msgpack::type::POSITIVE_INTEGER: return Value(static_cast<unsigned long long>(o.via.u64));
    case msgpack::type::NEGATIVE_INTEGER: return Value(static_cast<long long>(o.via.i64));
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return Value(o.via.f64);
    case msgpack::type::STR: return Value(std::string(o.via.str.ptr, o.via.str.size));
    case msgpack::type::BIN: return Value(Blob{std::string(o.via.bin.ptr, o.via.bin.size)});
    case msgpack::type::EXT: return Value(Blob{std::string(o.via.ext.data(), o.via.ext.size)});
    case msgpack::type::ARRAY: {
        Array a;
        a.reserve(o.via.array.size);
        for (std::uint32_t i = 0; i < o.via.array.size; ++i) a.push_back(to_value(o.via.array.ptr[i]));
        return Value(std::move(a));
    }
    case msgpack::type::MAP: {
        Map m;
        m.reserve(o.via.map.size);
        for (std::uint32_t i = 0; i < o.via.map.size; ++i)
            m.emplace_back(to_value(o.via.map.ptr[i].key), to_value(o.via.map.ptr[i].val));
        return Value(std::move(m));
    }
    }
    return Value{};
}

Reader::Reader(const msgpack::object& obj, std::string_view what) : what_(what) {
    if (obj.type != msgpack::type::MAP) {
        error_ = std::string(what) + ": body must be a map";
        return;
    }
    fields_.reserve(obj.via.map.size);
    for (std::uint32_t i = 0; i < obj.via.map.size; ++i) {
        const auto& kv = obj.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) continue; // unknown non-string keys are skipped
        fields_.emplace_back(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size), &kv.val);
    }
}

const msgpack::object* Reader::find(std::string_view key) const {
    for (const auto& [k, o] : fields_)
        if (k == key) return o;
    return nullptr;
}

void Reader::fail(std::string message) {
    if (error_.empty()) error_ = what_ + ": " + std::move(message);
}

bool Reader::str(std::string_view key, std::string& out) {
    const auto* o = find(key);
    if (!o || o->type == msgpack::type::NIL) return true;
    if (o->type != msgpack::type::STR) {
        fail(std::string(key) + " must be a string");
        return false;
    }
    out.assign(o->via.str.ptr, o->via.str.size);
    return true;
}

bool Reader::bytes(std::string_view key, std::string& out) {
    const auto* o = find(key);
    if (!o || o->type == msgpack::type::NIL) return true;
    if (o->type == msgpack::type::BIN) out.assign(o->via.bin.ptr, o->via.bin.size);
    else if (o->type == msgpack::type::STR) out.assign(o->via.str.ptr, o->via.str.size);
    else {
        fail(std::string(key) + " must be bytes");
        return false;
    }
    return true;
}

bool Reader::u64(std::string_view key, std::uint64_t& out) {
    const auto* o = find(key);
    if (!o || o->type == msgpack::type::NIL) return true;
    if (o->type != msgpack::type::POSITIVE_INTEGER) {
        fail(std::string(key) + " must be a non-negative integer");
        return false;
    }
    out = o->via.u64;
    return true;
}

bool Reader::u32(std::string_view key, std::uint32_t& out) {
    std::uint64_t v = out;
    if (!u64(key, v)) return false;
    if (v > UINT32_MAX) {
        fail(std::string(key) + " is out of range");
        return false;
    }
    out = static_cast<std::uint32_t>(v);
    return true;
}

bool Reader::i32(std::string_view key, int& out) {
    const auto* o = find(key);
    if (!o || o->type == msgpack::type::NIL) return true;
    std::int64_t v = 0;
    if (o->type == msgpack::type::POSITIVE_INTEGER && o->via.u64 <= INT32_MAX) v = static_cast<std::int64_t>(o->via.u64);
    else if (o->type == msgpack::type::NEGATIVE_INTEGER && o->via.i64 >= INT32_MIN) v = o->via.i64;
    else {
        fail(std::string(key) + " must be a 32-bit integer");
        return false;
    }
    out = static_cast<int>(v);
    return true;
}

bool Reader::dbl(std::string_view key, double& out) {
    const auto* o = find(key);
    if (!o || o->type == msgpack::type::NIL) return true;
    switch (o->type) {
    case msgpack::type::POSITIVE_INTEGER: out = static_cast<double>(o->via.u64); break;
    case msgpack::type::NEGATIVE_INTEGER: out = static_cast<double>(o->via.i64); break;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: out = o->via.f64; break;
    default: fail(std::string(key) + " must be a number"); return false;
    }
    if (!std::isfinite(out)) {
        fail(std::string(key) + " must be finite");
        return false;
    }
    return true;
}

bool Reader::boolean(std::string_view key, bool& out) {
    const auto* o = find(key);
    if (!o || o->type == msgpack::type::NIL) return true;
    if (o->type != msgpack::type::BOOLEAN) {
        fail(std::string(key) + " must be a boolean");
        return false;
    }
    out = o->via.boolean;
    return true;
}

bool Reader::strings(std::string_view key, std::vector<std::string>& out) {
    const auto* o = find(key);
    if (!o || o->type == msgpack::type::NIL) return true;
    if (o->type != msgpack::type::ARRAY) {
        fail(std::string(key) + " must be an array of strings");
        return false;
    }
    out.clear();
    for (std::uint32_t i = 0; i < o->via.array.size; ++i) {
        const auto& e = o->via.array.ptr[i];
        if (e.type != msgpack::type::STR) {
            fail(std::string(key) + " must be an array of strings");
            return false;
        }
        out.emplace_back(e.via.str.ptr, e.via.str.size);
    }
    return true;
}

bool Reader::value(std::string_view key, Value& out) {
    if (const auto* o = find(key)) out = to_value(*o);
    return true;
}

} // namespace detail

Bytes encode_value(const Value& v) {
    detail::Writer w;
    w.value(v);
    return w.take();
}

Result<Value, std::string> decode_value(const Bytes& bytes) {
    if (bytes.empty()) return Value{};
    try {
        std::size_t off = 0;
        auto oh = msgpack::unpack(bytes.data(), bytes.size(), off, nullptr, nullptr,
                                  detail::unpack_limits());
        if (off != bytes.size()) return err(std::string("trailing bytes after msgpack value"));
        return detail::to_value(oh.get());
    } catch (const std::exception& e) {
        return err(std::string("undecodable msgpack: ") + e.what());
    }
}

} // namespace rc::codec
