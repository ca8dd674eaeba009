// RawPeer: a DEALER that sends hand-built frames, for protocol-violation tests. It may
// send anything; replies are decoded with the real codec so assertions read typed fields.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/codec.hpp"

namespace rc::test {

class RawPeer {
public:
    explicit RawPeer(const std::string& address) : ctx_(1), sock_(ctx_, zmq::socket_type::dealer) {
        sock_.set(zmq::sockopt::linger, 0);
        sock_.connect("tcp://" + address);
    }
    void send(const std::vector<std::string>& frames) {
        for (std::size_t i = 0; i < frames.size(); ++i)
            sock_.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    // [""][header][cmd][body]
    void send_cmd(std::string_view header, std::uint8_t cmd, const std::string& body) {
        send({"", std::string(header), std::string(1, static_cast<char>(cmd)), body});
    }
    std::optional<codec::Frames> recv(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
        std::array<zmq::pollitem_t, 1> items{{{sock_.handle(), 0, ZMQ_POLLIN, 0}}};
        zmq::poll(items, timeout);
        if (!(items[0].revents & ZMQ_POLLIN)) return std::nullopt;
        codec::Frames f;
        (void)zmq::recv_multipart(sock_, std::back_inserter(f));
        return f;
    }
    // The next reply as a client reply (ERROR etc.).
    std::optional<proto::ClientReply> recv_client() {
        auto f = recv();
        if (!f) return std::nullopt;
        auto r = codec::decode_at_client(*f);
        if (!r) return std::nullopt;
        return r.value();
    }
    std::optional<proto::BrokerToWorker> recv_worker() {
        auto f = recv();
        if (!f) return std::nullopt;
        auto r = codec::decode_at_worker(*f);
        if (!r) return std::nullopt;
        return r.value();
    }

private:
    zmq::context_t ctx_;
    zmq::socket_t sock_;
};

inline std::string body(const Value& v) { return codec::encode_value(v); }

} // namespace rc::test
