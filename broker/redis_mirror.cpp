// The only file that includes hiredis. Key schema (prefix P, default "rc:"):
//
//   P tasks          ZSET  member = task id, score = submission order; every task the
//                          broker holds (unfinished, or finished within its retention)
//   P task:<id>      HASH  spec  = msgpack task spec (written once, at acceptance)
//                          state = msgpack task result: status, attempts, device, errors,
//                                  timestamps, and the result once finished
//                          lease = "epoch:lease" of the attempt in flight, or ""
//                    A finished task's hash gets PEXPIRE = the result retention time.
//
// Writes come in journal batches (one per broker loop pass) and go out as one pipeline
// per batch; a batch is acknowledged to the broker only when every reply is in. Writes
// are idempotent (HSET, ZADD, DEL), so a batch is simply re-sent after a reconnect.
#include "redis_mirror.hpp"

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <memory>

#include "common/codec.hpp"
#include "common/log.hpp"

namespace rc::broker {

namespace {
constexpr const char* kLog = "mirror";

struct RedisFree {
    void operator()(redisContext* c) const { redisFree(c); }
};
using RedisPtr = std::unique_ptr<redisContext, RedisFree>;
struct ReplyFree {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

Result<RedisPtr, std::string> connect(const RedisAddress& a) {
    timeval tv{1, 0};
    RedisPtr c(redisConnectWithTimeout(a.host.c_str(), a.port, tv));
    if (!c) return err(std::string("cannot allocate a Redis context"));
    if (c->err) return err("redis " + a.host + ":" + std::to_string(a.port) + ": " + c->errstr);
    timeval io{5, 0};
    redisSetTimeout(c.get(), io);
    if (a.db != 0) {
        ReplyPtr r(static_cast<redisReply*>(redisCommand(c.get(), "SELECT %d", a.db)));
        if (!r || r->type == REDIS_REPLY_ERROR) return err(std::string("redis SELECT failed"));
    }
    return c;
}

// Appends one command; argument views may hold binary data.
void append(redisContext* c, std::initializer_list<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
}

// Replies that mean "not now" (a restarting or read-only server): the batch is retried.
bool transient(std::string_view e) {
    for (std::string_view p : {"LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN"})
        if (e.rfind(p, 0) == 0) return true;
    return false;
}

// Writes one batch as a pipeline. An error means the batch must be sent again: the
// connection failed, or the server answered that it cannot take writes yet. Other error
// replies (a key of the wrong type) are logged and skipped so that one bad record cannot
// stall the mirror.
Result<Unit, std::string> write_batch(redisContext* c, const std::string& prefix, const JournalBatch& b) {
    const std::string zset = prefix + "tasks";
    int pending = 0;
    for (const auto& op : b.ops) {
        std::string key = prefix + "task:" + op.task_id;
        if (op.kind == JournalOp::Kind::Delete) {
            append(c, {"DEL", key});
            append(c, {"ZREM", zset, op.task_id});
            pending += 2;
            continue;
        }
        if (!op.spec.empty()) {
            append(c, {"HSET", key, "spec", op.spec, "state", op.state, "lease", op.lease});
            std::string order = std::to_string(op.order);
            append(c, {"ZADD", zset, order, op.task_id});
            pending += 2;
        } else {
            append(c, {"HSET", key, "state", op.state, "lease", op.lease});
            ++pending;
        }
        if (op.ttl_ms > 0) {
            std::string ttl = std::to_string(op.ttl_ms);
            append(c, {"PEXPIRE", key, ttl});
            ++pending;
        }
    }
    std::string first_error;
    bool retry = false;
    for (int i = 0; i < pending; ++i) {
        void* raw = nullptr;
        if (redisGetReply(c, &raw) != REDIS_OK) return err(std::string("redis connection lost: ") + c->errstr);
        ReplyPtr r(static_cast<redisReply*>(raw));
        if (r && r->type == REDIS_REPLY_ERROR) {
            std::string e(r->str, r->len);
            retry = retry || transient(e);
            if (first_error.empty()) first_error = std::move(e);
        }
    }
    if (retry) return err("redis cannot take writes yet: " + first_error);
    if (!first_error.empty()) RC_ERROR(kLog, "redis refused a write: " << first_error);
    return Unit{};
}

void send_report(zmq::socket_t& s, MirrorReport r) {
    auto* p = new MirrorReport(std::move(r));
    s.send(zmq::buffer(&p, sizeof p), zmq::send_flags::none);
}
} // namespace

Result<RedisAddress, std::string> parse_redis_url(const std::string& url) {
    RedisAddress a;
    std::string rest = url;
    if (rest.rfind("redis://", 0) == 0) rest = rest.substr(8);
    else return err("expected redis://HOST[:PORT][/DB], got '" + url + "'");
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        std::string db = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (!db.empty()) {
            if (db.find_first_not_of("0123456789") != std::string::npos || db.size() > 3)
                return err("bad database number in '" + url + "'");
            a.db = std::stoi(db);
        }
    }
    if (auto colon = rest.rfind(':'); colon != std::string::npos) {
        std::string port = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
        if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5)
            return err("bad port in '" + url + "'");
        a.port = std::stoi(port);
    }
    if (!rest.empty()) a.host = rest;
    return a;
}

Result<std::vector<RecoveredTask>, std::string> load_from_redis(const RedisAddress& addr, const std::string& prefix,
                                                                std::size_t* skipped) {
    auto c = connect(addr);
    if (!c) return err(c.error());
    redisContext* ctx = c.value().get();
    const std::string zset = prefix + "tasks";
    ReplyPtr ids(static_cast<redisReply*>(redisCommand(ctx, "ZRANGE %b 0 -1 WITHSCORES", zset.data(), zset.size())));
    if (!ids || ids->type != REDIS_REPLY_ARRAY) return err(std::string("redis ZRANGE failed"));
    std::vector<RecoveredTask> out;
    std::vector<std::string> gone;
    std::size_t bad = 0;
    constexpr std::size_t kChunk = 1000;
    for (std::size_t start = 0; start < ids->elements; start += 2 * kChunk) {
        std::size_t end = std::min(ids->elements, start + 2 * kChunk);
        for (std::size_t i = start; i < end; i += 2) {
            std::string key = prefix + "task:" + std::string(ids->element[i]->str, ids->element[i]->len);
            append(ctx, {"HMGET", key, "spec", "state", "lease"});
        }
        for (std::size_t i = start; i < end; i += 2) {
            void* raw = nullptr;
            if (redisGetReply(ctx, &raw) != REDIS_OK) return err(std::string("redis read failed: ") + ctx->errstr);
            ReplyPtr r(static_cast<redisReply*>(raw));
            std::string id(ids->element[i]->str, ids->element[i]->len);
            auto field = [&](std::size_t k) -> Bytes {
                auto* e = r->element[k];
                return e->type == REDIS_REPLY_STRING ? Bytes(e->str, e->len) : Bytes{};
            };
            if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || field(0).empty()) {
                gone.push_back(id); // expired result or partial write
                continue;
            }
            auto spec = codec::decode_spec(field(0));
            auto state = codec::decode_result(field(1));
            if (!spec || !state) {
                ++bad;
                RC_ERROR(kLog, "skipping undecodable record of task " << id);
                continue;
            }
            RecoveredTask t{std::move(spec).value(), std::move(state).value(),
                            static_cast<std::uint64_t>(std::strtoull(ids->element[i + 1]->str, nullptr, 10)), 0, 0};
            auto lease = field(2);
            if (auto colon = lease.find(':'); colon != std::string::npos) {
                t.lease_epoch = std::strtoull(lease.substr(0, colon).c_str(), nullptr, 10);
                t.lease = std::strtoull(lease.substr(colon + 1).c_str(), nullptr, 10);
            }
            out.push_back(std::move(t));
        }
    }
    for (const auto& id : gone) append(ctx, {"ZREM", zset, id});
    for (std::size_t i = 0; i < gone.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(ctx, &raw) == REDIS_OK) freeReplyObject(raw);
    }
    if (skipped) *skipped = bad + gone.size();
    return out;
}

RedisMirror::RedisMirror(zmq::context_t& ctx, RedisAddress addr, std::string prefix, std::string inproc_addr)
    : addr_(std::move(addr)), prefix_(std::move(prefix)) {
    thread_ = std::thread([this, &ctx, inproc_addr] { run(ctx, inproc_addr); });
}

RedisMirror::~RedisMirror() {
    if (thread_.joinable()) thread_.join();
}

void RedisMirror::run(zmq::context_t& ctx, std::string inproc_addr) {
    zmq::socket_t sock(ctx, zmq::socket_type::pair);
    sock.set(zmq::sockopt::linger, 0);
    sock.connect(inproc_addr);
    std::deque<std::unique_ptr<JournalBatch>> pending;
    RedisPtr redis;
    bool stopping = false, reported_down = false;
    auto backoff = std::chrono::milliseconds(100);
    auto retry_at = std::chrono::steady_clock::now();
    auto last_io = retry_at;
    while (!stopping || (!pending.empty() && redis)) {
        auto now = std::chrono::steady_clock::now();
        std::chrono::milliseconds wait(1000);
        if (!redis && (!pending.empty() || reported_down))
            wait = std::max(std::chrono::milliseconds(0),
                            std::chrono::duration_cast<std::chrono::milliseconds>(retry_at - now));
        if (stopping) wait = std::chrono::milliseconds(0);
        std::array<zmq::pollitem_t, 1> items{{{sock.handle(), 0, ZMQ_POLLIN, 0}}};
        try {
            zmq::poll(items, wait);
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue;
            return;
        }
        while (true) {
            zmq::message_t m;
            if (!sock.recv(m, zmq::recv_flags::dontwait)) break;
            JournalBatch* b = nullptr;
            if (m.size() == sizeof b) std::memcpy(&b, m.data(), sizeof b);
            if (!b) stopping = true;
            else pending.emplace_back(b);
        }
        now = std::chrono::steady_clock::now();
        if (!redis && now >= retry_at) {
            auto c = connect(addr_);
            if (c) {
                redis = std::move(c).value();
                backoff = std::chrono::milliseconds(100);
                if (reported_down) {
                    RC_INFO(kLog, "redis is back; catching up " << pending.size() << " batch(es)");
                    if (pending.empty()) send_report(sock, MirrorReport{true, 0, {}});
                }
                reported_down = false;
                last_io = now;
            } else {
                if (!reported_down) {
                    RC_ERROR(kLog, c.error());
                    send_report(sock, MirrorReport{false, 0, c.error()});
                    reported_down = true;
                }
                retry_at = now + backoff;
                backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
                if (stopping) break; // no Redis to flush to
                continue;
            }
        }
        if (redis && pending.empty() && !stopping && now - last_io >= std::chrono::seconds(1)) {
            // Idle: check the link, so that trouble shows in STATS before the next write.
            ReplyPtr r(static_cast<redisReply*>(redisCommand(redis.get(), "PING")));
            last_io = now;
            if (!r) {
                std::string e = std::string("redis connection lost: ") + redis->errstr;
                RC_ERROR(kLog, e);
                send_report(sock, MirrorReport{false, 0, e});
                reported_down = true;
                redis.reset();
                retry_at = now + backoff;
                continue;
            }
        }
        std::uint64_t durable = 0;
        while (redis && !pending.empty()) {
            last_io = now;
            auto w = write_batch(redis.get(), prefix_, *pending.front());
            if (!w) {
                RC_ERROR(kLog, w.error());
                send_report(sock, MirrorReport{false, 0, w.error()});
                reported_down = true;
                redis.reset();
                retry_at = std::chrono::steady_clock::now() + backoff;
                break;
            }
            durable = pending.front()->seq;
            pending.pop_front();
        }
        if (durable) send_report(sock, MirrorReport{true, durable, {}});
    }
}

} // namespace rc::broker
