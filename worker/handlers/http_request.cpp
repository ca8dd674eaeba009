// The http_request handler: one libcurl transfer per task, http/https only, at most 5
// redirects, no proxies from the environment, a capped body, and the address policy
// (net_policy) applied to every socket libcurl opens, so DNS answers and redirects obey it.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "curl_api.hpp"
#include <sys/socket.h>

#include "common/json.hpp"
#include "net_policy.hpp"
#include "outside.hpp"
#include "outside_util.hpp"

namespace rc::worker {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr long kMaxRedirects = 5;
constexpr auto kPollStep = 20ms; // cancellation is noticed this fast
constexpr const char* kUserAgent = "retire-cluster-worker";

struct Transfer {
    AddressPolicy policy;
    std::string refused; // first refusal from the open-socket callback
    std::size_t cap = 0;
    bool too_big = false;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; // of the last response only
};

curl_socket_t open_socket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
    auto* t = static_cast<Transfer*>(clientp);
    if (purpose != CURLSOCKTYPE_IPCXN) {
        if (t->refused.empty()) t->refused = "refused: unexpected socket type";
        return CURL_SOCKET_BAD;
    }
    if (auto why = refusal(&address->addr, t->policy)) {
        if (t->refused.empty()) t->refused = *why;
        return CURL_SOCKET_BAD; // nothing is sent: the socket is never created
    }
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    const std::size_t len = size * n;
    if (t->body.size() + len > t->cap) {
        t->too_big = true;
        return 0; // aborts the transfer with CURLE_WRITE_ERROR
    }
    t->body.append(data, len);
    return len;
}

std::string lower(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return std::string(s);
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* userp) {
    auto* t = static_cast<Transfer*>(userp);
    const std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) {
        t->headers.clear(); // a new response (redirect, 100-continue): keep only the last one
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
        std::string name = lower(trim(line.substr(0, colon)));
        std::string value = outside::sanitize_utf8(trim(line.substr(colon + 1)));
        for (auto& [k, v] : t->headers) {
            if (k == name) {
                v += ", " + value;
                return size * n;
            }
        }
        t->headers.emplace_back(std::move(name), std::move(value));
    }
    return size * n;
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 32 || u >= 127 ||
            std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos)
            return false;
    }
    return true;
}

// libcurl's functions; run() checks that they loaded before anything uses them.
const CurlApi& curl() { return *curl_api(); }

struct CurlSlist {
    curl_slist* list = nullptr;
    ~CurlSlist() { curl().slist_free_all(list); }
    bool add(const std::string& line) {
        curl_slist* next = curl().slist_append(list, line.c_str());
        if (next) list = next;
        return next != nullptr;
    }
};

struct Request {
    std::string url;
    std::string method = "GET";
    std::vector<std::string> header_lines;
    bool has_content_type = false;
    std::optional<std::string> body;
    std::size_t cap = 0;
    std::chrono::milliseconds timeout{0};
};

Result<Request, std::string> parse_request(const Value& p, const OutsideConfig& config,
                                           const TaskContext& ctx) {
    Request r;
    const Value* url = p.find("url");
    if (!url || !url->is_string()) return err(std::string("payload needs a 'url' string"));
    r.url = url->as_string();
    const std::string scheme = lower(r.url.substr(0, r.url.find(':')));
    if (scheme != "http" && scheme != "https")
        return err("only http and https URLs are allowed, not '" + r.url.substr(0, 40) + "'");
    if (const Value* m = p.find("method"); m && !m->is_nil()) {
        if (!m->is_string()) return err(std::string("'method' must be a string"));
        std::string method = m->as_string();
        for (auto& c : method)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        static const std::vector<std::string> kMethods{"GET",   "HEAD",   "POST",   "PUT",
                                                       "PATCH", "DELETE", "OPTIONS"};
        if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end())
            return err("unsupported method '" + m->as_string() + "'");
        r.method = method;
    }
    if (const Value* h = p.find("headers"); h && !h->is_nil()) {
        if (!h->is_map()) return err(std::string("'headers' must be a map of name to value"));
        for (const auto& [k, v] : h->as_map()) {
            if (!k.is_string() || !is_token(k.as_string()))
                return err(std::string("invalid header name"));
            std::string value;
            if (v.is_string())
                value = v.as_string();
            else if (v.is_number() || v.is_bool())
                value = json::dump(v);
            else
                return err("header '" + k.as_string() + "' must be a string or a number");
            if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
                return err("header '" + k.as_string() + "' contains a line break or NUL");
            if (lower(k.as_string()) == "content-type") r.has_content_type = true;
            r.header_lines.push_back(k.as_string() + ": " + value);
        }
    }
    const Value* body = p.find("body");
    const Value* json_body = p.find("json");
    if (body && !body->is_nil() && json_body && !json_body->is_nil())
        return err(std::string("give either 'body' or 'json', not both"));
    if (body && !body->is_nil()) {
        if (body->is_string())
            r.body = body->as_string();
        else if (body->is_blob())
            r.body = body->as_blob().data;
        else
            return err(std::string("'body' must be a string or bytes"));
    } else if (json_body) {
        r.body = json::dump(*json_body);
        if (!r.has_content_type) r.header_lines.emplace_back("Content-Type: application/json");
    }
    r.cap = config.http_max_response_bytes;
    if (const Value* mb = p.find("max_bytes"); mb && !mb->is_nil()) {
        if (!mb->is_int() || mb->as_int() < 0)
            return err(std::string("'max_bytes' must be a non-negative integer"));
        r.cap = std::min<std::size_t>(r.cap, static_cast<std::size_t>(mb->as_int()));
    }
    auto timeout = outside::bounded_timeout(p.find("timeout"), config.http_default_timeout,
                                            config.http_max_timeout, ctx);
    if (!timeout) return err(timeout.error());
    r.timeout = *timeout;
    return r;
}

void set_method(CURL* c, const Request& r) {
    if (r.method == "HEAD") {
        curl().easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (r.method == "POST") {
        curl().easy_setopt(c, CURLOPT_POST, 1L); // keeps curl's 301/302/303 -> GET rules
    } else if (r.method != "GET") {
        curl().easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    if (r.body) {
        curl().easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body->size()));
        curl().easy_setopt(c, CURLOPT_POSTFIELDS, r.body->data());
    } else if (r.method == "POST") {
        curl().easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t{0});
        curl().easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
}

// Runs the transfer on a private multi handle so that cancellation is checked every few
// milliseconds. Returns the easy handle's result, or nullopt when cancelled.
std::optional<CURLcode> perform(CURL* easy, const TaskContext& ctx) {
    CURLM* multi = curl().multi_init();
    if (!multi) return CURLE_OUT_OF_MEMORY;
    curl().multi_add_handle(multi, easy);
    std::optional<CURLcode> result;
    int running = 1;
    while (running) {
        if (curl().multi_perform(multi, &running) != CURLM_OK) {
            result = CURLE_FAILED_INIT;
            break;
        }
        if (!running) break;
        if (ctx.stop_requested()) break;
        curl().multi_poll(multi, nullptr, 0, static_cast<int>(kPollStep.count()), nullptr);
    }
    if (!running && !result) {
        int left = 0;
        while (CURLMsg* m = curl().multi_info_read(multi, &left)) {
            if (m->msg == CURLMSG_DONE) result = m->data.result;
        }
        if (!result) result = CURLE_FAILED_INIT;
    }
    curl().multi_remove_handle(multi, easy);
    curl().multi_cleanup(multi);
    return result;
}

HandlerOutput run(const Request& req, const OutsideConfig& config, const TaskContext& ctx) {
    std::string load_error;
    if (!curl_api(&load_error)) return HandlerOutput::failed("http_request: " + load_error);
    std::unique_ptr<CURL, void (*)(CURL*)> handle(curl().easy_init(), curl().easy_cleanup);
    if (!handle) return HandlerOutput::failed("http_request: cannot initialise libcurl");
    CURL* c = handle.get();
    Transfer t;
    t.policy = {config.allow_private_network, config.allow_link_local};
    t.cap = req.cap;
    CurlSlist headers;
    for (const auto& line : req.header_lines) {
        if (!headers.add(line)) return HandlerOutput::failed("http_request: out of memory");
    }
    char error_buffer[CURL_ERROR_SIZE] = {0};

    curl().easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl().easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl().easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl().easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl().easy_setopt(c, CURLOPT_MAXREDIRS, kMaxRedirects);
    curl().easy_setopt(c, CURLOPT_PROXY, ""); // ignore http_proxy & co. from the environment
    curl().easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl().easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl().easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &open_socket);
    curl().easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
    curl().easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
    curl().easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl().easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
    curl().easy_setopt(c, CURLOPT_HEADERDATA, &t);
    if (req.cap > 0)
        curl().easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(req.cap));
    curl().easy_setopt(c, CURLOPT_USERAGENT, kUserAgent);
    curl().easy_setopt(c, CURLOPT_HTTPHEADER, headers.list);
    curl().easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
    set_method(c, req);

    const auto start = Clock::now();
    const auto code = perform(c, ctx);
    const std::chrono::duration<double> elapsed = Clock::now() - start;

    if (!code)
        return ctx.cancel ? HandlerOutput::stopped(*ctx.cancel)
                          : HandlerOutput::cancelled("cancelled");
    if (!t.refused.empty() && *code != CURLE_OK) return HandlerOutput::failed(t.refused);
    const std::string limit =
        "response body is larger than the limit of " + std::to_string(req.cap) + " bytes";
    if (t.too_big || *code == CURLE_FILESIZE_EXCEEDED) return HandlerOutput::failed(limit);
    if (*code == CURLE_OPERATION_TIMEDOUT)
        return HandlerOutput::timed_out("http_request timed out after " +
                                        outside::describe(req.timeout));
    if (*code == CURLE_TOO_MANY_REDIRECTS)
        return HandlerOutput::failed("http_request: more than " + std::to_string(kMaxRedirects) +
                                     " redirects");
    if (*code != CURLE_OK) {
        std::string detail = error_buffer[0] ? error_buffer : curl().easy_strerror(*code);
        return HandlerOutput::failed("http_request failed: " + detail);
    }

    long status = 0;
    curl().easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    char* final_url = nullptr;
    curl().easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &final_url);
    Map header_map;
    for (auto& [k, v] : t.headers)
        header_map.emplace_back(Value(k), Value(v));
    const bool text = outside::valid_utf8(t.body) && t.body.find('\0') == std::string::npos;
    Value result;
    result.set("status_code", static_cast<long long>(status));
    result.set("headers", Value(std::move(header_map)));
    result.set("body", text ? std::move(t.body) : json::base64_encode(t.body));
    result.set("body_encoding", text ? "text" : "base64");
    result.set("elapsed", elapsed.count());
    result.set("url", final_url ? std::string(final_url) : req.url);
    return HandlerOutput::ok(result);
}

} // namespace

Handler make_http_request_handler(const OutsideConfig& config) {
    return [config](const TaskContext& ctx) {
        auto payload = outside::payload_map(ctx, "http_request");
        if (!payload) return HandlerOutput::failed(payload.error());
        auto req = parse_request(*payload, config, ctx);
        if (!req) return HandlerOutput::failed("http_request: " + req.error());
        return run(*req, config, ctx);
    };
}

} // namespace rc::worker
