// python_eval end to end: the C++ handler, the rc_eval.py allow-list and the process limits.
// Needs python3 (3.9+) on PATH; every case spawns a real, short-lived interpreter.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <variant>

#include "common/codec.hpp"
#include "common/json.hpp"
#include "worker/handlers/outside.hpp"

using namespace rc;
using namespace rc::worker;
using namespace std::chrono_literals;

namespace {

const std::string kScript =
    std::filesystem::absolute(std::filesystem::path(__FILE__).parent_path() /
                              "../../worker/sandbox/rc_eval.py")
        .lexically_normal()
        .string();

OutsideConfig test_config() {
    OutsideConfig c;
    c.sandbox_script = kScript;
    c.python_cpu_limit = 1s; // short limits keep the abuse cases fast
    c.python_wall_limit = 3000ms;
    c.python_memory_limit_bytes = std::size_t{256} << 20;
    return c;
}

const std::optional<std::string>& python() {
    static const std::optional<std::string> p = find_python("");
    return p;
}

const Handler& eval_handler() {
    static const Handler h =
        make_python_eval_handler(test_config(), python().value_or(""), kScript);
    return h;
}

HandlerOutput run(const Value& payload, const CancelToken* cancel = nullptr,
                  std::chrono::milliseconds lease = 0ms) {
    TaskContext ctx;
    ctx.task_id = TaskId("t-python");
    ctx.task_type = "python_eval";
    ctx.payload = codec::encode_value(payload);
    ctx.timeout = lease;
    CancelToken local;
    ctx.cancel = cancel ? cancel : &local;
    return eval_handler()(ctx);
}

HandlerOutput eval(const std::string& expression) {
    Value p;
    p.set("expression", expression);
    return run(p);
}

Value result_of(const HandlerOutput& out) {
    auto v = codec::decode_value(out.result);
    REQUIRE(v.ok());
    return *v;
}

// Evaluates and requires success; returns the value.
Value ok(const std::string& expression) {
    INFO("expression: " << expression);
    auto out = eval(expression);
    INFO("error: " << out.error);
    REQUIRE(out.status == TaskStatus::Success);
    return result_of(out);
}

Array arr(std::initializer_list<Value> items) {
    return Array(items);
}

// Floats compare by value: the msgpack codec packs integral doubles (4.0) as integers.
void check_eval(const std::string& expression, const Value& expected) {
    const Value got = ok(expression);
    INFO(expression << " gave " << json::dump(got) << ", expected " << json::dump(expected));
    if (std::holds_alternative<double>(expected.v)) {
        REQUIRE(got.is_number());
        CHECK(got.as_double() == Approx(expected.as_double()));
    } else {
        CHECK(got == expected);
    }
}

} // namespace

TEST_CASE("python_eval finds an interpreter and the sandbox script", "[python_eval]") {
    REQUIRE(python().has_value());
    REQUIRE(find_sandbox_script(kScript) == kScript);
    CHECK_FALSE(find_sandbox_script("/nonexistent/rc_eval.py").has_value());
    CHECK_FALSE(find_python("/nonexistent/python3").has_value());

    HandlerRegistry with;
    add_outside_handlers(with, test_config());
    CHECK(with.find("python_eval") != nullptr);

    HandlerRegistry without;
    auto c = test_config();
    c.sandbox_script = "/nonexistent/rc_eval.py";
    add_outside_handlers(without, c);
    CHECK(without.find("python_eval") == nullptr);
}

TEST_CASE("python_eval computes sum(range(1000000))", "[python_eval]") {
    REQUIRE(python().has_value());
    CHECK(ok("sum(range(1000000))") == Value(499999500000LL));
}

TEST_CASE("python_eval returns plain data", "[python_eval]") {
    REQUIRE(python().has_value());
    CHECK(ok("None") == Value());
    CHECK(ok("True") == Value(true));
    CHECK(ok("-7") == Value(-7));
    CHECK(ok("2.5") == Value(2.5));
    check_eval("1.0", 1.0);
    CHECK(ok("'héllo'") == Value("héllo"));
    CHECK(ok("b'\\x00\\xff'") == Value(Blob{std::string("\x00\xff", 2)}));
    CHECK(ok("(1, [2, 3])") == Value(arr({1, arr({2, 3})})));
    CHECK(ok("{3, 1, 2}") == Value(arr({1, 2, 3})));
    Map m;
    m.emplace_back(Value(1), Value("a"));
    m.emplace_back(Value("k"), Value(arr({true, Value()})));
    CHECK(ok("{1: 'a', 'k': [True, None]}") == Value(m));
    CHECK(ok("2**64 - 1") == Value(18446744073709551615ULL));
    CHECK(ok("-2**63") == Value(static_cast<long long>(INT64_MIN)));
    CHECK(std::isnan(ok("float('nan')").as_double()));
    CHECK(ok("math.inf") == Value(std::numeric_limits<double>::infinity()));
    CHECK(ok("-math.inf") == Value(-std::numeric_limits<double>::infinity()));
    CHECK(ok("'%s-%d' % ('a', 1)") == Value("a-1")); // %-formatting reads no attributes
    CHECK(ok("'\\x5f\\x5fimport\\x5f\\x5f'") == Value("__import__")); // just a string
    CHECK(ok("[x * y for x in range(3) for y in (1, 10) if x]") == Value(arr({1, 10, 2, 20})));
    CHECK(ok("{k: v for k, v in zip('ab', [1, 2])}").as_map().size() == 2);
    CHECK(ok("sum(x for x in range(5))") == Value(10));
    CHECK(ok("'abcdef'[1:5:2]") == Value("bd"));
    CHECK(ok("1 if 2 > 3 else 'no'") == Value("no"));
    CHECK(ok("not (1 < 2 <= 2) or 3 in [3] and 4 not in (5,)") == Value(true));
    CHECK(ok("(7 // 2, 7 % 2, 2 ** 10, 1 << 4, 6 & 3, 6 | 3, 6 ^ 3, ~0, 9 >> 1)") ==
          Value(arr({3, 1, 1024, 16, 2, 7, 5, -1, 4})));

    auto big = eval("2**64");
    CHECK(big.status == TaskStatus::Failed);
    CHECK_THAT(big.error, Catch::Contains("result integer too large"));
}

TEST_CASE("python_eval allows each documented builtin", "[python_eval]") {
    REQUIRE(python().has_value());
    const std::vector<std::pair<std::string, Value>> cases = {
        {"abs(-3)", 3},
        {"all([1, True])", true},
        {"any([0, 1])", true},
        {"bin(5)", "0b101"},
        {"bool(0)", false},
        {"chr(65)", "A"},
        {"dict([('a', 1)], b=2)['b']", 2},
        {"divmod(7, 2)", arr({3, 1})},
        {"list(enumerate('ab', start=1))", arr({arr({1, "a"}), arr({2, "b"})})},
        {"float('1.5')", 1.5},
        {"hex(255)", "0xff"},
        {"int('ff', base=16)", 255},
        {"len('abc')", 3},
        {"list('ab')", arr({"a", "b"})},
        {"max([], default=4)", 4},
        {"min(3, 1, 2)", 1},
        {"oct(8)", "0o10"},
        {"ord('a')", 97},
        {"pow(2, 10, 1000)", 24},
        {"range(3)", arr({0, 1, 2})},
        {"reversed([1, 2])", arr({2, 1})},
        {"round(2.675, ndigits=1)", 2.7},
        {"set([2, 2, 1])", arr({1, 2})},
        {"sorted([3, 1, 2], reverse=True)", arr({3, 2, 1})},
        {"str(12)", "12"},
        {"sum([1, 2], start=10)", 13},
        {"tuple('ab')", arr({"a", "b"})},
        {"zip([1, 2], 'ab')", arr({arr({1, "a"}), arr({2, "b"})})},
    };
    for (const auto& [expr, expected] : cases)
        check_eval(expr, expected);
}

TEST_CASE("python_eval allows each documented math name", "[python_eval]") {
    REQUIRE(python().has_value());
    const std::vector<std::pair<std::string, Value>> cases = {
        {"math.sqrt(16)", 4.0},
        {"math.floor(2.7)", 2},
        {"math.ceil(2.1)", 3},
        {"math.log(math.e)", 1.0},
        {"math.log2(8)", 3.0},
        {"math.log10(1000)", 3.0},
        {"math.exp(0)", 1.0},
        {"math.sin(0)", 0.0},
        {"math.cos(0)", 1.0},
        {"math.tan(0)", 0.0},
        {"math.asin(0)", 0.0},
        {"math.acos(1)", 0.0},
        {"math.atan(0)", 0.0},
        {"math.atan2(0, 1)", 0.0},
        {"math.degrees(0)", 0.0},
        {"math.radians(0)", 0.0},
        {"math.factorial(5)", 120},
        {"math.gcd(12, 18)", 6},
        {"math.lcm(4, 6)", 12},
        {"math.isqrt(17)", 4},
        {"math.fabs(-2)", 2.0},
        {"math.comb(5, 2)", 10},
        {"math.perm(5, 2)", 20},
        {"math.hypot(3, 4)", 5.0},
        {"math.trunc(-2.5)", -2},
        {"math.copysign(1, -0.0)", -1.0},
        {"math.fmod(7, 3)", 1.0},
        {"math.fsum([0.5, 0.25])", 0.75},
        {"math.prod([2, 3], start=2)", 12},
        {"math.isfinite(1)", true},
        {"math.isinf(math.inf)", true},
        {"math.isnan(math.nan)", true},
        {"math.pi > 3.14", true},
        {"math.e > 2.71", true},
        {"math.tau / 2 == math.pi", true},
        {"math.inf > 10**300", true},
    };
    for (const auto& [expr, expected] : cases)
        check_eval(expr, expected);
}

TEST_CASE("python_eval refuses escapes and survives abuse", "[python_eval]") {
    REQUIRE(python().has_value());
    enum Want { Fails, TimesOut, FailsOrTimesOut };
    struct Abuse {
        std::string expr;
        Want want;
        std::string says; // part of the error message
    };
    const std::vector<Abuse> cases = {
        {"().__class__", Fails, "attribute access (.__class__)"},
        {"().__class__.__bases__[0].__subclasses__()", Fails, "attribute access"},
        {"getattr((), '_'+'_class_'+'_')", Fails, "name 'getattr' is not allowed"},
        {"[c for c in ().__class__.__base__.__subclasses__()]", Fails, "attribute access"},
        {"[].__class__", Fails, "attribute access"},
        {"getattr", Fails, "name 'getattr' is not allowed"},
        {"vars()", Fails, "name 'vars' is not allowed"},
        {"globals()", Fails, "name 'globals' is not allowed"},
        {"locals()", Fails, "name 'locals' is not allowed"},
        {"dir()", Fails, "name 'dir' is not allowed"},
        {"type(1)", Fails, "name 'type' is not allowed"},
        {"'{0.__class__}'.format(1)", Fails, "attribute access (.format)"},
        {"f'{1}'", Fails, "f-string"},
        {"f'{1:>10}'", Fails, "f-string"},
        {"(x for x in [1]).gi_frame", Fails, "attribute access (.gi_frame)"},
        {"__import__('os')", Fails, "'__import__' is not allowed"},
        {"open('/etc/passwd')", Fails, "name 'open' is not allowed"},
        {"exec('1')", Fails, "name 'exec' is not allowed"},
        {"eval('1')", Fails, "name 'eval' is not allowed"},
        {"compile('1', '', 'eval')", Fails, "name 'compile' is not allowed"},
        {"breakpoint()", Fails, "name 'breakpoint' is not allowed"},
        {"input()", Fails, "name 'input' is not allowed"},
        {"print(1)", Fails, "name 'print' is not allowed"},
        {"lambda: 1", Fails, "lambda"},
        {"(lambda: 1)()", Fails, "lambda"},
        {"(y := 1)", Fails, "assignment expression"},
        {"math.__dict__", Fails, "math.__dict__ is not allowed"},
        {"math.sys", Fails, "math.sys is not allowed"},
        {"math.sqrt", Fails, "may only be called"},
        {"abs", Fails, "may only be called"},
        {"\xef\xbd\x85\xef\xbd\x96\xef\xbd\x81\xef\xbd\x8c('1')", Fails,
         "name 'eval' is not allowed"},
        {"sorted([1], key=abs)", Fails, "keyword argument 'key'"},
        {"max([1], key=len)", Fails, "keyword argument 'key'"},
        {"dict(**{'a': 1})", Fails, "keyword unpacking"},
        {"[*[1]]", Fails, "starred"},
        {"{**{}}", Fails, "dict unpacking"},
        {"[_ for _ in [1]]", Fails, "leading underscore"},
        {"[math for math in [1]]", Fails, "loop variable"},
        {"[abs for abs in [1]]", Fails, "loop variable"},
        {"[x.real for x in [1]]", Fails, "attribute access"},
        {"[x for x in [1]][0].__class__", Fails, "attribute access"},
        {"'a'.upper()", Fails, "attribute access (.upper)"},
        {"1j", Fails, "complex numbers"},
        {"...", Fails, "Ellipsis"},
        {"await x", Fails, "await"},
        {"(yield)", Fails, "yield"},
        {"1 @ 2", Fails, "@"},
        {"import os", Fails, "syntax error"},
        {"1 +", Fails, "syntax error"},
        {"x", Fails, "name 'x' is not allowed"},
        {std::string(1000, '(') + "1" + std::string(1000, ')'), Fails, "nested"},
        {std::string(150, '[') + std::string(150, ']'), Fails, "nested too deeply"},
        {std::string(90000, '-') + "1", Fails, "nested too deeply"},
        {"math.factorial(10**9)", Fails, "larger than 100000"},
        {"1/0", Fails, "ZeroDivisionError"},
        {"len(str(10**5000))", Fails, "ValueError"},
        {"[0]*10**10", Fails, "memory limit exceeded"},
        {"'a'*10**10", Fails, "memory limit exceeded"},
        {"'x'*(10**7)", Fails, "result is too large"},
        {"9**9**9", FailsOrTimesOut, ""},
        {"10**10**10", FailsOrTimesOut, ""},
        {"sum(range(10**15))", TimesOut, "limit"},
    };
    for (const auto& a : cases) {
        INFO("expression: " << a.expr.substr(0, 80));
        const auto out = eval(a.expr);
        INFO("status: " << to_string(out.status) << ", error: " << out.error);
        switch (a.want) {
        case Fails:
            CHECK(out.status == TaskStatus::Failed);
            break;
        case TimesOut:
            CHECK(out.status == TaskStatus::Timeout);
            break;
        case FailsOrTimesOut:
            CHECK((out.status == TaskStatus::Failed || out.status == TaskStatus::Timeout));
            break;
        }
        CHECK_FALSE(out.error.empty());
        CHECK_THAT(out.error, Catch::Contains(a.says));
    }
    CHECK(ok("1 + 1") == Value(2)); // the handler is unharmed
}

TEST_CASE("python_eval rejects malformed payloads", "[python_eval]") {
    REQUIRE(python().has_value());
    Value missing;
    missing.set("expr", "1");
    auto out = run(missing);
    CHECK(out.status == TaskStatus::Failed);
    CHECK_THAT(out.error, Catch::Contains("'expression'"));

    Value number;
    number.set("expression", 42);
    out = run(number);
    CHECK(out.status == TaskStatus::Failed);
    CHECK_THAT(out.error, Catch::Contains("must be a string"));

    out = run(Value("1 + 1"));
    CHECK(out.status == TaskStatus::Failed);
    CHECK_THAT(out.error, Catch::Contains("must be a map"));

    out = eval("");
    CHECK(out.status == TaskStatus::Failed);

    out = eval("\xff\xfe");
    CHECK(out.status == TaskStatus::Failed);
    CHECK_THAT(out.error, Catch::Contains("UTF-8"));
}

TEST_CASE("python_eval honours cancellation and the task lease", "[python_eval]") {
    REQUIRE(python().has_value());
    Value p;
    p.set("expression", "sum(range(10**15))");

    CancelToken cancelled;
    cancelled.request(CancelToken::Why::Cancelled);
    auto start = std::chrono::steady_clock::now();
    auto out = run(p, &cancelled);
    CHECK(out.status == TaskStatus::Cancelled);
    CHECK(std::chrono::steady_clock::now() - start < 2s);

    start = std::chrono::steady_clock::now();
    out = run(p, nullptr, 300ms); // the lease is shorter than the configured wall limit
    CHECK(out.status == TaskStatus::Timeout);
    CHECK_THAT(out.error, Catch::Contains("300 ms"));
    CHECK(std::chrono::steady_clock::now() - start < 2s);
}
