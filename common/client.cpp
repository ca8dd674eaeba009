// Client: request/reply over a DEALER with request ids, so a late reply to an abandoned
// request is recognised and skipped rather than mistaken for the current one.
#include "client.hpp"

#include <algorithm>
#include <unordered_map>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "codec.hpp"

namespace rc {

std::string ClientError::describe() const {
    switch (kind) {
    case Kind::Unreachable: return "broker unreachable: " + message;
    case Kind::Timeout: return "timed out: " + message;
    case Kind::Protocol: return "protocol error: " + message;
    case Kind::Broker: return std::string(proto::to_string(code)) + ": " + message;
    }
    return message;
}

Result<std::string, std::string> normalize_endpoint(const std::string& address, int default_port) {
    std::string a = address;
    if (a.rfind("tcp://", 0) == 0) a = a.substr(6);
    if (a.empty()) return err(std::string("empty address"));
    std::string host = a, port = std::to_string(default_port);
    if (a.front() == '[') { // [ipv6]:port
        auto close = a.find(']');
        if (close == std::string::npos) return err("bad address '" + address + "'");
        host = a.substr(0, close + 1);
        if (close + 1 < a.size()) {
            if (a[close + 1] != ':') return err("bad address '" + address + "'");
            port = a.substr(close + 2);
        }
    } else if (auto colon = a.rfind(':'); colon != std::string::npos) {
        host = a.substr(0, colon);
        port = a.substr(colon + 1);
    }
    if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
        port.size() > 5 || std::stoi(port) > 65535 || std::stoi(port) == 0)
        return err("bad address '" + address + "' (expected HOST[:PORT])");
    if (host == "localhost") host = "127.0.0.1";
    return "tcp://" + host + ":" + port;
}

Client::Client(const std::string& address) : Client(address, Options{}) {}

Client::Client(const std::string& address, Options opts) : opts_(opts), ctx_(std::make_unique<zmq::context_t>(1)) {
    auto ep = normalize_endpoint(address);
    if (!ep) throw std::invalid_argument(ep.error());
    endpoint_ = ep.value();
    reset_socket();
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

void Client::reset_socket() {
    sock_ = std::make_unique<zmq::socket_t>(*ctx_, zmq::socket_type::dealer);
    sock_->set(zmq::sockopt::linger, 0);
    sock_->set(zmq::sockopt::sndhwm, 0);
    sock_->set(zmq::sockopt::rcvhwm, 0);
    sock_->connect(endpoint_);
}

Result<proto::ClientReply, ClientError> Client::call(proto::ClientRequest req, std::chrono::milliseconds extra) {
    std::uint64_t id = next_req_++;
    std::visit([id](auto& r) { r.req = id; }, req);
    auto frames = codec::encode_from_client(req);
    // A DEALER queues messages until a connection exists, so a dead broker shows up as a
    // reply timeout. Sends never block: the queue is unbounded (sndhwm 0).
    if (!zmq::send_multipart(*sock_, frames, zmq::send_flags::dontwait))
        return err(ClientError{ClientError::Kind::Unreachable, {}, "cannot queue request to " + endpoint_});
    auto deadline = std::chrono::steady_clock::now() + opts_.request_timeout + extra;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            // The reply may still arrive later; a fresh socket keeps it from confusing the
            // next request, and drops the queued request if the broker never appeared.
            reset_socket();
            return err(ClientError{ClientError::Kind::Unreachable, {},
                                   "no reply from " + endpoint_ + " within " +
                                       std::to_string((opts_.request_timeout + extra).count()) + " ms"});
        }
        std::array<zmq::pollitem_t, 1> items{{{sock_->handle(), 0, ZMQ_POLLIN, 0}}};
        try {
            zmq::poll(items, left);
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR)
                return err(ClientError{ClientError::Kind::Timeout, {}, "interrupted"});
            throw;
        }
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        codec::Frames in;
        if (!zmq::recv_multipart(*sock_, std::back_inserter(in), zmq::recv_flags::dontwait)) continue;
        auto rep = codec::decode_at_client(in);
        if (!rep) return err(ClientError{ClientError::Kind::Protocol, {}, rep.error().message});
        std::uint64_t got = std::visit([](const auto& r) { return r.req; }, rep.value());
        if (got != id && got != 0) continue; // a late reply to an earlier, abandoned request
        if (auto* e = std::get_if<proto::ErrorReply>(&rep.value()))
            return err(ClientError{ClientError::Kind::Broker, e->code, e->message});
        return std::move(rep).value();
    }
}

template <typename T>
static Result<T, ClientError> expect(Result<proto::ClientReply, ClientError> r) {
    if (!r) return err(r.error());
    if (auto* v = std::get_if<T>(&r.value())) return std::move(*v);
    return err(ClientError{ClientError::Kind::Protocol, {}, "unexpected reply type"});
}

Result<std::vector<TaskId>, ClientError> Client::submit(std::vector<TaskSpec> tasks, bool strict) {
    proto::SubmitReq req;
    req.tasks = std::move(tasks);
    req.strict = strict;
    auto r = expect<proto::SubmitReply>(call(std::move(req), {}));
    if (!r) return err(r.error());
    return std::move(r.value().task_ids);
}

Result<proto::SubmitReply, ClientError> Client::submit_wait(std::vector<TaskSpec> tasks,
                                                            std::chrono::milliseconds wait) {
    proto::SubmitReq req;
    req.tasks = std::move(tasks);
    req.wait_ms = static_cast<std::uint32_t>(std::clamp<std::int64_t>(wait.count(), 1, 600'000));
    return expect<proto::SubmitReply>(call(std::move(req), wait));
}

Result<TaskId, ClientError> Client::submit_one(TaskSpec task) {
    std::vector<TaskSpec> v;
    v.push_back(std::move(task));
    auto r = submit(std::move(v));
    if (!r) return err(r.error());
    if (r.value().size() != 1) return err(ClientError{ClientError::Kind::Protocol, {}, "expected one task id"});
    return r.value().front();
}

Result<proto::TaskInfo, ClientError> Client::status(const TaskId& id) {
    auto r = expect<proto::StatusReply>(call(proto::StatusReq{0, id}, {}));
    if (!r) return err(r.error());
    return std::move(r.value().task);
}

Result<proto::ResultReply, ClientError> Client::results(const std::vector<TaskId>& ids,
                                                        std::chrono::milliseconds wait, bool any) {
    proto::ResultReq req;
    req.task_ids = ids;
    req.wait_ms = static_cast<std::uint32_t>(std::max<std::int64_t>(0, wait.count()));
    req.any = any;
    return expect<proto::ResultReply>(call(std::move(req), wait));
}

Result<std::vector<TaskResult>, ClientError> Client::wait_all(const std::vector<TaskId>& ids,
                                                              std::chrono::milliseconds timeout) {
    std::unordered_map<std::string, TaskResult> done;
    std::vector<TaskId> pending = ids;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    constexpr std::size_t kChunk = 20'000; // keeps each reply well under the message limit
    while (!pending.empty()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        std::vector<TaskId> chunk(pending.begin(), pending.begin() + std::min(pending.size(), kChunk));
        auto r = results(chunk, std::min(left, std::chrono::milliseconds(1000)));
        if (!r) return err(r.error());
        for (auto& res : r.value().results) done.emplace(res.task_id.value, std::move(res));
        std::vector<TaskId> next;
        for (auto& id : pending)
            if (!done.count(id.value) &&
                std::find(r.value().unknown.begin(), r.value().unknown.end(), id) == r.value().unknown.end())
                next.push_back(id);
        pending.swap(next);
    }
    std::vector<TaskResult> out;
    out.reserve(done.size());
    for (const auto& id : ids)
        if (auto it = done.find(id.value); it != done.end()) out.push_back(std::move(it->second));
    return out;
}

Result<proto::CancelReply, ClientError> Client::cancel(const TaskId& id) {
    return expect<proto::CancelReply>(call(proto::CancelReq{0, id}, {}));
}

Result<Value, ClientError> Client::stats() {
    auto r = expect<proto::StatsReply>(call(proto::StatsReq{}, {}));
    if (!r) return err(r.error());
    return std::move(r.value().stats);
}

Result<Value, ClientError> Client::devices(const std::string& role, bool include_offline) {
    auto r = expect<proto::DevicesReply>(call(proto::DevicesReq{0, role, include_offline}, {}));
    if (!r) return err(r.error());
    return std::move(r.value().devices);
}

Result<Value, ClientError> Client::device(const DeviceId& id) {
    auto r = expect<proto::DeviceReply>(call(proto::DeviceReq{0, id}, {}));
    if (!r) return err(r.error());
    return std::move(r.value().device);
}

} // namespace rc
