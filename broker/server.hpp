// BrokerServer: the broker's I/O shell. It owns the ZeroMQ context, the ROUTER socket and
// the poll loop; it decodes frames into typed messages for BrokerCore and sends the
// core's outbox. It makes no decisions of its own.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "config.hpp"
#include "core.hpp"
#include "redis_mirror.hpp"

namespace rc::broker {

class BrokerServer {
public:
    // Binds the ROUTER endpoint; throws std::runtime_error when it cannot.
    explicit BrokerServer(BrokerConfig cfg);
    ~BrokerServer();
    BrokerServer(const BrokerServer&) = delete;
    BrokerServer& operator=(const BrokerServer&) = delete;

    // The bound endpoint, e.g. "tcp://127.0.0.1:43121" (useful with port 0).
    [[nodiscard]] const std::string& endpoint() const { return endpoint_; }
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::uint64_t epoch() const { return core_->epoch(); }

    // Runs the loop until stop() is called or *external_stop becomes true (checked after
    // every wake-up, including EINTR from a signal).
    void run(const std::atomic<bool>* external_stop = nullptr);
    // Thread-safe: asks a running loop to finish its pass and return.
    void stop();

private:
    void drain(Now now);
    void flush(Now now);

    BrokerConfig cfg_;
    zmq::context_t ctx_;
    zmq::socket_t router_;
    zmq::socket_t control_; // inproc PAIR: stop() wakes the poll through it
    std::string control_addr_;
    std::string endpoint_;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::unique_ptr<BrokerCore> core_;
    // Durability: the mirror thread and the PAIR socket the loop talks to it over.
    void start_mirror();
    void drain_mirror(Now now);
    void send_journal(Now now);
    std::unique_ptr<zmq::socket_t> mirror_sock_;
    std::unique_ptr<RedisMirror> mirror_;
};

// A random non-zero epoch for a new broker instance.
std::uint64_t new_epoch();

} // namespace rc::broker
