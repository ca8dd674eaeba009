// Shared helpers of the client tools: --require parsing, result/task values, lookups,
// human formatting and JSON output. Reports bad input as error strings, never asserts.
#include "cli_support.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <stdexcept>
#include <type_traits>

#include "common/codec.hpp"
#include "common/json.hpp"

namespace rc::cli {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

constexpr std::string_view kRequirementKeys =
    "min_cpu_cores, min_memory_gb, min_storage_gb, gpu_required, internet_required, required_platform, "
    "required_role, required_tags, timeout_seconds, max_retries";

// Wraps a parse error so that it names the --require key.
template <typename T>
Status<std::string> assign(Result<T, std::string> parsed, std::string_view key, T& out) {
    if (!parsed) return err("--require " + std::string(key) + ": " + parsed.error());
    if constexpr (!std::is_same_v<T, bool>)
        if (parsed.value() < 0) return err("--require " + std::string(key) + ": must not be negative");
    out = parsed.value();
    return Unit{};
}

} // namespace

// ------------------------------------------------------------------ scalars

Result<std::int64_t, std::string> parse_int(std::string_view text) {
    auto t = trim(text);
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc{} || p != t.data() + t.size())
        return err("expected a whole number, got '" + std::string(text) + "'");
    return v;
}

Result<double, std::string> parse_double(std::string_view text) {
    auto t = trim(text);
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    double v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc{} || p != t.data() + t.size() || !std::isfinite(v))
        return err("expected a number, got '" + std::string(text) + "'");
    return v;
}

Result<bool, std::string> parse_bool(std::string_view text) {
    auto t = lower(trim(text));
    if (t == "true" || t == "1" || t == "yes") return true;
    if (t == "false" || t == "0" || t == "no") return false;
    return err("expected true/false/1/0/yes/no, got '" + std::string(text) + "'");
}

// ------------------------------------------------------------------ requirements

Status<std::string> apply_requirement(Requirements& req, std::string_view key_value) {
    auto eq = key_value.find('=');
    if (eq == std::string_view::npos)
        return err("--require '" + std::string(key_value) + "': expected key=value");
    const std::string key = lower(trim(key_value.substr(0, eq)));
    const std::string_view value = trim(key_value.substr(eq + 1));
    if (key.empty()) return err("--require '" + std::string(key_value) + "': missing key before '='");

    auto whole = [&](int& out) -> Status<std::string> {
        auto r = parse_int(value);
        if (r && (r.value() < INT32_MIN || r.value() > INT32_MAX)) r = err("value out of range");
        std::int64_t tmp = 0;
        auto s = assign(std::move(r), key, tmp);
        if (s) out = static_cast<int>(tmp);
        return s;
    };
    if (key == "min_cpu_cores") return whole(req.min_cpu_cores);
    if (key == "max_retries") return whole(req.max_retries);
    if (key == "min_memory_gb") return assign(parse_double(value), key, req.min_memory_gb);
    if (key == "min_storage_gb") return assign(parse_double(value), key, req.min_storage_gb);
    if (key == "timeout_seconds") return assign(parse_double(value), key, req.timeout_seconds);
    if (key == "gpu_required") return assign(parse_bool(value), key, req.gpu_required);
    if (key == "internet_required") return assign(parse_bool(value), key, req.internet_required);
    if (key == "required_platform") {
        req.required_platform = lower(value);
        return Unit{};
    }
    if (key == "required_role") {
        req.required_role = lower(value);
        return Unit{};
    }
    if (key == "required_tags") {
        std::string_view rest = value;
        bool any = false;
        while (true) {
            auto comma = rest.find(',');
            auto tag = trim(rest.substr(0, comma));
            if (!tag.empty()) {
                any = true;
                if (std::find(req.required_tags.begin(), req.required_tags.end(), tag) == req.required_tags.end())
                    req.required_tags.emplace_back(tag);
            }
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
        if (!any) return err(std::string("--require required_tags: expected one or more comma-separated tags"));
        return Unit{};
    }
    return err("--require: unknown key '" + key + "' (known keys: " + std::string(kRequirementKeys) + ")");
}

Status<std::string> apply_requirements(Requirements& req, const std::vector<std::string>& items) {
    for (const auto& item : items)
        if (auto s = apply_requirement(req, item); !s) return s;
    return Unit{};
}

// ------------------------------------------------------------------ values

Value bytes_to_value(const Bytes& msgpack) {
    if (msgpack.empty()) return Value{};
    auto v = codec::decode_value(msgpack);
    if (v) return std::move(v).value();
    return Value(json::base64_encode(msgpack));
}

Value result_to_value(const TaskResult& r) {
    Value v;
    v.set("task_id", r.task_id.value);
    v.set("status", std::string(to_string(r.status)));
    v.set("result_data", bytes_to_value(r.result_data));
    v.set("error_message", r.error_message);
    v.set("device_id", r.device_id);
    v.set("attempts", static_cast<std::int64_t>(r.attempts));
    v.set("execution_time", r.execution_time);
    v.set("created_at", r.created_at);
    v.set("started_at", r.started_at);
    v.set("completed_at", r.completed_at);
    Array errors;
    errors.reserve(r.attempt_errors.size());
    for (const auto& e : r.attempt_errors) {
        Value a;
        a.set("attempt", static_cast<std::int64_t>(e.attempt));
        a.set("status", e.status);
        a.set("error", e.error);
        a.set("device_id", e.device_id);
        errors.push_back(std::move(a));
    }
    v.set("attempt_errors", Value(std::move(errors)));
    return v;
}

Value task_info_to_value(const proto::TaskInfo& t) {
    Value v;
    v.set("task_id", t.task_id.value);
    v.set("task_type", t.task_type);
    v.set("status", std::string(to_string(t.status)));
    v.set("priority", std::string(to_string(t.priority)));
    v.set("attempts", static_cast<std::int64_t>(t.attempts));
    v.set("device_id", t.device_id);
    v.set("reason", t.reason);
    v.set("created_at", t.created_at);
    v.set("updated_at", t.updated_at);
    return v;
}

const Value* lookup(const Value& v, std::initializer_list<std::string_view> path) {
    const Value* cur = &v;
    for (auto key : path) {
        cur = cur->find(key);
        if (!cur) return nullptr;
    }
    return cur;
}

double num_at(const Value& v, std::initializer_list<std::string_view> path, double fallback) {
    const Value* x = lookup(v, path);
    return x && x->is_number() ? x->as_double() : fallback;
}

std::int64_t int_at(const Value& v, std::initializer_list<std::string_view> path, std::int64_t fallback) {
    const Value* x = lookup(v, path);
    return x && x->is_number() ? x->as_int() : fallback;
}

std::string str_at(const Value& v, std::initializer_list<std::string_view> path, std::string_view fallback) {
    const Value* x = lookup(v, path);
    return x && x->is_string() ? x->as_string() : std::string(fallback);
}

std::string display(const Value& v) {
    if (v.is_nil()) return "-";
    if (v.is_string()) return v.as_string().empty() ? "-" : v.as_string();
    if (v.is_bool()) return v.as_bool() ? "true" : "false";
    if (v.is_int()) return json::dump(v);
    if (v.is_number()) {
        double d = v.as_double();
        if (std::fabs(d) >= 1e15 || (d != 0 && std::fabs(d) < 1e-3)) return json::dump(v);
        std::string s = fixed(d, 3);
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
        return s;
    }
    if (v.is_array()) {
        const auto& a = v.as_array();
        if (std::all_of(a.begin(), a.end(), [](const Value& x) { return !x.is_array() && !x.is_map(); })) {
            if (a.empty()) return "-";
            std::string out;
            for (const auto& x : a) out += (out.empty() ? "" : ", ") + display(x);
            return out;
        }
    }
    return json::dump(v);
}

// ------------------------------------------------------------------ formatting

std::string fixed(double x, int decimals) {
    if (!std::isfinite(x)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
    return buf;
}

std::string format_duration(double s) {
    if (!std::isfinite(s) || s < 0) return "-";
    if (s < 0.01) return fixed(s * 1000, 2) + "ms";
    if (s < 1) return std::to_string(static_cast<long long>(std::llround(s * 1000))) + "ms";
    if (s < 60) return fixed(s, s < 10 ? 2 : 1) + "s";
    auto total = static_cast<long long>(s);
    char buf[64];
    if (total < 3600) std::snprintf(buf, sizeof buf, "%lldm %02llds", total / 60, total % 60);
    else if (total < 86400) std::snprintf(buf, sizeof buf, "%lldh %02lldm", total / 3600, total % 3600 / 60);
    else std::snprintf(buf, sizeof buf, "%lldd %lldh", total / 86400, total % 86400 / 3600);
    return buf;
}

std::string format_time(double unix_seconds) {
    if (!(unix_seconds > 0) || !std::isfinite(unix_seconds)) return "-";
    auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (!localtime_r(&t, &tm)) return "-";
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string format_time_ago(double unix_seconds) {
    std::string s = format_time(unix_seconds);
    if (s == "-") return s;
    double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    return s + " (" + format_duration(std::max(0.0, now - unix_seconds)) + " ago)";
}

// ------------------------------------------------------------------ tables

namespace {

// Display width in code points (UTF-8 continuation bytes do not count).
std::size_t width(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool numeric_looking(std::string_view s) {
    if (s.empty() || s == "-") return true;
    if (!std::isdigit(static_cast<unsigned char>(s.front())) && s.front() != '-') return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '/' || c == '%' || c == '-';
    });
}

} // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(std::max(cells.size(), headers_.size()));
    rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out, std::string_view indent) const {
    const std::size_t n = headers_.size();
    std::vector<std::size_t> w(n);
    std::vector<bool> right(n, !rows_.empty());
    for (std::size_t c = 0; c < n; ++c) {
        w[c] = width(headers_[c]);
        for (const auto& row : rows_) {
            w[c] = std::max(w[c], width(row[c]));
            if (!numeric_looking(row[c])) right[c] = false;
        }
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string s(indent);
        for (std::size_t c = 0; c < n; ++c) {
            std::string pad(w[c] - width(cells[c]), ' ');
            bool last = c + 1 == n;
            s += right[c] ? pad + cells[c] : cells[c] + (last ? "" : pad);
            if (!last) s += "  ";
        }
        out << s << '\n';
    };
    line(headers_);
    for (const auto& row : rows_) line(row);
}

void print_fields(std::ostream& out, const Fields& fields, std::string_view indent) {
    std::size_t w = 0;
    for (const auto& [k, _] : fields) w = std::max(w, width(k));
    const std::string continuation = std::string(indent) + std::string(w + 2, ' ');
    for (const auto& [k, v] : fields) {
        out << indent << k << std::string(w - width(k) + 2, ' ');
        std::string_view rest = v;
        for (auto nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
            out << rest.substr(0, nl) << '\n' << continuation;
            rest.remove_prefix(nl + 1);
        }
        out << rest << '\n';
    }
}

Fields result_fields(const TaskResult& r) {
    Fields f;
    if (!r.result_data.empty()) {
        Value data = bytes_to_value(r.result_data);
        std::string text = json::dump(data);
        if (text.size() > 100) text = json::dump(data, 2);
        f.emplace_back("Result", std::move(text));
    }
    if (!r.error_message.empty()) f.emplace_back("Error", r.error_message);
    if (r.started_at > 0 || r.execution_time > 0) f.emplace_back("Execution time", format_duration(r.execution_time));
    if (r.started_at > 0) f.emplace_back("Started", format_time(r.started_at));
    if (r.completed_at > 0) f.emplace_back("Completed", format_time_ago(r.completed_at));
    return f;
}

void print_attempt_errors(std::ostream& out, const TaskResult& r) {
    if (r.attempt_errors.empty()) return;
    out << "\nAttempt errors:\n";
    for (const auto& e : r.attempt_errors) {
        out << "  #" << e.attempt << ' ' << (e.status.empty() ? "failed" : e.status);
        if (!e.device_id.empty()) out << " on " << e.device_id;
        if (!e.error.empty()) out << ": " << e.error;
        out << '\n';
    }
}

void print_json(const Value& v) {
    std::string text = json::dump(v, 2);
    text += '\n';
    std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::cout.flush();
}

// ------------------------------------------------------------------ client

Result<Client, std::string> make_client(const std::string& address, std::int64_t timeout_ms) {
    if (timeout_ms <= 0) return err(std::string("--timeout-ms must be positive"));
    auto ep = normalize_endpoint(address);
    if (!ep) return err(ep.error());
    Client::Options opts;
    opts.request_timeout = std::chrono::milliseconds(timeout_ms);
    try {
        return Client(ep.value(), opts);
    } catch (const std::exception& e) { // zmq refusing the endpoint, e.g. an unknown host name
        return err("cannot use address '" + address + "': " + e.what());
    }
}

int report(std::string_view prog, const ClientError& e) {
    std::cerr << prog << ": " << e.describe() << '\n';
    return kExitBroker;
}

} // namespace rc::cli
