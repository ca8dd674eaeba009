// The task model shared by every component: priorities, requirements, the task status
// state machine (one transition table) and the result record. Pure data, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ids.hpp"
#include "result.hpp"
#include "value.hpp"

namespace rc {

enum class Priority : std::uint8_t { Low = 0, Normal = 1, High = 2, Urgent = 3 };
inline constexpr int kPriorityLevels = 4;
std::string_view to_string(Priority p);
std::optional<Priority> parse_priority(std::string_view s); // "urgent", "HIGH", "2", ...

enum class TaskStatus : std::uint8_t {
    Pending,   // created, not yet accepted into a queue
    Queued,    // waiting for an eligible device with a free slot (or for retry backoff)
    Assigned,  // leased to a worker, not yet reported started
    Running,   // the worker reported it started
    Success,   // terminal
    Failed,    // terminal
    Timeout,   // terminal
    Cancelled, // terminal
};
inline constexpr int kTaskStatusCount = 8;
std::string_view to_string(TaskStatus s); // lowercase, as the seed's status.value
std::optional<TaskStatus> parse_task_status(std::string_view s);
[[nodiscard]] bool is_terminal(TaskStatus s);

// Everything that may happen to a task. next_state() is the one transition table.
enum class TaskEvent : std::uint8_t {
    Accept,  // Pending -> Queued
    Assign,  // Queued -> Assigned
    Start,   // Assigned -> Running
    Succeed, // Assigned|Running -> Success
    Fail,    // Assigned|Running -> Failed (retries spent)
    TimeOut, // Assigned|Running -> Timeout (retries spent)
    Requeue, // Assigned|Running -> Queued (retry, device lost, broker recovery)
    Cancel,  // any non-terminal -> Cancelled
};
std::string_view to_string(TaskEvent e);
// The state after `e` in state `s`, or nullopt when the transition is illegal.
[[nodiscard]] std::optional<TaskStatus> next_state(TaskStatus s, TaskEvent e);

struct Requirements {
    int min_cpu_cores = 0;
    double min_memory_gb = 0;
    double min_storage_gb = 0;
    bool gpu_required = false;
    bool internet_required = false;
    std::string required_platform; // "" = any; "linux", "android", "darwin", "windows"
    std::string required_role;     // "" = any; "worker", "compute", "storage", "mobile"
    std::vector<std::string> required_tags; // all must be present on the device
    double timeout_seconds = 300;
    int max_retries = 3;

    bool operator==(const Requirements&) const = default;
};

struct TaskSpec {
    TaskId task_id;      // a UUID when the submitter gave none
    std::string task_type;
    Bytes payload;       // opaque msgpack; the broker never decodes it
    Priority priority = Priority::Normal;
    Requirements requirements;
    Bytes metadata;      // opaque msgpack map (may be empty = no metadata)
};

struct TaskError {
    std::string code;    // stable machine code, e.g. "invalid_task"
    std::string message; // for people
};
// Validates a spec from a peer: type name, id, requirement ranges. Never asserts.
[[nodiscard]] Status<TaskError> validate(const TaskSpec& spec);

// One failed attempt, kept so the final result explains every retry.
struct AttemptError {
    std::uint32_t attempt = 0;
    std::string status; // "failed", "timeout", "device_lost", ...
    std::string error;
    std::string device_id;
};

struct TaskResult {
    TaskId task_id;
    TaskStatus status = TaskStatus::Pending;
    Bytes result_data; // opaque msgpack (empty when none)
    std::string error_message;
    std::string device_id;
    std::uint32_t attempts = 0;
    double execution_time = 0; // seconds, of the final attempt
    double created_at = 0;     // unix seconds
    double started_at = 0;
    double completed_at = 0;
    std::vector<AttemptError> attempt_errors;
};

std::string new_uuid(); // RFC 4122 version 4

} // namespace rc
