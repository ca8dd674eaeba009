// Names of commands and error codes, as written in docs/protocol.md.
#include "protocol.hpp"

#include <array>

namespace rc::proto {

std::string_view to_string(Cmd c) {
    switch (c) {
    case Cmd::Ready: return "READY";
    case Cmd::Heartbeat: return "HEARTBEAT";
    case Cmd::Result: return "RESULT";
    case Cmd::Disconnect: return "DISCONNECT";
    case Cmd::Started: return "STARTED";
    case Cmd::Results: return "RESULTS";
    case Cmd::Tasks: return "TASKS";
    case Cmd::Welcome: return "WELCOME";
    case Cmd::Task: return "TASK";
    case Cmd::Cancel: return "CANCEL";
    case Cmd::Ack: return "ACK";
    case Cmd::Submit: return "SUBMIT";
    case Cmd::Status: return "STATUS";
    case Cmd::GetResult: return "RESULT";
    case Cmd::CancelTask: return "CANCEL";
    case Cmd::Stats: return "STATS";
    case Cmd::Devices: return "DEVICES";
    case Cmd::Device: return "DEVICE";
    case Cmd::Error: return "ERROR";
    }
    return "?";
}

static constexpr std::array<std::string_view, 17> kErrorNames = {
    "malformed",      "unknown_protocol",     "unknown_command", "bad_body",
    "too_large",      "invalid_task",         "invalid_requirements", "duplicate_task",
    "unknown_task_type",
    "unknown_task",   "unknown_device",       "unknown_worker",  "protocol_violation",
    "queue_full",     "not_durable",          "shutting_down",   "internal"};

std::string_view to_string(ErrorCode c) { return kErrorNames[static_cast<size_t>(c)]; }

std::optional<ErrorCode> parse_error_code(std::string_view s) {
    for (size_t i = 0; i < kErrorNames.size(); ++i)
        if (kErrorNames[i] == s) return static_cast<ErrorCode>(i);
    return std::nullopt;
}

} // namespace rc::proto
