// The typed form of the wire protocol in docs/protocol.md: header strings, command codes,
// error codes and one struct per message. Structs carry no encoding logic (see codec.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "capabilities.hpp"
#include "ids.hpp"
#include "task.hpp"
#include "value.hpp"

namespace rc::proto {

inline constexpr std::string_view kWorkerHeader = "RCW1";
inline constexpr std::string_view kClientHeader = "RCC1";
inline constexpr std::uint32_t kProtocolVersion = 1;

enum class Peer : std::uint8_t { Unknown, Worker, Client };

enum class Cmd : std::uint8_t {
    // worker <-> broker
    Ready = 0x01,
    Heartbeat = 0x02, // both directions
    Result = 0x03,
    Disconnect = 0x04, // both directions
    Started = 0x05,
    Results = 0x06, // a batch of RESULTs
    Tasks = 0x15,   // a batch of TASKs
    Welcome = 0x11,
    Task = 0x12,
    Cancel = 0x13,
    Ack = 0x14,
    // client <-> broker (replies reuse the request's code, or Error)
    Submit = 0x21,
    Status = 0x22,
    GetResult = 0x23,
    CancelTask = 0x24,
    Stats = 0x25,
    Devices = 0x26,
    Device = 0x27,
    Error = 0x2F,
};
std::string_view to_string(Cmd c);

enum class ErrorCode : std::uint8_t {
    Malformed,         // wrong frame count or empty delimiter missing
    UnknownProtocol,   // header frame is neither RCW1 nor RCC1
    UnknownCommand,    // command byte not defined for this header and direction
    BadBody,           // body is not a msgpack map of the documented shape
    TooLarge,          // message exceeds the broker's max_message_bytes
    InvalidTask,       // a task failed validation
    InvalidRequirements,
    DuplicateTask,     // task_id already known
    UnknownTaskType,   // strict submit: no online device advertises the type
    UnknownTask,
    UnknownDevice,
    UnknownWorker,     // worker command from an identity that never sent READY
    ProtocolViolation, // valid message at the wrong time (e.g. a second READY)
    QueueFull,         // admission limit reached
    NotDurable,        // the durable mirror is unavailable and the broker refuses to accept
    ShuttingDown,
    Internal,
};
std::string_view to_string(ErrorCode c);
std::optional<ErrorCode> parse_error_code(std::string_view s);

// ---------------------------------------------------------------- worker -> broker
struct LeaseRef {
    TaskId task_id;
    LeaseId lease;
    std::uint64_t epoch = 0; // the broker epoch that issued the lease
};

struct Ready {
    std::uint32_t version = kProtocolVersion;
    DeviceId device_id;
    DeviceCapabilities caps;
    std::vector<std::string> handlers;
    std::uint32_t slots = 1;
    std::uint32_t heartbeat_ms = 1000; // proposal
    std::vector<LeaseRef> running;      // tasks still running from a previous session
    std::uint32_t prefetch = 0;         // tasks it will queue beyond its slots (credit)
    std::uint64_t instance = 0;         // random per worker process: tells a reconnect of the
                                        // same process from a second process with the same id
};

struct DeviceMetrics {
    double load_avg = 0;            // 1-minute load average
    double cpu_percent = 0;         // 0-100, whole device
    double memory_used_percent = 0; // 0-100
    double storage_free_gb = 0;
    std::uint32_t running = 0;      // tasks executing now
};

struct Heartbeat {
    std::uint64_t epoch = 0;               // broker -> worker: the broker epoch
    std::optional<DeviceMetrics> metrics;  // worker -> broker
};

struct WorkResult {
    TaskId task_id;
    LeaseId lease;
    std::uint64_t epoch = 0;
    TaskStatus status = TaskStatus::Success; // success, failed, timeout or cancelled
    Bytes result;                            // opaque msgpack (empty = none)
    std::string error;
    double started_at = 0; // unix seconds
    double finished_at = 0;
};

// Several RESULTs in one message (a worker sends this when it has more than one to report).
struct WorkResults {
    std::vector<WorkResult> results;
};

struct Started {
    std::vector<LeaseId> leases;
};

struct Disconnect {
    std::string reason;  // a stable word, e.g. "heartbeat_expired", "unknown_worker"
    std::string message; // for people
};

// ---------------------------------------------------------------- broker -> worker
struct Welcome {
    std::uint64_t epoch = 0;
    std::uint32_t heartbeat_ms = 1000; // the interval both sides now use
    std::uint32_t liveness = 3;        // missed intervals before a peer counts as gone
    std::uint32_t max_message_bytes = 0;
};

struct TaskAssign {
    TaskId task_id;
    LeaseId lease;
    std::string task_type;
    Bytes payload;  // opaque msgpack, forwarded as received
    Bytes metadata; // opaque msgpack, may be empty
    std::uint32_t attempt = 1;
    std::uint32_t timeout_ms = 0;
};

// Several TASKs in one message (the broker sends this when it dispatches more than one
// task to a worker in one loop pass).
struct TaskBatch {
    std::vector<TaskAssign> tasks;
};

struct CancelLease {
    TaskId task_id;
    LeaseId lease;
    std::string reason;      // "cancelled" or "timeout"
    std::uint64_t epoch = 0; // the epoch that issued `lease`; 0 = the current one
};

struct Ack {
    std::vector<LeaseId> leases;        // results the broker has recorded
    std::vector<std::uint64_t> epochs;  // the epoch of each lease; absent or 0 = the current one
};

// ---------------------------------------------------------------- client -> broker
struct SubmitReq {
    std::uint64_t req = 0;
    std::vector<TaskSpec> tasks; // one or a batch; accepted or refused as a whole
    bool strict = false;         // refuse task types that no online device advertises
    std::uint32_t wait_ms = 0;   // > 0: reply once every task ended (or the wait passed), with results
};
struct StatusReq {
    std::uint64_t req = 0;
    TaskId task_id;
};
struct ResultReq {
    std::uint64_t req = 0;
    std::vector<TaskId> task_ids;
    std::uint32_t wait_ms = 0; // 0 = answer now
    bool any = false;          // true: answer once any is done; false: once all are
};
struct CancelReq {
    std::uint64_t req = 0;
    TaskId task_id;
};
struct StatsReq {
    std::uint64_t req = 0;
};
struct DevicesReq {
    std::uint64_t req = 0;
    std::string role;             // "" = all roles
    bool include_offline = false;
};
struct DeviceReq {
    std::uint64_t req = 0;
    DeviceId device_id;
};

// ---------------------------------------------------------------- broker -> client
struct TaskInfo {
    TaskId task_id;
    std::string task_type;
    TaskStatus status = TaskStatus::Pending;
    Priority priority = Priority::Normal;
    std::uint32_t attempts = 0;
    std::string device_id; // current or last device
    std::string reason;    // why it is queued, or why it ended
    double created_at = 0;
    double updated_at = 0;
};

struct SubmitReply {
    std::uint64_t req = 0;
    std::vector<TaskId> task_ids;
    std::vector<TaskResult> results; // with wait_ms: the tasks that ended in time
};
struct StatusReply {
    std::uint64_t req = 0;
    TaskInfo task;
};
struct ResultReply {
    std::uint64_t req = 0;
    std::vector<TaskResult> results; // tasks in a terminal state
    std::vector<TaskId> pending;     // known, not terminal yet
    std::vector<TaskId> unknown;     // never seen or no longer retained
};
struct CancelReply {
    std::uint64_t req = 0;
    TaskId task_id;
    TaskStatus status = TaskStatus::Cancelled; // the status after the request
    bool changed = false;                      // false when it had already ended
};
struct StatsReply {
    std::uint64_t req = 0;
    Value stats; // see docs/protocol.md for the keys
};
struct DevicesReply {
    std::uint64_t req = 0;
    Value devices; // array of device maps
};
struct DeviceReply {
    std::uint64_t req = 0;
    Value device; // one device map
};
struct ErrorReply {
    std::uint64_t req = 0;
    ErrorCode code = ErrorCode::Internal;
    std::string message;
};

// ---------------------------------------------------------------- unions
using WorkerMsg = std::variant<Ready, Heartbeat, WorkResult, WorkResults, Started, Disconnect>;
using BrokerToWorker = std::variant<Welcome, TaskAssign, TaskBatch, CancelLease, Heartbeat, Ack, Disconnect>;
using ClientRequest =
    std::variant<SubmitReq, StatusReq, ResultReq, CancelReq, StatsReq, DevicesReq, DeviceReq>;
using ClientReply = std::variant<SubmitReply, StatusReply, ResultReply, CancelReply, StatsReply,
                                 DevicesReply, DeviceReply, ErrorReply>;

// What the broker receives: who sent it and the typed message.
struct Inbound {
    RoutingId from;
    std::variant<WorkerMsg, ClientRequest> msg;
};

// What the broker sends: to whom and the typed message.
struct Outbound {
    RoutingId to;
    std::variant<BrokerToWorker, ClientReply> msg;
};

} // namespace rc::proto
