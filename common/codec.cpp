// Codec part 3: message bodies and frames. Frame layout (docs/protocol.md):
//   DEALER side: [""][header][cmd:1 byte][body: msgpack map]
//   ROUTER side: [routing-id] + the same four frames.
// Decoders consume the frames exactly and return DecodeError instead of throwing.
#include "codec.hpp"

#include "codec_task.hpp"

namespace rc::codec {
namespace {

using namespace detail;
using proto::Cmd;
using proto::ErrorCode;

// ------------------------------------------------------------------ bodies: writers
void body(Writer& w, const proto::Ready& m) {
    w.map(9);
    w.key("version"); w.u64(m.version);
    w.key("instance"); w.u64(m.instance);
    w.key("prefetch"); w.u64(m.prefetch);
    w.key("device_id"); w.str(m.device_id.value);
    w.key("capabilities"); write_caps(w, m.caps);
    w.key("handlers"); w.strings(m.handlers);
    w.key("slots"); w.u64(m.slots);
    w.key("heartbeat_ms"); w.u64(m.heartbeat_ms);
    w.key("running");
    w.array(static_cast<std::uint32_t>(m.running.size()));
    for (const auto& r : m.running) {
        w.map(3);
        w.key("task_id"); w.str(r.task_id.value);
        w.key("lease"); w.u64(r.lease.value);
        w.key("epoch"); w.u64(r.epoch);
    }
}
void body(Writer& w, const proto::Heartbeat& m) {
    w.map(m.metrics ? 2 : 1);
    w.key("epoch"); w.u64(m.epoch);
    if (m.metrics) { w.key("metrics"); write_metrics(w, *m.metrics); }
}
void write_result_fields(Writer& w, const proto::WorkResult& m);
void body(Writer& w, const proto::WorkResult& m) { write_result_fields(w, m); }
void body(Writer& w, const proto::WorkResults& m) {
    w.map(1);
    w.key("results");
    w.array(static_cast<std::uint32_t>(m.results.size()));
    for (const auto& r : m.results) write_result_fields(w, r);
}
void write_result_fields(Writer& w, const proto::WorkResult& m) {
    w.map(8);
    w.key("task_id"); w.str(m.task_id.value);
    w.key("lease"); w.u64(m.lease.value);
    w.key("epoch"); w.u64(m.epoch);
    w.key("status"); w.str(to_string(m.status));
    w.key("result"); w.bin(m.result);
    w.key("error"); w.str(m.error);
    w.key("started_at"); w.dbl(m.started_at);
    w.key("finished_at"); w.dbl(m.finished_at);
}
void leases(Writer& w, const std::vector<LeaseId>& ls) {
    w.map(1);
    w.key("leases");
    w.array(static_cast<std::uint32_t>(ls.size()));
    for (auto l : ls) w.u64(l.value);
}
void body(Writer& w, const proto::Started& m) { leases(w, m.leases); }
void body(Writer& w, const proto::Ack& m) {
    if (m.epochs.empty()) return leases(w, m.leases);
    w.map(2);
    w.key("leases");
    w.array(static_cast<std::uint32_t>(m.leases.size()));
    for (auto l : m.leases) w.u64(l.value);
    w.key("epochs");
    w.array(static_cast<std::uint32_t>(m.epochs.size()));
    for (auto e : m.epochs) w.u64(e);
}
void body(Writer& w, const proto::Disconnect& m) {
    w.map(2);
    w.key("reason"); w.str(m.reason);
    w.key("message"); w.str(m.message);
}
void body(Writer& w, const proto::Welcome& m) {
    w.map(4);
    w.key("epoch"); w.u64(m.epoch);
    w.key("heartbeat_ms"); w.u64(m.heartbeat_ms);
    w.key("liveness"); w.u64(m.liveness);
    w.key("max_message_bytes"); w.u64(m.max_message_bytes);
}
void write_task_fields(Writer& w, const proto::TaskAssign& m);
void body(Writer& w, const proto::TaskAssign& m) { write_task_fields(w, m); }
void body(Writer& w, const proto::TaskBatch& m) {
    w.map(1);
    w.key("tasks");
    w.array(static_cast<std::uint32_t>(m.tasks.size()));
    for (const auto& t : m.tasks) write_task_fields(w, t);
}
void write_task_fields(Writer& w, const proto::TaskAssign& m) {
    w.map(7);
    w.key("task_id"); w.str(m.task_id.value);
    w.key("lease"); w.u64(m.lease.value);
    w.key("task_type"); w.str(m.task_type);
    w.key("payload"); w.bin(m.payload);
    w.key("metadata"); w.bin(m.metadata);
    w.key("attempt"); w.u64(m.attempt);
    w.key("timeout_ms"); w.u64(m.timeout_ms);
}
void body(Writer& w, const proto::CancelLease& m) {
    w.map(m.epoch ? 4 : 3);
    if (m.epoch) { w.key("epoch"); w.u64(m.epoch); }
    w.key("task_id"); w.str(m.task_id.value);
    w.key("lease"); w.u64(m.lease.value);
    w.key("reason"); w.str(m.reason);
}
void req_only(Writer& w, std::uint64_t req, std::uint32_t extra) {
    w.map(1 + extra);
    w.key("req"); w.u64(req);
}
void body(Writer& w, const proto::SubmitReq& m) {
    req_only(w, m.req, m.wait_ms ? 3 : 2);
    w.key("strict"); w.boolean(m.strict);
    if (m.wait_ms) { w.key("wait_ms"); w.u64(m.wait_ms); }
    w.key("tasks");
    w.array(static_cast<std::uint32_t>(m.tasks.size()));
    for (const auto& t : m.tasks) write_task_spec(w, t);
}
void body(Writer& w, const proto::StatusReq& m) { req_only(w, m.req, 1); w.key("task_id"); w.str(m.task_id.value); }
void ids(Writer& w, std::string_view key, const std::vector<TaskId>& v) {
    w.key(key);
    w.array(static_cast<std::uint32_t>(v.size()));
    for (const auto& id : v) w.str(id.value);
}
void body(Writer& w, const proto::ResultReq& m) {
    req_only(w, m.req, 3);
    ids(w, "task_ids", m.task_ids);
    w.key("wait_ms"); w.u64(m.wait_ms);
    w.key("any"); w.boolean(m.any);
}
void body(Writer& w, const proto::CancelReq& m) { req_only(w, m.req, 1); w.key("task_id"); w.str(m.task_id.value); }
void body(Writer& w, const proto::StatsReq& m) { req_only(w, m.req, 0); }
void body(Writer& w, const proto::DevicesReq& m) {
    req_only(w, m.req, 2);
    w.key("role"); w.str(m.role);
    w.key("include_offline"); w.boolean(m.include_offline);
}
void body(Writer& w, const proto::DeviceReq& m) { req_only(w, m.req, 1); w.key("device_id"); w.str(m.device_id.value); }
void body(Writer& w, const proto::SubmitReply& m) {
    req_only(w, m.req, m.results.empty() ? 1 : 2);
    ids(w, "task_ids", m.task_ids);
    if (!m.results.empty()) {
        w.key("results");
        w.array(static_cast<std::uint32_t>(m.results.size()));
        for (const auto& r : m.results) write_task_result(w, r);
    }
}
void body(Writer& w, const proto::StatusReply& m) { req_only(w, m.req, 1); w.key("task"); write_task_info(w, m.task); }
void body(Writer& w, const proto::ResultReply& m) {
    req_only(w, m.req, 3);
    w.key("results");
    w.array(static_cast<std::uint32_t>(m.results.size()));
    for (const auto& r : m.results) write_task_result(w, r);
    ids(w, "pending", m.pending);
    ids(w, "unknown", m.unknown);
}
void body(Writer& w, const proto::CancelReply& m) {
    req_only(w, m.req, 3);
    w.key("task_id"); w.str(m.task_id.value);
    w.key("status"); w.str(to_string(m.status));
    w.key("changed"); w.boolean(m.changed);
}
void body(Writer& w, const proto::StatsReply& m) { req_only(w, m.req, 1); w.key("stats"); w.value(m.stats); }
void body(Writer& w, const proto::DevicesReply& m) { req_only(w, m.req, 1); w.key("devices"); w.value(m.devices); }
void body(Writer& w, const proto::DeviceReply& m) { req_only(w, m.req, 1); w.key("device"); w.value(m.device); }
void body(Writer& w, const proto::ErrorReply& m) {
    req_only(w, m.req, 2);
    w.key("code"); w.str(to_string(m.code));
    w.key("message"); w.str(m.message);
}

Cmd cmd_of(const proto::Ready&) { return Cmd::Ready; }
Cmd cmd_of(const proto::Heartbeat&) { return Cmd::Heartbeat; }
Cmd cmd_of(const proto::WorkResult&) { return Cmd::Result; }
Cmd cmd_of(const proto::Started&) { return Cmd::Started; }
Cmd cmd_of(const proto::WorkResults&) { return Cmd::Results; }
Cmd cmd_of(const proto::TaskBatch&) { return Cmd::Tasks; }
Cmd cmd_of(const proto::Disconnect&) { return Cmd::Disconnect; }
Cmd cmd_of(const proto::Welcome&) { return Cmd::Welcome; }
Cmd cmd_of(const proto::TaskAssign&) { return Cmd::Task; }
Cmd cmd_of(const proto::CancelLease&) { return Cmd::Cancel; }
Cmd cmd_of(const proto::Ack&) { return Cmd::Ack; }
Cmd cmd_of(const proto::SubmitReq&) { return Cmd::Submit; }
Cmd cmd_of(const proto::StatusReq&) { return Cmd::Status; }
Cmd cmd_of(const proto::ResultReq&) { return Cmd::GetResult; }
Cmd cmd_of(const proto::CancelReq&) { return Cmd::CancelTask; }
Cmd cmd_of(const proto::StatsReq&) { return Cmd::Stats; }
Cmd cmd_of(const proto::DevicesReq&) { return Cmd::Devices; }
Cmd cmd_of(const proto::DeviceReq&) { return Cmd::Device; }
Cmd cmd_of(const proto::SubmitReply&) { return Cmd::Submit; }
Cmd cmd_of(const proto::StatusReply&) { return Cmd::Status; }
Cmd cmd_of(const proto::ResultReply&) { return Cmd::GetResult; }
Cmd cmd_of(const proto::CancelReply&) { return Cmd::CancelTask; }
Cmd cmd_of(const proto::StatsReply&) { return Cmd::Stats; }
Cmd cmd_of(const proto::DevicesReply&) { return Cmd::Devices; }
Cmd cmd_of(const proto::DeviceReply&) { return Cmd::Device; }
Cmd cmd_of(const proto::ErrorReply&) { return Cmd::Error; }

template <typename Variant>
void append_frames(Frames& out, std::string_view header, const Variant& msg) {
    std::visit(
        [&](const auto& m) {
            Writer w;
            body(w, m);
            out.emplace_back();
            out.emplace_back(header.data(), header.size());
            auto c = static_cast<std::uint8_t>(cmd_of(m));
            out.emplace_back(&c, 1);
            out.emplace_back(w.data(), w.size());
        },
        msg);
}

// ------------------------------------------------------------------ bodies: readers
void read(Reader& rd, proto::Ready& m) {
    rd.u32("version", m.version);
    rd.u64("instance", m.instance);
    rd.u32("prefetch", m.prefetch);
    rd.str("device_id", m.device_id.value);
    rd.strings("handlers", m.handlers);
    rd.u32("slots", m.slots);
    rd.u32("heartbeat_ms", m.heartbeat_ms);
    std::string e;
    if (const auto* c = rd.find("capabilities"); c && !read_caps(*c, m.caps, e)) rd.fail(e);
    if (const auto* r = rd.find("running"); r && r->type == msgpack::type::ARRAY) {
        for (std::uint32_t i = 0; i < r->via.array.size; ++i) {
            Reader lr(r->via.array.ptr[i], "running");
            proto::LeaseRef ref;
            lr.str("task_id", ref.task_id.value);
            lr.u64("lease", ref.lease.value);
            lr.u64("epoch", ref.epoch);
            if (!lr.ok()) rd.fail(lr.error());
            m.running.push_back(std::move(ref));
        }
    }
}
void read(Reader& rd, proto::Heartbeat& m) {
    rd.u64("epoch", m.epoch);
    if (const auto* o = rd.find("metrics"); o && o->type != msgpack::type::NIL) {
        proto::DeviceMetrics dm;
        std::string e;
        if (!read_metrics(*o, dm, e)) rd.fail(e);
        m.metrics = dm;
    }
}
bool read_status(Reader& rd, std::string_view key, TaskStatus& out) {
    std::string s;
    if (!rd.str(key, s)) return false;
    auto st = parse_task_status(s);
    if (!st) {
        rd.fail(std::string(key) + " is not a task status");
        return false;
    }
    out = *st;
    return true;
}
void read(Reader& rd, proto::WorkResult& m) {
    rd.str("task_id", m.task_id.value);
    rd.u64("lease", m.lease.value);
    rd.u64("epoch", m.epoch);
    if (read_status(rd, "status", m.status) && !is_terminal(m.status))
        rd.fail("status must be success, failed, timeout or cancelled");
    rd.bytes("result", m.result);
    rd.str("error", m.error);
    rd.dbl("started_at", m.started_at);
    rd.dbl("finished_at", m.finished_at);
}
void read(Reader& rd, proto::WorkResult& m);
void read(Reader& rd, proto::TaskAssign& m);
// Reads an array of maps under `key`, each with read(Reader&, T&).
template <typename T> void read_list(Reader& rd, std::string_view key, std::vector<T>& out) {
    const auto* o = rd.find(key);
    if (!o || o->type != msgpack::type::ARRAY) return rd.fail(std::string(key) + " must be an array");
    out.resize(o->via.array.size);
    for (std::uint32_t i = 0; i < o->via.array.size; ++i) {
        Reader er(o->via.array.ptr[i], std::string(key));
        if (er.ok()) read(er, out[i]);
        if (!er.ok()) return rd.fail(er.error());
    }
}

void read_leases(Reader& rd, std::vector<LeaseId>& out) {
    const auto* o = rd.find("leases");
    if (!o) return;
    if (o->type != msgpack::type::ARRAY) return rd.fail("leases must be an array");
    for (std::uint32_t i = 0; i < o->via.array.size; ++i) {
        const auto& e = o->via.array.ptr[i];
        if (e.type != msgpack::type::POSITIVE_INTEGER) return rd.fail("leases must be integers");
        out.push_back(LeaseId{e.via.u64});
    }
}
void read(Reader& rd, proto::Started& m) { read_leases(rd, m.leases); }
void read(Reader& rd, proto::Ack& m) {
    read_leases(rd, m.leases);
    if (const auto* o = rd.find("epochs"); o && o->type == msgpack::type::ARRAY)
        for (std::uint32_t i = 0; i < o->via.array.size; ++i)
            m.epochs.push_back(o->via.array.ptr[i].type == msgpack::type::POSITIVE_INTEGER ? o->via.array.ptr[i].via.u64 : 0);
}
void read(Reader& rd, proto::Disconnect& m) {
    rd.str("reason", m.reason);
    rd.str("message", m.message);
}
void read(Reader& rd, proto::Welcome& m) {
    rd.u64("epoch", m.epoch);
    rd.u32("heartbeat_ms", m.heartbeat_ms);
    rd.u32("liveness", m.liveness);
    rd.u32("max_message_bytes", m.max_message_bytes);
}
void read(Reader& rd, proto::TaskAssign& m) {
    rd.str("task_id", m.task_id.value);
    rd.u64("lease", m.lease.value);
    rd.str("task_type", m.task_type);
    rd.bytes("payload", m.payload);
    rd.bytes("metadata", m.metadata);
    rd.u32("attempt", m.attempt);
    rd.u32("timeout_ms", m.timeout_ms);
}
void read(Reader& rd, proto::CancelLease& m) {
    rd.u64("epoch", m.epoch);
    rd.str("task_id", m.task_id.value);
    rd.u64("lease", m.lease.value);
    rd.str("reason", m.reason);
}
void read(Reader& rd, proto::WorkResults& m) { read_list(rd, "results", m.results); }
void read(Reader& rd, proto::TaskBatch& m) { read_list(rd, "tasks", m.tasks); }
void read_ids(Reader& rd, std::string_view key, std::vector<TaskId>& out) {
    std::vector<std::string> v;
    rd.strings(key, v);
    out.reserve(v.size());
    for (auto& s : v) out.emplace_back(std::move(s));
}
void read(Reader& rd, proto::SubmitReq& m) {
    rd.u64("req", m.req);
    rd.boolean("strict", m.strict);
    rd.u32("wait_ms", m.wait_ms);
    const auto* o = rd.find("tasks");
    if (!o || o->type != msgpack::type::ARRAY) return rd.fail("tasks must be an array");
    m.tasks.resize(o->via.array.size);
    for (std::uint32_t i = 0; i < o->via.array.size; ++i) {
        std::string e;
        if (!read_task_spec(o->via.array.ptr[i], m.tasks[i], e))
            return rd.fail("tasks[" + std::to_string(i) + "]: " + e);
    }
}
void read(Reader& rd, proto::StatusReq& m) { rd.u64("req", m.req); rd.str("task_id", m.task_id.value); }
void read(Reader& rd, proto::ResultReq& m) {
    rd.u64("req", m.req);
    read_ids(rd, "task_ids", m.task_ids);
    rd.u32("wait_ms", m.wait_ms);
    rd.boolean("any", m.any);
}
void read(Reader& rd, proto::CancelReq& m) { rd.u64("req", m.req); rd.str("task_id", m.task_id.value); }
void read(Reader& rd, proto::StatsReq& m) { rd.u64("req", m.req); }
void read(Reader& rd, proto::DevicesReq& m) {
    rd.u64("req", m.req);
    rd.str("role", m.role);
    rd.boolean("include_offline", m.include_offline);
}
void read(Reader& rd, proto::DeviceReq& m) { rd.u64("req", m.req); rd.str("device_id", m.device_id.value); }
void read_results(Reader& rd, std::vector<TaskResult>& out) {
    if (const auto* o = rd.find("results"); o && o->type == msgpack::type::ARRAY) {
        out.resize(o->via.array.size);
        for (std::uint32_t i = 0; i < o->via.array.size; ++i) {
            std::string e;
            if (!read_task_result(o->via.array.ptr[i], out[i], e)) return rd.fail(e);
        }
    }
}
void read(Reader& rd, proto::SubmitReply& m) {
    rd.u64("req", m.req);
    read_ids(rd, "task_ids", m.task_ids);
    read_results(rd, m.results);
}
void read(Reader& rd, proto::StatusReply& m) {
    rd.u64("req", m.req);
    std::string e;
    if (const auto* o = rd.find("task"); o && !read_task_info(*o, m.task, e)) rd.fail(e);
}
void read(Reader& rd, proto::ResultReply& m) {
    rd.u64("req", m.req);
    read_results(rd, m.results);
    read_ids(rd, "pending", m.pending);
    read_ids(rd, "unknown", m.unknown);
}
void read(Reader& rd, proto::CancelReply& m) {
    rd.u64("req", m.req);
    rd.str("task_id", m.task_id.value);
    read_status(rd, "status", m.status);
    rd.boolean("changed", m.changed);
}
void read(Reader& rd, proto::StatsReply& m) { rd.u64("req", m.req); rd.value("stats", m.stats); }
void read(Reader& rd, proto::DevicesReply& m) { rd.u64("req", m.req); rd.value("devices", m.devices); }
void read(Reader& rd, proto::DeviceReply& m) { rd.u64("req", m.req); rd.value("device", m.device); }
void read(Reader& rd, proto::ErrorReply& m) {
    rd.u64("req", m.req);
    std::string code;
    rd.str("code", code);
    m.code = proto::parse_error_code(code).value_or(ErrorCode::Internal);
    rd.str("message", m.message);
}

DecodeError derr(ErrorCode c, std::string msg, proto::Peer peer = proto::Peer::Unknown,
                 std::uint64_t req = 0) {
    return DecodeError{c, std::move(msg), peer, req};
}

// Parses `frame` as one msgpack map, consuming it exactly, then fills a T.
template <typename T>
Result<T, DecodeError> decode_body(const zmq::message_t& frame, proto::Peer peer, Cmd cmd) {
    T msg{};
    std::uint64_t req = 0;
    try {
        std::size_t off = 0;
        auto oh = msgpack::unpack(static_cast<const char*>(frame.data()), frame.size(), off,
                                  nullptr, nullptr, unpack_limits());
        Reader rd(oh.get(), std::string(proto::to_string(cmd)));
        rd.u64("req", req);
        if (off != frame.size())
            return err(derr(ErrorCode::BadBody, "trailing bytes after the body", peer, req));
        if (rd.ok()) read(rd, msg);
        if (!rd.ok()) return err(derr(ErrorCode::BadBody, rd.error(), peer, req));
    } catch (const std::exception& e) {
        return err(derr(ErrorCode::BadBody, std::string("undecodable body: ") + e.what(), peer, req));
    }
    return msg;
}

template <typename Out, typename T>
Result<Out, DecodeError> lift(Result<T, DecodeError> r) {
    if (!r) return err(r.error());
    return Out(std::move(r).value());
}

struct Header {
    proto::Peer peer;
    Cmd cmd;
};

// Checks [""][header][cmd][body] starting at frames[first].
Result<Header, DecodeError> check_envelope(const Frames& f, std::size_t first) {
    if (f.size() < first + 3) return err(derr(ErrorCode::Malformed, "too few frames"));
    if (f[first].size() != 0) return err(derr(ErrorCode::Malformed, "missing empty delimiter frame"));
    auto hdr = f[first + 1].to_string_view();
    proto::Peer peer = hdr == proto::kWorkerHeader   ? proto::Peer::Worker
                       : hdr == proto::kClientHeader ? proto::Peer::Client
                                                     : proto::Peer::Unknown;
    if (peer == proto::Peer::Unknown)
        return err(derr(ErrorCode::UnknownProtocol, "unknown protocol header"));
    if (f.size() != first + 4)
        return err(derr(ErrorCode::Malformed, "expected 4 frames after the routing id, got " +
                                                  std::to_string(f.size() - first), peer));
    if (f[first + 2].size() != 1)
        return err(derr(ErrorCode::Malformed, "command frame must be one byte", peer));
    auto cmd = static_cast<Cmd>(*static_cast<const std::uint8_t*>(f[first + 2].data()));
    return Header{peer, cmd};
}

} // namespace

Result<proto::Inbound, DecodeError> decode_at_broker(Frames& frames) {
    if (frames.empty()) return err(derr(ErrorCode::Malformed, "no frames"));
    RoutingId from(std::string(frames[0].to_string_view()));
    auto h = check_envelope(frames, 1);
    if (!h) return err(h.error());
    const auto& b = frames[4];
    using In = proto::Inbound;
    auto wrap = [&](auto r) -> Result<In, DecodeError> {
        if (!r) return err(r.error());
        using M = std::decay_t<decltype(r.value())>;
        if constexpr (std::is_constructible_v<proto::WorkerMsg, M> &&
                      !std::is_constructible_v<proto::ClientRequest, M>)
            return In{from, proto::WorkerMsg(std::move(r).value())};
        else
            return In{from, proto::ClientRequest(std::move(r).value())};
    };
    const auto W = proto::Peer::Worker, C = proto::Peer::Client;
    if (h->peer == W) {
        switch (h->cmd) {
        case Cmd::Ready: return wrap(decode_body<proto::Ready>(b, W, h->cmd));
        case Cmd::Heartbeat: return wrap(decode_body<proto::Heartbeat>(b, W, h->cmd));
        case Cmd::Result: return wrap(decode_body<proto::WorkResult>(b, W, h->cmd));
        case Cmd::Results: return wrap(decode_body<proto::WorkResults>(b, W, h->cmd));
        case Cmd::Started: return wrap(decode_body<proto::Started>(b, W, h->cmd));
        case Cmd::Disconnect: return wrap(decode_body<proto::Disconnect>(b, W, h->cmd));
        default: break;
        }
        return err(derr(ErrorCode::UnknownCommand, "unknown worker command", W));
    }
    switch (h->cmd) {
    case Cmd::Submit: return wrap(decode_body<proto::SubmitReq>(b, C, h->cmd));
    case Cmd::Status: return wrap(decode_body<proto::StatusReq>(b, C, h->cmd));
    case Cmd::GetResult: return wrap(decode_body<proto::ResultReq>(b, C, h->cmd));
    case Cmd::CancelTask: return wrap(decode_body<proto::CancelReq>(b, C, h->cmd));
    case Cmd::Stats: return wrap(decode_body<proto::StatsReq>(b, C, h->cmd));
    case Cmd::Devices: return wrap(decode_body<proto::DevicesReq>(b, C, h->cmd));
    case Cmd::Device: return wrap(decode_body<proto::DeviceReq>(b, C, h->cmd));
    default: break;
    }
    return err(derr(ErrorCode::UnknownCommand, "unknown client command", C));
}

Frames encode_for_peer(const RoutingId& to, const proto::Outbound& msg) {
    Frames out;
    out.reserve(5);
    out.emplace_back(to.value.data(), to.value.size());
    std::visit(
        [&](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, proto::BrokerToWorker>)
                append_frames(out, proto::kWorkerHeader, m);
            else
                append_frames(out, proto::kClientHeader, m);
        },
        msg.msg);
    return out;
}

Frames encode_from_worker(const proto::WorkerMsg& msg) {
    Frames out;
    out.reserve(4);
    append_frames(out, proto::kWorkerHeader, msg);
    return out;
}

Frames encode_from_client(const proto::ClientRequest& msg) {
    Frames out;
    out.reserve(4);
    append_frames(out, proto::kClientHeader, msg);
    return out;
}

Result<proto::BrokerToWorker, DecodeError> decode_at_worker(Frames& frames) {
    auto h = check_envelope(frames, 0);
    if (!h) return err(h.error());
    if (h->peer != proto::Peer::Worker)
        return err(derr(ErrorCode::UnknownProtocol, "expected the worker protocol"));
    const auto& b = frames[3];
    using O = proto::BrokerToWorker;
    const auto W = proto::Peer::Worker;
    switch (h->cmd) {
    case Cmd::Welcome: return lift<O>(decode_body<proto::Welcome>(b, W, h->cmd));
    case Cmd::Task: return lift<O>(decode_body<proto::TaskAssign>(b, W, h->cmd));
    case Cmd::Tasks: return lift<O>(decode_body<proto::TaskBatch>(b, W, h->cmd));
    case Cmd::Cancel: return lift<O>(decode_body<proto::CancelLease>(b, W, h->cmd));
    case Cmd::Heartbeat: return lift<O>(decode_body<proto::Heartbeat>(b, W, h->cmd));
    case Cmd::Ack: return lift<O>(decode_body<proto::Ack>(b, W, h->cmd));
    case Cmd::Disconnect: return lift<O>(decode_body<proto::Disconnect>(b, W, h->cmd));
    default: break;
    }
    return err(derr(ErrorCode::UnknownCommand, "unknown broker command", W));
}

Result<proto::ClientReply, DecodeError> decode_at_client(Frames& frames) {
    auto h = check_envelope(frames, 0);
    if (!h) return err(h.error());
    if (h->peer != proto::Peer::Client)
        return err(derr(ErrorCode::UnknownProtocol, "expected the client protocol"));
    const auto& b = frames[3];
    using O = proto::ClientReply;
    const auto C = proto::Peer::Client;
    switch (h->cmd) {
    case Cmd::Submit: return lift<O>(decode_body<proto::SubmitReply>(b, C, h->cmd));
    case Cmd::Status: return lift<O>(decode_body<proto::StatusReply>(b, C, h->cmd));
    case Cmd::GetResult: return lift<O>(decode_body<proto::ResultReply>(b, C, h->cmd));
    case Cmd::CancelTask: return lift<O>(decode_body<proto::CancelReply>(b, C, h->cmd));
    case Cmd::Stats: return lift<O>(decode_body<proto::StatsReply>(b, C, h->cmd));
    case Cmd::Devices: return lift<O>(decode_body<proto::DevicesReply>(b, C, h->cmd));
    case Cmd::Device: return lift<O>(decode_body<proto::DeviceReply>(b, C, h->cmd));
    case Cmd::Error: return lift<O>(decode_body<proto::ErrorReply>(b, C, h->cmd));
    default: break;
    }
    return err(derr(ErrorCode::UnknownCommand, "unknown reply command", C));
}

namespace {
template <typename T, typename ReadFn>
Result<T, std::string> decode_blob(const Bytes& bytes, ReadFn read_fn) {
    try {
        std::size_t off = 0;
        auto oh = msgpack::unpack(bytes.data(), bytes.size(), off, nullptr, nullptr, unpack_limits());
        if (off != bytes.size()) return err(std::string("trailing bytes"));
        T out{};
        std::string e;
        if (!read_fn(oh.get(), out, e)) return err(e);
        return out;
    } catch (const std::exception& ex) {
        return err(std::string("undecodable record: ") + ex.what());
    }
}
} // namespace

Bytes encode_spec(const TaskSpec& spec) {
    Writer w;
    write_task_spec(w, spec);
    return w.take();
}

Result<TaskSpec, std::string> decode_spec(const Bytes& bytes) {
    return decode_blob<TaskSpec>(bytes, [](const msgpack::object& o, TaskSpec& t, std::string& e) {
        return read_task_spec(o, t, e);
    });
}

Bytes encode_result(const TaskResult& result) {
    Writer w;
    write_task_result(w, result);
    return w.take();
}

Result<TaskResult, std::string> decode_result(const Bytes& bytes) {
    return decode_blob<TaskResult>(bytes, [](const msgpack::object& o, TaskResult& t, std::string& e) {
        return read_task_result(o, t, e);
    });
}

} // namespace rc::codec
