// JSON parser/serialiser and base64 for rc::Value. The parser is a bounded recursive descent
// over untrusted bytes: every failure is an error string with a byte offset, never an assert.
#include "json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>
#include <vector>

namespace rc::json {
namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode table 3-7), 0 if none.
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

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Two-character escapes: "\\n" in JSON text stands for '\n', and so on. The writer never emits
// "\\/" (solidus needs no escape).
constexpr std::string_view kEscapeFrom = "\"\\/bfnrt";
constexpr std::string_view kEscapeTo = "\"\\/\b\f\n\r\t";
constexpr char kHex[] = "0123456789abcdef";

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string describe(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7F) return std::string("'") + c + "'";
    return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xF];
}

class Parser {
public:
    explicit Parser(std::string_view s) : s_(s) {}

    Result<Value, std::string> run() {
        Value v;
        skip_ws();
        if (!value(v, 0)) return err(std::move(error_));
        skip_ws();
        if (pos_ != s_.size()) {
            fail("trailing characters after the JSON value", pos_);
            return err(std::move(error_));
        }
        return v;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
    std::string error_;

    bool fail(std::string_view what, std::size_t at) {
        error_ = "json: " + std::string(what) + " at offset " + std::to_string(at);
        return false;
    }
    bool at_end() const { return pos_ >= s_.size(); }
    bool unexpected() {
        if (at_end()) return fail("unexpected end of input", pos_);
        return fail("unexpected " + describe(s_[pos_]), pos_);
    }
    void skip_ws() {
        while (!at_end() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }
    bool literal(std::string_view word, Value v, Value& out) {
        if (s_.substr(pos_, word.size()) != word) return fail("invalid literal", pos_);
        pos_ += word.size();
        out = std::move(v);
        return true;
    }

    bool value(Value& out, int depth) {
        if (at_end()) return unexpected();
        const char c = s_[pos_];
        if (c == '{') return object(out, depth);
        if (c == '[') return array(out, depth);
        if (c == 't') return literal("true", Value(true), out);
        if (c == 'f') return literal("false", Value(false), out);
        if (c == 'n') return literal("null", Value(), out);
        if (c == '-' || is_digit(c)) return number(out);
        if (c != '"') return unexpected();
        std::string str;
        if (!string(str)) return false;
        out = Value(std::move(str));
        return true;
    }

    bool enter(int depth) {
        if (depth >= kMaxDepth)
            return fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels", pos_);
        ++pos_; // the opening bracket
        skip_ws();
        return true;
    }

    bool array(Value& out, int depth) {
        if (!enter(depth)) return false;
        Array items;
        if (!at_end() && s_[pos_] == ']') {
            ++pos_;
            out = Value(std::move(items));
            return true;
        }
        for (;;) {
            items.emplace_back();
            if (!value(items.back(), depth + 1)) return false;
            skip_ws();
            if (at_end()) return unexpected();
            if (s_[pos_] == ']') break;
            if (s_[pos_] != ',')
                return fail("expected ',' or ']' but found " + describe(s_[pos_]), pos_);
            ++pos_;
            skip_ws();
        }
        ++pos_;
        out = Value(std::move(items));
        return true;
    }

    bool object(Value& out, int depth) {
        if (!enter(depth)) return false;
        Map members;
        std::vector<std::size_t> key_offsets;
        if (!at_end() && s_[pos_] == '}') {
            ++pos_;
            out = Value(std::move(members));
            return true;
        }
        for (;;) {
            if (at_end()) return unexpected();
            if (s_[pos_] != '"')
                return fail("expected a string key but found " + describe(s_[pos_]), pos_);
            key_offsets.push_back(pos_);
            std::string key;
            if (!string(key)) return false;
            skip_ws();
            if (at_end()) return unexpected();
            if (s_[pos_] != ':') return fail("expected ':' but found " + describe(s_[pos_]), pos_);
            ++pos_;
            skip_ws();
            members.emplace_back(Value(std::move(key)), Value());
            if (!value(members.back().second, depth + 1)) return false;
            skip_ws();
            if (at_end()) return unexpected();
            if (s_[pos_] == '}') break;
            if (s_[pos_] != ',')
                return fail("expected ',' or '}' but found " + describe(s_[pos_]), pos_);
            ++pos_;
            skip_ws();
        }
        ++pos_;
        if (!unique_keys(members, key_offsets)) return false;
        out = Value(std::move(members));
        return true;
    }

    bool unique_keys(const Map& m, const std::vector<std::size_t>& offsets) {
        if (m.size() < 2) return true;
        std::vector<std::size_t> idx(m.size());
        for (std::size_t i = 0; i < idx.size(); ++i)
            idx[i] = i;
        const auto key = [&](std::size_t i) -> const std::string& {
            return m[i].first.as_string();
        };
        std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
            const int c = key(a).compare(key(b));
            return c != 0 ? c < 0 : a < b;
        });
        std::size_t first_dup = m.size(); // report the earliest repeat in document order
        for (std::size_t i = 1; i < idx.size(); ++i) {
            if (key(idx[i]) == key(idx[i - 1])) first_dup = std::min(first_dup, idx[i]);
        }
        if (first_dup == m.size()) return true;
        const std::string shown = dump(Value(key(first_dup).substr(0, 64))); // escaped for logs
        return fail("duplicate key " + shown, offsets[first_dup]);
    }

    bool hex4(std::uint32_t& cp) {
        if (pos_ + 4 > s_.size()) return fail("truncated \\u escape", pos_);
        cp = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            const char c = s_[pos_ + i];
            int d = -1;
            if (is_digit(c))
                d = c - '0';
            else if (c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                d = c - 'A' + 10;
            if (d < 0) return fail("invalid hex digit in \\u escape", pos_ + i);
            cp = cp * 16 + static_cast<std::uint32_t>(d);
        }
        pos_ += 4;
        return true;
    }

    // pos_ is just past "\u".
    bool unicode_escape(std::string& out) {
        const std::size_t start = pos_ - 2;
        std::uint32_t cp = 0;
        if (!hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail("unpaired low surrogate in \\u escape", start);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u")
                return fail("unpaired high surrogate in \\u escape", start);
            pos_ += 2;
            std::uint32_t lo = 0;
            if (!hex4(lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return fail("high surrogate not followed by a low surrogate", start);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        append_utf8(out, cp);
        return true;
    }

    bool string(std::string& out) {
        const std::size_t open = pos_++;
        for (;;) {
            if (at_end()) return fail("unterminated string starting", open);
            const auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20) return fail("unescaped control character in string", pos_);
            if (c >= 0x80) {
                const std::size_t n = utf8_len(s_, pos_);
                if (n == 0) return fail("invalid UTF-8 in string", pos_);
                out.append(s_.substr(pos_, n));
                pos_ += n;
                continue;
            }
            if (c != '\\') {
                out += static_cast<char>(c);
                ++pos_;
                continue;
            }
            if (pos_ + 1 >= s_.size()) return fail("unterminated string starting", open);
            const char e = s_[pos_ + 1];
            pos_ += 2;
            if (e == 'u') {
                if (!unicode_escape(out)) return false;
                continue;
            }
            const auto k = kEscapeFrom.find(e);
            if (k == std::string_view::npos)
                return fail("invalid escape sequence, backslash then " + describe(e), pos_ - 2);
            out += kEscapeTo[k];
        }
    }

    bool number(Value& out) {
        const std::size_t start = pos_;
        bool integral = true;
        if (s_[pos_] == '-') ++pos_;
        if (at_end() || !is_digit(s_[pos_])) return fail("expected a digit", pos_);
        if (s_[pos_] == '0') {
            ++pos_;
            if (!at_end() && is_digit(s_[pos_])) return fail("leading zero in number", start);
        } else {
            while (!at_end() && is_digit(s_[pos_]))
                ++pos_;
        }
        if (!at_end() && s_[pos_] == '.') {
            integral = false;
            ++pos_;
            if (at_end() || !is_digit(s_[pos_])) return fail("expected a digit after '.'", pos_);
            while (!at_end() && is_digit(s_[pos_]))
                ++pos_;
        }
        if (!at_end() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            integral = false;
            ++pos_;
            if (!at_end() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
            if (at_end() || !is_digit(s_[pos_])) return fail("expected a digit in exponent", pos_);
            while (!at_end() && is_digit(s_[pos_]))
                ++pos_;
        }
        const char* first = s_.data() + start;
        const char* last = s_.data() + pos_;
        if (integral) {
            std::int64_t i = 0;
            if (std::from_chars(first, last, i).ec == std::errc{}) {
                out = Value(static_cast<long long>(i));
                return true;
            }
            std::uint64_t u = 0;
            if (*first != '-' && std::from_chars(first, last, u).ec == std::errc{}) {
                out = Value(static_cast<unsigned long long>(u));
                return true;
            }
        }
        double d = 0;
        const auto r = std::from_chars(first, last, d);
        if (r.ec == std::errc::result_out_of_range) {
            if (overflows({first, static_cast<std::size_t>(last - first)}))
                return fail("number out of range", start);
            d = *first == '-' ? -0.0 : 0.0;
        } else if (r.ec != std::errc{} || r.ptr != last) {
            return fail("invalid number", start);
        }
        out = Value(d);
        return true;
    }

    // For a syntactically valid number that from_chars reported out of range: true when
    // its magnitude is too large (overflow), false when too small (underflow to zero).
    static bool overflows(std::string_view t) {
        std::size_t i = t[0] == '-' ? 1 : 0;
        long lead = 0; // decimal exponent of the first significant digit, before 'e'
        std::size_t int_digits = 0;
        while (i < t.size() && is_digit(t[i]))
            ++int_digits, ++i;
        if (!(int_digits == 1 && t[i - 1] == '0')) {
            lead = static_cast<long>(int_digits) - 1;
        } else if (i < t.size() && t[i] == '.') {
            ++i;
            lead = -1;
            while (i < t.size() && t[i] == '0')
                --lead, ++i;
        }
        while (i < t.size() && t[i] != 'e' && t[i] != 'E')
            ++i;
        long exp = 0;
        if (i < t.size()) {
            ++i;
            const bool neg = t[i] == '-';
            if (t[i] == '+' || t[i] == '-') ++i;
            for (; i < t.size(); ++i)
                exp = std::min(exp * 10 + (t[i] - '0'), 100000L);
            if (neg) exp = -exp;
        }
        return lead + exp > 0;
    }
};

class Writer {
public:
    explicit Writer(int indent) : indent_(indent) {}
    std::string take() { return std::move(out_); }

    void value(const Value& v, int level) {
        std::visit([&](const auto& x) { write(x, level); }, v.v);
    }

    void string(std::string_view s) {
        out_ += '"';
        for (std::size_t i = 0; i < s.size();) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (c >= 0x80) {
                const std::size_t n = utf8_len(s, i);
                if (n == 0) {
                    out_ += "\xEF\xBF\xBD"; // U+FFFD for each invalid byte
                    ++i;
                } else {
                    out_.append(s.substr(i, n));
                    i += n;
                }
                continue;
            }
            ++i;
            const auto k = c == '/' ? std::string_view::npos : kEscapeTo.find(static_cast<char>(c));
            if (k != std::string_view::npos) {
                out_ += '\\';
                out_ += kEscapeFrom[k];
            } else if (c < 0x20) {
                out_ += "\\u00";
                out_ += kHex[c >> 4];
                out_ += kHex[c & 0xF];
            } else {
                out_ += static_cast<char>(c);
            }
        }
        out_ += '"';
    }

private:
    std::string out_;
    int indent_;

    void newline(int level) {
        if (indent_ < 0) return;
        out_ += '\n';
        out_.append(static_cast<std::size_t>(indent_) * static_cast<std::size_t>(level), ' ');
    }

    void write(std::monostate, int) { out_ += "null"; }
    void write(bool b, int) { out_ += b ? "true" : "false"; }
    void write(std::int64_t i, int) { out_ += std::to_string(i); }
    void write(std::uint64_t u, int) { out_ += std::to_string(u); }
    void write(double d, int) {
        if (!std::isfinite(d)) {
            out_ += "null";
            return;
        }
        char buf[64];
        const auto r = std::to_chars(buf, buf + sizeof buf, d); // shortest round-trip form
        const std::string_view t(buf, static_cast<std::size_t>(r.ptr - buf));
        out_ += t;
        if (t.find_first_of(".e") == std::string_view::npos) out_ += ".0";
    }
    void write(const std::string& s, int) { string(s); }
    void write(const Blob& b, int) { string(base64_encode(b.data)); }
    void write(const Array& a, int level) {
        out_ += '[';
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (i) out_ += ',';
            newline(level + 1);
            value(a[i], level + 1);
        }
        if (!a.empty()) newline(level);
        out_ += ']';
    }
    void write(const Map& m, int level) {
        out_ += '{';
        for (std::size_t i = 0; i < m.size(); ++i) {
            if (i) out_ += ',';
            newline(level + 1);
            const Value& k = m[i].first;
            if (k.is_string())
                string(k.as_string());
            else if (k.is_blob())
                string(base64_encode(k.as_blob().data));
            else
                string(dump(k));
            out_ += indent_ < 0 ? ":" : ": ";
            value(m[i].second, level + 1);
        }
        if (!m.empty()) newline(level);
        out_ += '}';
    }
};

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> kB64Rev = [] {
    std::array<std::int8_t, 256> t{};
    for (auto& x : t)
        x = -1;
    for (int i = 0; i < 64; ++i)
        t[static_cast<unsigned char>(kB64[i])] = static_cast<std::int8_t>(i);
    return t;
}();

} // namespace

Result<Value, std::string> parse(std::string_view text) {
    return Parser(text).run();
}

std::string dump(const Value& v, int indent) {
    Writer w(indent);
    w.value(v, 0);
    return w.take();
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto byte = [&](std::size_t k) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
    };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
        for (int s = 18; s >= 0; s -= 6)
            out += kB64[(n >> s) & 0x3F];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        const std::uint32_t n = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
        out += kB64[(n >> 18) & 0x3F];
        out += kB64[(n >> 12) & 0x3F];
        out += rest == 2 ? kB64[(n >> 6) & 0x3F] : '=';
        out += '=';
    }
    return out;
}

Result<std::string, std::string> base64_decode(std::string_view text) {
    const auto fail = [](std::string_view what, std::size_t at) {
        return err("base64: " + std::string(what) + " at offset " + std::to_string(at));
    };
    std::size_t data_len = text.size();
    while (data_len > 0 && text.size() - data_len < 2 && text[data_len - 1] == '=')
        --data_len;
    if (data_len < text.size() && text.size() % 4 != 0) return fail("bad padding", data_len);
    if (data_len % 4 == 1) return fail("truncated input", data_len);
    std::string out;
    out.reserve(data_len / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < data_len; ++i) {
        const int d = kB64Rev[static_cast<unsigned char>(text[i])];
        if (d < 0) return fail(text[i] == '=' ? "misplaced padding" : "invalid character", i);
        acc = (acc << 6) | static_cast<std::uint32_t>(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return fail("non-zero trailing bits", data_len - 1);
    return out;
}

} // namespace rc::json
