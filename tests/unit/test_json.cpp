// Unit tests for rc::json: parse/dump of every value kind, each rejection (with its byte
// offset), unicode escapes and surrogates, randomised round trips, RFC 4648 base64 vectors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/json.hpp"

using rc::Array;
using rc::Blob;
using rc::Map;
using rc::Value;
namespace json = rc::json;

namespace {

Value parsed(std::string_view text) {
    auto r = json::parse(text);
    INFO("input: " << text << " error: " << (r ? std::string() : r.error()));
    REQUIRE(r.ok());
    return std::move(r).value();
}

} // namespace

TEST_CASE("json: scalars parse to the matching Value kind", "[json]") {
    CHECK(parsed("null") == Value());
    CHECK(parsed(" \t\r\ntrue\n") == Value(true));
    CHECK(parsed("false") == Value(false));
    CHECK(parsed("0") == Value(0));
    CHECK(parsed("-0") == Value(0));
    CHECK(parsed("123") == Value(123));
    CHECK(parsed("-42") == Value(-42));
    CHECK(parsed("\"hi\"") == Value("hi"));
}

TEST_CASE("json: integer ranges pick int64, then uint64, then double", "[json]") {
    const auto i64max = std::numeric_limits<std::int64_t>::max();
    const auto i64min = std::numeric_limits<std::int64_t>::min();
    CHECK(std::get<std::int64_t>(parsed("9223372036854775807").v) == i64max);
    CHECK(std::get<std::int64_t>(parsed("-9223372036854775808").v) == i64min);
    CHECK(std::get<std::uint64_t>(parsed("9223372036854775808").v) == 9223372036854775808ull);
    CHECK(std::get<std::uint64_t>(parsed("18446744073709551615").v) == 18446744073709551615ull);
    CHECK(std::get<double>(parsed("18446744073709551616").v) == 18446744073709551616.0);
    CHECK(std::get<double>(parsed("-9223372036854775809").v) == -9223372036854775809.0);
}

TEST_CASE("json: fractions and exponents parse to double", "[json]") {
    CHECK(std::get<double>(parsed("1.5").v) == 1.5);
    CHECK(std::get<double>(parsed("1e3").v) == 1000.0);
    CHECK(std::get<double>(parsed("1E-2").v) == 0.01);
    CHECK(std::get<double>(parsed("-2.5e+2").v) == -250.0);
    CHECK(std::get<double>(parsed("0.1").v) == 0.1);
    CHECK(std::get<double>(parsed("4.9e-324").v) > 0);          // smallest subnormal
    CHECK(std::get<double>(parsed("1e-400").v) == 0.0);         // underflow -> 0
    CHECK(std::signbit(std::get<double>(parsed("-1e-400").v))); // keeps the sign
    CHECK(std::get<double>(parsed("1.7976931348623157e308").v) ==
          std::numeric_limits<double>::max());
}

TEST_CASE("json: objects keep key order and nest", "[json]") {
    const Value v = parsed(R"({"z":1,"a":[true,null,{"k":"v"}],"m":{}, "e":[]})");
    REQUIRE(v.is_map());
    const Map& m = v.as_map();
    REQUIRE(m.size() == 4);
    CHECK(m[0].first == Value("z"));
    CHECK(m[1].first == Value("a"));
    CHECK(m[2].first == Value("m"));
    CHECK(m[3].first == Value("e"));
    CHECK(*v.find("a") == Value(Array{true, nullptr, Value(Map{{"k", "v"}})}));
    CHECK(*v.find("m") == Value(Map{}));
    CHECK(*v.find("e") == Value(Array{}));
}

TEST_CASE("json: string escapes and unicode", "[json]") {
    CHECK(parsed(R"("\"\\\/\b\f\n\r\t")") == Value("\"\\/\b\f\n\r\t"));
    CHECK(parsed(R"("\u0041\u00e9\u20AC")") == Value("A\xC3\xA9\xE2\x82\xAC"));
    CHECK(parsed(R"("\ud83d\ude00")") == Value("\xF0\x9F\x98\x80")); // U+1F600
    CHECK(parsed(R"("\uDBFF\uDFFF")") == Value("\xF4\x8F\xBF\xBF")); // U+10FFFF
    CHECK(parsed(R"("a\u0000b")") == Value(std::string("a\0b", 3)));
    CHECK(parsed("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"") == Value("caf\xC3\xA9 \xF0\x9F\x98\x80"));
}

TEST_CASE("json: rejections name the reason and the byte offset", "[json]") {
    struct Case {
        std::string input;
        std::size_t offset;
        std::string reason;
    };
    const std::vector<Case> cases = {
        {"", 0, "unexpected end"},
        {"   ", 3, "unexpected end"},
        {"01", 0, "leading zero"},
        {"-01", 0, "leading zero"},
        {"00.5", 0, "leading zero"},
        {"1.", 2, "digit after '.'"},
        {".5", 0, "unexpected '.'"},
        {"+1", 0, "unexpected '+'"},
        {"-", 1, "expected a digit"},
        {"1e", 2, "exponent"},
        {"1e+", 3, "exponent"},
        {"NaN", 0, "unexpected 'N'"},
        {"nan", 0, "invalid literal"},
        {"Infinity", 0, "unexpected 'I'"},
        {"-Infinity", 1, "expected a digit"},
        {"1e400", 0, "out of range"},
        {"-1e400", 0, "out of range"},
        {"tru", 0, "invalid literal"},
        {"True", 0, "unexpected 'T'"},
        {"1 2", 2, "trailing"},
        {"[1]x", 3, "trailing"},
        {std::string("1\0", 2), 1, "trailing"},
        {"\xEF\xBB\xBF"
         "1",
         0, "unexpected byte 0xef"},
        {"[", 1, "unexpected end"},
        {"[1,]", 3, "unexpected ']'"},
        {"[1 2]", 3, "expected ',' or ']'"},
        {"[1,2", 4, "unexpected end"},
        {"{\"a\":1,}", 7, "expected a string key"},
        {"{'a':1}", 1, "expected a string key"},
        {"{\"a\" 1}", 5, "expected ':'"},
        {"{\"a\":1 \"b\":2}", 7, "expected ',' or '}'"},
        {"{\"a\":1,\"b\":2,\"a\":3}", 13, "duplicate key \"a\""},
        {"{\"z\":1,\"b\":2,\"z\":3,\"b\":4}", 13, "duplicate key \"z\""},
        {"\"abc", 0, "unterminated string"},
        {"\"a\\", 0, "unterminated string"},
        {"\"a\nb\"", 2, "control character"},
        {"\"\x01\"", 1, "control character"},
        {"\"\\x\"", 1, "invalid escape"},
        {"\"\\U0041\"", 1, "invalid escape"},
        {"\"\\u12g4\"", 5, "invalid hex digit"},
        {"\"\\u12\"", 3, "truncated"},
        {"\"\\ud800\"", 1, "unpaired high surrogate"},
        {"\"\\ud800x\"", 1, "unpaired high surrogate"},
        {"\"\\udc00\"", 1, "unpaired low surrogate"},
        {"\"\\ud800\\u0041\"", 1, "not followed by a low surrogate"},
        {"\"\\ud800\\ud800\"", 1, "not followed by a low surrogate"},
        {"\"\xFF\"", 1, "invalid UTF-8"},
        {"\"ab\xC0\xAF\"", 3, "invalid UTF-8"},       // overlong '/'
        {"\"\xED\xA0\x80\"", 1, "invalid UTF-8"},     // encoded surrogate
        {"\"\xE2\x82\"", 1, "invalid UTF-8"},         // truncated sequence
        {"\"\xF4\x90\x80\x80\"", 1, "invalid UTF-8"}, // above U+10FFFF
    };
    for (const auto& c : cases) {
        INFO("input: " << c.input);
        const auto r = json::parse(c.input);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error(), Catch::Contains(c.reason));
        CHECK_THAT(r.error(), Catch::EndsWith("at offset " + std::to_string(c.offset)));
    }
}

TEST_CASE("json: nesting is limited to 128 levels", "[json]") {
    const auto nested = [](int n) { return std::string(n, '[') + std::string(n, ']'); };
    CHECK(json::parse(nested(json::kMaxDepth)).ok());
    const auto deep = json::parse(nested(json::kMaxDepth + 1));
    REQUIRE_FALSE(deep.ok());
    CHECK(deep.error() == "json: nesting deeper than 128 levels at offset 128");

    std::string objects;
    for (int i = 0; i <= json::kMaxDepth; ++i)
        objects += "{\"k\":";
    objects += "1" + std::string(json::kMaxDepth + 1, '}');
    const auto deep_obj = json::parse(objects);
    REQUIRE_FALSE(deep_obj.ok());
    CHECK_THAT(deep_obj.error(), Catch::Contains("nesting deeper than 128 levels at offset"));
    // Far deeper input fails the same way instead of exhausting the stack.
    CHECK_FALSE(json::parse(std::string(100000, '[')).ok());
}

TEST_CASE("json: dump compact and pretty", "[json]") {
    const Value v(Map{{"a", 1},
                      {"b", Value(Array{true, nullptr, "x"})},
                      {"c", Value(Map{})},
                      {"d", Value(Array{})},
                      {"e", Value(Map{{"f", -2.5}})}});
    CHECK(json::dump(v) == R"({"a":1,"b":[true,null,"x"],"c":{},"d":[],"e":{"f":-2.5}})");
    CHECK(json::dump(v, 2) == "{\n"
                              "  \"a\": 1,\n"
                              "  \"b\": [\n"
                              "    true,\n"
                              "    null,\n"
                              "    \"x\"\n"
                              "  ],\n"
                              "  \"c\": {},\n"
                              "  \"d\": [],\n"
                              "  \"e\": {\n"
                              "    \"f\": -2.5\n"
                              "  }\n"
                              "}");
    CHECK(json::dump(Value(Array{1, 2}), 0) == "[\n1,\n2\n]");
    CHECK(parsed(json::dump(v, 4)) == v);
    CHECK(json::dump(Value(18446744073709551615ull)) == "18446744073709551615");
    CHECK(json::dump(Value(std::numeric_limits<std::int64_t>::min())) == "-9223372036854775808");
}

TEST_CASE("json: doubles print to round-trip, integral ones keep a fraction", "[json]") {
    CHECK(json::dump(Value(2.0)) == "2.0");
    CHECK(json::dump(Value(-0.0)) == "-0.0");
    CHECK(json::dump(Value(0.1)) == "0.1");
    CHECK(json::dump(Value(1e300)) == "1e+300");
    CHECK(json::dump(Value(1.0 / 3.0)) == "0.3333333333333333");
    CHECK(std::get<double>(parsed(json::dump(Value(1.0 / 3.0))).v) == 1.0 / 3.0);
    CHECK(parsed(json::dump(Value(2.0))).v.index() == Value(2.0).v.index());
    CHECK(json::dump(Value(std::nan(""))) == "null");
    CHECK(json::dump(Value(std::numeric_limits<double>::infinity())) == "null");
    CHECK(json::dump(Value(-std::numeric_limits<double>::infinity())) == "null");
}

TEST_CASE("json: dump escapes strings and repairs invalid UTF-8", "[json]") {
    CHECK(json::dump(Value("a\"b\\c/d")) == R"("a\"b\\c/d")");
    CHECK(json::dump(Value("\b\f\n\r\t")) == R"("\b\f\n\r\t")");
    CHECK(json::dump(Value(std::string("\x01\x1f\0", 3))) == R"("\u0001\u001f\u0000")");
    CHECK(json::dump(Value("\x7f")) == "\"\x7f\"");
    CHECK(json::dump(Value("\xC3\xA9\xF0\x9F\x98\x80")) == "\"\xC3\xA9\xF0\x9F\x98\x80\"");
    CHECK(json::dump(Value("a\xFF"
                           "b")) == "\"a\xEF\xBF\xBD"
                                    "b\"");
    CHECK(json::dump(Value("\xE2\x82")) == "\"\xEF\xBF\xBD\xEF\xBF\xBD\""); // one per byte
    CHECK(json::dump(Value("\xED\xA0\x80")) ==
          "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");        // CESU surrogate
    CHECK(json::parse(json::dump(Value("x\xC0\xAFy"))).ok()); // output is always valid
}

TEST_CASE("json: blobs become base64 and non-string keys their JSON text", "[json]") {
    CHECK(json::dump(Value(Blob{"foobar"})) == R"("Zm9vYmFy")");
    const Value v(Map{{1, "one"},
                      {Value(Array{1, 2}), "arr"},
                      {nullptr, "nil"},
                      {true, "t"},
                      {1.5, "d"},
                      {Value(Blob{"fo"}), "blob"},
                      {Value(Map{{"k", "v"}}), "map"}});
    CHECK(json::dump(v) == R"({"1":"one","[1,2]":"arr","null":"nil","true":"t","1.5":"d",)"
                           R"("Zm8=":"blob","{\"k\":\"v\"}":"map"})");
}

namespace {

class Gen {
public:
    explicit Gen(std::uint32_t seed) : rng_(seed) {}

    Value value(int depth, bool with_blobs) {
        const int kinds = depth >= 4 ? 7 : 9;
        switch (pick(0, kinds - 1)) {
        case 0:
            return Value();
        case 1:
            return Value(pick(0, 1) == 1);
        case 2:
            return Value(static_cast<long long>(rng_()));
        case 3:
            return Value(static_cast<unsigned long long>(rng_()) | (1ull << 63));
        case 4:
            return Value(any_double());
        case 5:
            return Value(text());
        case 6:
            return with_blobs ? Value(Blob{bytes()}) : Value(pick(-1000, 1000));
        case 7: {
            Array a;
            for (int i = pick(0, 4); i > 0; --i)
                a.push_back(value(depth + 1, with_blobs));
            return Value(std::move(a));
        }
        default: {
            Map m;
            std::set<std::string> used;
            for (int i = pick(0, 4); i > 0; --i) {
                std::string k = text();
                if (!used.insert(k).second) continue; // the parser rejects duplicate keys
                m.emplace_back(Value(std::move(k)), value(depth + 1, with_blobs));
            }
            return Value(std::move(m));
        }
        }
    }

private:
    std::mt19937_64 rng_;

    int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

    // Any finite double: dump prints the shortest text that reads back to the same bits.
    double any_double() {
        if (pick(0, 3) == 0) return static_cast<double>(pick(-100, 100)); // integral, "2.0"
        for (;;) {
            const std::uint64_t bits = rng_();
            double d;
            std::memcpy(&d, &bits, sizeof d);
            if (std::isfinite(d)) return d;
        }
    }

    std::string bytes() {
        std::string s;
        for (int i = pick(0, 12); i > 0; --i)
            s += static_cast<char>(pick(0, 255));
        return s;
    }

    // Valid UTF-8 mixing ASCII, control characters, quotes, backslashes and multi-byte code points.
    std::string text() {
        static const std::string kSpecial = "\"\\/\b\f\n\r\t\x01\x1f\x7f";
        std::string s;
        for (int i = pick(0, 10); i > 0; --i) {
            switch (pick(0, 3)) {
            case 0:
                s += static_cast<char>(pick(0x20, 0x7e));
                break;
            case 1:
                s += kSpecial[static_cast<std::size_t>(pick(0, 10))];
                break;
            case 2:
                s += static_cast<char>(pick(0, 0x1f));
                break;
            default:
                append_code_point(s);
                break;
            }
        }
        return s;
    }

    void append_code_point(std::string& s) {
        std::uint32_t cp = 0;
        do
            cp = static_cast<std::uint32_t>(pick(0x80, 0x10FFFF));
        while (cp >= 0xD800 && cp <= 0xDFFF);
        if (cp < 0x800) {
            s += static_cast<char>(0xC0 | (cp >> 6));
        } else if (cp < 0x10000) {
            s += static_cast<char>(0xE0 | (cp >> 12));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        } else {
            s += static_cast<char>(0xF0 | (cp >> 18));
            s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        }
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
};

} // namespace

TEST_CASE("json: randomised round trips of generated values", "[json][property]") {
    const std::uint32_t seed = 20241129;
    Gen gen(seed);
    for (int i = 0; i < 2000; ++i) {
        const Value v = gen.value(0, false);
        for (const int indent : {-1, 0, 2}) {
            const std::string text = json::dump(v, indent);
            INFO("seed " << seed << " iteration " << i << " indent " << indent << ": " << text);
            const auto back = json::parse(text);
            REQUIRE(back.ok());
            REQUIRE(back.value() == v);
        }
    }
}

TEST_CASE("json: values with blobs reach a fixed point after one round trip", "[json][property]") {
    Gen gen(7);
    for (int i = 0; i < 500; ++i) {
        const std::string once = json::dump(gen.value(0, true));
        const auto back = json::parse(once);
        INFO("iteration " << i << ": " << once);
        REQUIRE(back.ok());
        REQUIRE(json::dump(back.value()) == once);
    }
}

TEST_CASE("base64: RFC 4648 section 10 vectors", "[json][base64]") {
    const std::vector<std::pair<std::string, std::string>> vectors = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        CHECK(json::base64_encode(plain) == encoded);
        const auto d = json::base64_decode(encoded);
        REQUIRE(d.ok());
        CHECK(d.value() == plain);
    }
    CHECK(json::base64_encode(std::string("\xFB\xFF", 2)) == "+/8=");
}

TEST_CASE("base64: unpadded input decodes, malformed input is rejected", "[json][base64]") {
    CHECK(json::base64_decode("Zg").value() == "f");
    CHECK(json::base64_decode("Zm9vYmE").value() == "fooba");
    for (const char* bad : {"Z", "Zg=", "Zg===", "Zm9vY", "Zm9v!",
                            "Zg==Zg==", "=Zg=", " Zg==", "Zg==\n", "Zh==", "Zm9=", "Zm-_"}) {
        INFO("input: " << bad);
        const auto r = json::base64_decode(bad);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error(), Catch::Contains("at offset"));
    }
}

TEST_CASE("base64: random binary round trips", "[json][base64]") {
    std::mt19937 rng(99);
    for (int n = 0; n < 300; ++n) {
        std::string s;
        for (int i = 0; i < n % 67; ++i)
            s += static_cast<char>(rng() & 0xFF);
        const auto d = json::base64_decode(json::base64_encode(s));
        REQUIRE(d.ok());
        REQUIRE(d.value() == s);
    }
}
