// The one codec: the only code that touches msgpack or builds/parses ZeroMQ frames.
// Every function here either produces bytes/frames from typed structs, or parses them
// back, consuming the input exactly and returning a DecodeError instead of throwing.
#pragma once

#include <string>
#include <vector>

#include <zmq.hpp>

#include "protocol.hpp"
#include "result.hpp"
#include "value.hpp"

namespace rc::codec {

struct DecodeError {
    proto::ErrorCode code = proto::ErrorCode::BadBody;
    std::string message;
    proto::Peer peer = proto::Peer::Unknown; // which protocol header, if it was readable
    std::uint64_t req = 0;                   // the client's request id, if it was readable
};

// --- plain values ----------------------------------------------------------
Bytes encode_value(const Value& v);
Result<Value, std::string> decode_value(const Bytes& bytes); // exact: no trailing bytes

// --- stored records (the broker's durable mirror) ----------------------------
// A task's spec and its state, each as one msgpack map with the field names of the
// wire protocol's task and task result (docs/durability.md).
Bytes encode_spec(const TaskSpec& spec);
Result<TaskSpec, std::string> decode_spec(const Bytes& bytes);
Bytes encode_result(const TaskResult& result);
Result<TaskResult, std::string> decode_result(const Bytes& bytes);

// --- frames ----------------------------------------------------------------
using Frames = std::vector<zmq::message_t>;

// Broker side (ROUTER): frames are [routing-id]["" ][header][cmd][body].
Result<proto::Inbound, DecodeError> decode_at_broker(Frames& frames);
// Frames for `to`, starting with the routing id.
Frames encode_for_peer(const RoutingId& to, const proto::Outbound& msg);

// Peer side (DEALER): frames are [""][header][cmd][body].
Frames encode_from_worker(const proto::WorkerMsg& msg);
Result<proto::BrokerToWorker, DecodeError> decode_at_worker(Frames& frames);
Frames encode_from_client(const proto::ClientRequest& msg);
Result<proto::ClientReply, DecodeError> decode_at_client(Frames& frames);

} // namespace rc::codec
