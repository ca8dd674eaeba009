// TaskTable: every task the broker knows (queued, in flight, or retained as a result),
// stored in a slab addressed by TaskRef so that queues hold 16-byte entries rather than
// ids. Pure storage: state changes are made by the core through next_state().
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/task.hpp"
#include "scheduler.hpp"

namespace rc::broker {

inline constexpr DevIdx kNoDevice = UINT32_MAX;

struct TaskRecord {
    std::uint32_t gen = 0;
    bool used = false;
    TaskId id;
    std::string type;
    Bytes payload;
    Bytes metadata;
    Priority priority = Priority::Normal;
    ClassId cls = 0;
    double timeout_s = 300;
    int max_retries = 3;

    TaskStatus status = TaskStatus::Pending;
    std::uint32_t attempts = 0;   // dispatches so far
    std::uint64_t queue_seq = 0;  // seq of its live queue entry (0 = none)
    LeaseId lease{};              // the live lease while Assigned/Running
    DevIdx device = kNoDevice;    // current or last device
    std::string reason;           // why queued (backoff) or why it ended
    TimePoint ready_at{};         // retry backoff: not dispatched before this
    double created_at = 0, updated_at = 0, started_at = 0, completed_at = 0;
    double exec_time = 0; // seconds, final attempt, as measured by the worker
    Bytes result;
    std::string error;
    std::vector<AttemptError> attempt_errors;
};

class TaskTable {
public:
    // Creates a record for `id`; nullopt if the id is already known.
    std::optional<TaskRef> create(const TaskId& id);
    void erase(TaskRef ref);
    [[nodiscard]] TaskRecord* get(TaskRef ref);
    [[nodiscard]] const TaskRecord* get(TaskRef ref) const;
    [[nodiscard]] std::optional<TaskRef> find(const std::string& id) const;
    [[nodiscard]] std::size_t size() const { return index_.size(); }
    [[nodiscard]] bool contains(const std::string& id) const { return index_.count(id) != 0; }

    template <typename F> void for_each(F&& f) const {
        for (const auto& r : slab_)
            if (r.used) f(r);
    }

private:
    std::vector<TaskRecord> slab_;
    std::vector<std::uint32_t> free_;
    std::unordered_map<std::string, std::uint32_t> index_;
};

} // namespace rc::broker
