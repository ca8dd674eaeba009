// TaskTable: every task the broker knows (queued, in flight, or retained as a result),
// stored in a slab addressed by TaskRef so that queues hold 16-byte entries rather than
// ids. Pure storage: state changes are made by the core through next_state().
#pragma once

#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/task.hpp"
#include "scheduler.hpp"

namespace rc::broker {

inline constexpr DevIdx kNoDevice = UINT32_MAX;

// An immutable byte string: up to `Inline` bytes stored in place, longer ones in an
// exact-size heap block. std::string takes 32 bytes plus a heap block past 15 bytes; a
// task id (usually a 36-byte UUID) fits a CompactString<40> whole, and a payload costs 16
// bytes plus its exact size. For the two strings every queued task holds.
template <std::size_t Inline> class CompactString {
public:
    CompactString() = default;
    explicit CompactString(std::string_view s) { assign(s); }
    CompactString(CompactString&& o) noexcept : u_(o.u_), size_(o.size_) { o.size_ = 0; }
    CompactString& operator=(CompactString&& o) noexcept {
        if (this != &o) {
            release();
            u_ = o.u_;
            size_ = o.size_;
            o.size_ = 0;
        }
        return *this;
    }
    CompactString(const CompactString&) = delete;
    CompactString& operator=(const CompactString&) = delete;
    ~CompactString() { release(); }

    void assign(std::string_view s) {
        release();
        size_ = static_cast<std::uint32_t>(s.size());
        char* dst = size_ <= sizeof(u_.small) ? u_.small : (u_.ptr = new char[size_]);
        if (size_) std::memcpy(dst, s.data(), size_);
    }
    void clear() { release(); }
    [[nodiscard]] std::string_view view() const {
        return {size_ <= sizeof(u_.small) ? u_.small : u_.ptr, size_};
    }
    [[nodiscard]] std::string str() const { return std::string(view()); }
    [[nodiscard]] bool empty() const { return size_ == 0; }

private:
    void release() {
        if (size_ > sizeof(u_.small)) delete[] u_.ptr;
        size_ = 0;
    }
    union {
        char* ptr;          // size_ > Inline: an exact-size heap block
        char small[Inline]; // size_ <= Inline: the bytes themselves
    } u_{};
    std::uint32_t size_ = 0;
};
static_assert(sizeof(CompactString<8>) == 16);

// What a task needs only once it has run, or rarely: kept out of line so that a queued
// task costs little memory (docs/performance.md).
struct TaskDetail {
    Bytes metadata;               // opaque msgpack, forwarded with the task
    std::string reason;           // why queued (backoff) or why it ended
    TimePoint ready_at{};         // retry backoff: not dispatched before this
    double started_at = 0, completed_at = 0;
    double exec_time = 0;         // seconds, final attempt, as measured by the worker
    Bytes result;
    std::string error;
    std::vector<AttemptError> attempt_errors;
    std::vector<std::uint64_t> waiters; // parked RESULT/SUBMIT waits that name this task
};

struct TaskRecord {
    std::uint32_t gen = 0;
    std::uint32_t idx = 0; // its own slab position
    bool used = false;
    TaskStatus status = TaskStatus::Pending;
    Priority priority = Priority::Normal;
    std::uint8_t max_retries = 3;
    CompactString<40> id;
    CompactString<8> payload;     // opaque msgpack; dropped once the task has ended
    ClassId cls = 0;              // its requirement class (also names its task type)
    std::uint32_t attempts = 0;   // dispatches so far
    float timeout_s = 300;
    DevIdx device = kNoDevice;    // current or last device
    std::uint64_t queue_seq = 0;  // seq of its live queue entry (0 = none)
    LeaseId lease{};              // the live lease while Assigned/Running
    double created_at = 0, updated_at = 0;
    bool dirty = false;     // changed since the last journal flush
    bool persisted = false; // its spec is in the durable store
    std::unique_ptr<TaskDetail> more;

    [[nodiscard]] TaskId task_id() const { return TaskId(id.str()); }

    // The detail, created on first use.
    TaskDetail& detail() {
        if (!more) more = std::make_unique<TaskDetail>();
        return *more;
    }
    // The detail for reading; an empty one when none was created.
    [[nodiscard]] const TaskDetail& view() const {
        static const TaskDetail kEmpty;
        return more ? *more : kEmpty;
    }
};

class TaskTable {
public:
    // Creates a record for `id`; nullopt if the id is already known.
    std::optional<TaskRef> create(const TaskId& id);
    void erase(TaskRef ref);
    [[nodiscard]] TaskRecord* get(TaskRef ref);
    [[nodiscard]] const TaskRecord* get(TaskRef ref) const;
    [[nodiscard]] std::optional<TaskRef> find(std::string_view id) const;
    [[nodiscard]] std::size_t size() const { return count_; }
    [[nodiscard]] bool contains(std::string_view id) const { return find(id).has_value(); }

private:
    // The id index: open addressing over slab positions (4 bytes a slot, load <= 3/4),
    // compared against the records' own ids, so no id is stored twice.
    static constexpr std::uint32_t kEmpty = 0, kTomb = UINT32_MAX; // else slab index + 1
    [[nodiscard]] std::size_t probe(std::string_view id) const; // slot holding id, or npos
    void index_insert(std::uint32_t idx);
    void rehash(std::size_t capacity);

    std::deque<TaskRecord> slab_; // records stay in place
    std::vector<std::uint32_t> free_;
    std::vector<std::uint32_t> index_;
    std::size_t count_ = 0, tombs_ = 0;
};

} // namespace rc::broker
