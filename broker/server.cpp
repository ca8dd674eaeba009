// The poll loop: wait until the nearest deadline or input, drain up to a budget, run
// timers and deferred work, then flush the outbox. Single-threaded.
#include "server.hpp"

#include <cstring>
#include <random>

#include <zmq_addon.hpp>

#include "common/log.hpp"

namespace rc::broker {

namespace {
constexpr const char* kLog = "broker";
std::atomic<int> g_instance{0};
} // namespace

std::uint64_t new_epoch() {
    std::random_device rd;
    std::uint64_t e = 0;
    while (e == 0) e = (static_cast<std::uint64_t>(rd()) << 31) ^ rd();
    return e & 0x7FFFFFFFFFFFFFFFULL;
}

BrokerServer::BrokerServer(BrokerConfig cfg)
    : cfg_(std::move(cfg)), ctx_(1), router_(ctx_, zmq::socket_type::router),
      control_(ctx_, zmq::socket_type::pair) {
    router_.set(zmq::sockopt::router_mandatory, 1);
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::sndhwm, 0);
    router_.set(zmq::sockopt::rcvhwm, 0);
    // A hard transport cap well above the protocol limit: larger messages get an explicit
    // TOO_LARGE reply; only absurd ones make ZeroMQ drop the connection.
    router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(cfg_.max_message_bytes) * 4 + 4096);
    std::string addr = "tcp://" + (cfg_.bind == "0.0.0.0" ? std::string("*") : cfg_.bind) + ":" +
                       (cfg_.port == 0 ? std::string("*") : std::to_string(cfg_.port));
    try {
        router_.bind(addr);
    } catch (const zmq::error_t& e) {
        throw std::runtime_error("cannot bind " + addr + ": " + e.what());
    }
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    port_ = std::stoi(endpoint_.substr(endpoint_.rfind(':') + 1));
    control_addr_ = "inproc://rc-broker-control-" + std::to_string(g_instance++);
    control_.bind(control_addr_);
    core_ = std::make_unique<BrokerCore>(cfg_, new_epoch(), Now::real());
    if (cfg_.durable) start_mirror();
}

void BrokerServer::start_mirror() {
    auto addr = parse_redis_url(cfg_.redis_url);
    if (!addr) throw std::runtime_error(addr.error());
    std::size_t skipped = 0;
    auto loaded = load_from_redis(addr.value(), cfg_.redis_prefix, &skipped);
    if (!loaded) throw std::runtime_error("cannot load state from " + cfg_.redis_url + ": " + loaded.error());
    if (skipped) RC_WARN(kLog, skipped << " stored record(s) were expired or unreadable and were dropped");
    core_->recover(std::move(loaded).value(), Now::real());
    std::string inproc = control_addr_ + "-mirror";
    mirror_sock_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::pair);
    mirror_sock_->set(zmq::sockopt::linger, 0);
    mirror_sock_->bind(inproc);
    mirror_ = std::make_unique<RedisMirror>(ctx_, addr.value(), cfg_.redis_prefix, inproc);
    RC_INFO(kLog, "mirroring to " << cfg_.redis_url << " (prefix " << cfg_.redis_prefix << ")");
}

void BrokerServer::drain_mirror(Now now) {
    for (;;) {
        zmq::message_t m;
        if (!mirror_sock_->recv(m, zmq::recv_flags::dontwait)) return;
        MirrorReport* r = nullptr;
        if (m.size() != sizeof r) continue;
        std::memcpy(&r, m.data(), sizeof r);
        std::unique_ptr<MirrorReport> owned(r);
        core_->on_mirror_report(*owned, now);
    }
}

void BrokerServer::send_journal(Now now) {
    if (!mirror_sock_) return;
    auto batch = core_->take_journal(now);
    if (!batch) return;
    JournalBatch* p = batch.release();
    mirror_sock_->send(zmq::buffer(&p, sizeof p), zmq::send_flags::none);
}

BrokerServer::~BrokerServer() = default;

void BrokerServer::stop() {
    stop_ = true;
    try {
        zmq::socket_t s(ctx_, zmq::socket_type::pair);
        s.set(zmq::sockopt::linger, 0);
        s.connect(control_addr_);
        s.send(zmq::buffer(std::string_view("x")), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
        // The loop also notices stop_ at its next wake-up.
    }
}

void BrokerServer::run(const std::atomic<bool>* external_stop) {
    RC_INFO(kLog, "listening on " << endpoint_ << " (epoch " << core_->epoch() << ")");
    auto stopping = [&] { return stop_.load() || (external_stop && external_stop->load()); };
    while (!stopping()) {
        Now now = Now::real();
        // Round up: a deadline 0.4 ms away must not become a zero-timeout poll (a spin).
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(core_->next_deadline() - now.mono);
        wait = std::clamp(wait, std::chrono::milliseconds(0), std::chrono::milliseconds(1000));
        std::array<zmq::pollitem_t, 3> items{{{router_.handle(), 0, ZMQ_POLLIN, 0},
                                              {control_.handle(), 0, ZMQ_POLLIN, 0},
                                              {mirror_sock_ ? mirror_sock_->handle() : nullptr, 0,
                                               static_cast<short>(mirror_sock_ ? ZMQ_POLLIN : 0), 0}}};
        try {
            zmq::poll(items, wait);
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue; // a signal: re-check the stop flags
            throw;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            zmq::message_t m;
            (void)control_.recv(m, zmq::recv_flags::dontwait);
        }
        now = Now::real();
        if (mirror_sock_ && (items[2].revents & ZMQ_POLLIN)) drain_mirror(now);
        if (items[0].revents & ZMQ_POLLIN) drain(now);
        core_->on_tick(now);
        core_->before_sleep(now);
        send_journal(now);
        flush(now);
    }
    Now now = Now::real();
    core_->shutdown(now);
    send_journal(now);
    flush(now);
    if (mirror_sock_) {
        JournalBatch* stop = nullptr;
        mirror_sock_->send(zmq::buffer(&stop, sizeof stop), zmq::send_flags::none);
        mirror_.reset(); // writes what is pending if Redis is reachable, then joins
    }
    // Give the final DISCONNECTs and replies a moment to leave before the socket closes.
    router_.set(zmq::sockopt::linger, 500);
    RC_INFO(kLog, "stopped");
}

void BrokerServer::drain(Now now) {
    for (std::size_t n = 0; n < cfg_.drain_budget; ++n) {
        codec::Frames frames;
        std::optional<size_t> got;
        try {
            got = zmq::recv_multipart(router_, std::back_inserter(frames), zmq::recv_flags::dontwait);
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) return;
            throw;
        }
        if (!got) return;
        std::size_t total = 0;
        for (const auto& f : frames) total += f.size();
        if (total > cfg_.max_message_bytes && !frames.empty()) {
            core_->on_too_large(RoutingId(std::string(frames[0].to_string_view())), total, now);
            continue;
        }
        auto in = codec::decode_at_broker(frames);
        if (!in) {
            core_->on_decode_error(RoutingId(std::string(frames.empty() ? "" : frames[0].to_string_view())),
                                   in.error(), now);
            continue;
        }
        core_->on_message(std::move(in).value(), now);
    }
}

void BrokerServer::flush(Now now) {
    // Sending may discover dead peers, whose handling may queue more messages.
    for (int round = 0; round < 4 && !core_->outbox().empty(); ++round) {
        auto out = std::move(core_->outbox());
        core_->outbox().clear();
        for (auto& msg : out) {
            auto frames = codec::encode_for_peer(msg.to, msg);
            try {
                for (std::size_t i = 0; i < frames.size(); ++i) {
                    auto flags = zmq::send_flags::dontwait;
                    if (i + 1 < frames.size()) flags = flags | zmq::send_flags::sndmore;
                    if (!router_.send(frames[i], flags)) {
                        RC_WARN(kLog, "peer " << to_hex(msg.to.value) << " is congested; message dropped");
                        break;
                    }
                }
            } catch (const zmq::error_t& e) {
                if (e.num() == EHOSTUNREACH) core_->on_unroutable(msg.to, now);
                else RC_ERROR(kLog, "send failed: " << e.what());
            }
        }
    }
}

} // namespace rc::broker
