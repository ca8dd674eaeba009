// The matching index: queued tasks grouped by requirement class, the devices with a free
// slot ordered by load, and the rule that picks the next (task, device) pair. Pure data
// structure: no sockets, no clock, no task state. The core feeds it and applies its picks.
//
// Cost model (C classes, D devices, k classes a device is eligible for):
//   a task arriving in a class      O(log C)
//   a slot freeing on a device      O(k) to find the device's best class
//   picking the device for a class  O(log D) walk of the free set, bounded, with a
//                                   fallback scan of the class's eligibility bitmap
// Never a scan of all queued tasks. docs/scheduling.md states the rules.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/capabilities.hpp"

namespace rc::broker {

using DevIdx = std::uint32_t;
using ClassId = std::uint32_t;

// A reference to a task record that survives the record's removal (generation check).
struct TaskRef {
    std::uint32_t idx = 0;
    std::uint32_t gen = 0;
    bool operator==(const TaskRef&) const = default;
};

struct SchedulerConfig {
    bool affinity = true;
    // The affinity device is chosen while its load ratio is at most this much above the
    // best alternative's (0.25 = one more busy slot in four).
    double affinity_slack = 0.25;
};

struct Assignment {
    TaskRef task;
    DevIdx device = 0;
    ClassId cls = 0;
    bool by_affinity = false;
};

class Scheduler {
public:
    explicit Scheduler(SchedulerConfig cfg = {}) : cfg_(cfg) {}

    // --- devices (only online devices are known here; indexes are small and dense)
    // `prefetch` extra tasks may be leased beyond `slots` (they wait on the device); the
    // load ratio still counts against `slots`.
    void add_device(DevIdx d, const DeviceCapabilities& caps, std::vector<std::string> handlers,
                    std::uint32_t slots, std::uint32_t running, std::uint32_t prefetch = 0);
    void remove_device(DevIdx d);
    void set_running(DevIdx d, std::uint32_t running);
    void set_reported_load(DevIdx d, double load);
    [[nodiscard]] bool has_device(DevIdx d) const { return d < devices_.size() && devices_[d].online; }

    // --- tasks
    // The class for (task_type, requirements), created on first use; each call takes a
    // reference that release_class() gives back.
    ClassId class_for(const std::string& task_type, const Requirements& req);
    void release_class(ClassId c);
    // Takes one more reference to an existing class (a batch reusing its previous task's class).
    void retain_class(ClassId c) { ++classes_.at(c).refs; }
    // Queues a task; `seq` orders FIFO within a priority level (must increase).
    void enqueue(ClassId c, Priority p, std::uint64_t seq, TaskRef task);
    // One queued task of class `c` is gone (cancelled); its entry is skipped lazily.
    void forget(ClassId c);
    // Whether a queue entry is still live (the task exists and is queued with this seq).
    using LiveFn = bool (*)(const void* ctx, TaskRef t, std::uint64_t seq);
    void set_liveness_check(LiveFn fn, const void* ctx) { live_fn_ = fn; live_ctx_ = ctx; }

    // The next task to dispatch and its device, or nullopt when no queued task can run
    // on a device with a free slot. The device's running count is incremented.
    std::optional<Assignment> next();

    // Records that `task_type` last ran (successfully) on `d`, for affinity.
    void note_ran(const std::string& task_type, DevIdx d) { affinity_[task_type] = d; }

    // Why tasks of class `c` are not running, for status replies.
    [[nodiscard]] std::string explain(ClassId c, const std::unordered_map<DevIdx, std::string>& names) const;

    [[nodiscard]] std::size_t queued() const { return total_queued_; }
    [[nodiscard]] std::size_t class_count() const { return classes_.size(); }
    [[nodiscard]] const Requirements& requirements(ClassId c) const { return classes_.at(c).req; }
    [[nodiscard]] const std::string& task_type(ClassId c) const { return classes_.at(c).task_type; }
    [[nodiscard]] std::size_t eligible_devices(ClassId c) const { return classes_.at(c).eligible_count; }

private:
    // Devices compare by this key: least loaded first, then lower reported load, then
    // stronger, then registration order.
    struct DevKey {
        double ratio; // running / slots
        double load;  // last reported 1-minute load per core
        double neg_strength;
        DevIdx idx;
        auto operator<=>(const DevKey&) const = default;
    };
    struct Device {
        bool online = false;
        DeviceCapabilities caps;
        std::unordered_set<std::string> handlers;
        std::uint32_t slots = 1;
        std::uint32_t capacity = 1; // slots + prefetch
        std::uint32_t running = 0;
        double load = 0;
        std::vector<ClassId> classes; // classes this device is eligible for
        DevKey key{};
        [[nodiscard]] bool has_free() const { return running < capacity; }
    };
    struct Entry {
        std::uint64_t seq;
        TaskRef task;
    };
    // Orders candidate classes by their first task: higher priority, then older.
    struct HeadKey {
        int neg_priority = 0;
        std::uint64_t seq = 0;
        auto operator<=>(const HeadKey&) const = default;
    };
    struct Class {
        std::string key;
        std::string task_type;
        Requirements req;
        std::array<std::deque<Entry>, kPriorityLevels> queues;
        std::size_t live = 0;             // queued tasks still live
        std::vector<std::uint64_t> bits;  // eligibility bitmap over DevIdx
        std::size_t eligible_count = 0;
        bool in_ready = false;            // present in ready_
        std::size_t refs = 0;
        [[nodiscard]] bool eligible(DevIdx d) const {
            return d / 64 < bits.size() && (bits[d / 64] >> (d % 64)) & 1u;
        }
    };
    using ReadyEntry = std::pair<HeadKey, ClassId>;

    [[nodiscard]] bool eligible(const Device& d, const Class& c) const;
    [[nodiscard]] DevKey key_of(DevIdx idx, const Device& d) const;
    void rekey(DevIdx idx, Device& d);
    void set_bit(Class& c, DevIdx d, bool on);
    std::optional<HeadKey> head(Class& c, Entry* out = nullptr, int* prio = nullptr);
    void mark_ready(ClassId id, Class& c);
    std::optional<DevIdx> best_free_device(const Class& c) const;
    std::optional<ClassId> best_class_for(const Device& d);
    Assignment assign(ClassId id, Class& c, DevIdx dev, bool allow_affinity = true);

    SchedulerConfig cfg_;
    std::vector<Device> devices_;
    std::set<DevKey> free_;                  // online devices with a free slot, by key
    std::unordered_map<ClassId, Class> classes_;
    std::unordered_map<std::string, ClassId> class_index_;
    // Classes that may be able to dispatch (they gained tasks); a min-heap on HeadKey with
    // lazy validation when popped.
    std::priority_queue<ReadyEntry, std::vector<ReadyEntry>, std::greater<>> ready_;
    // Devices that gained a free slot, least loaded first; keys are re-checked when taken.
    std::set<DevKey> freed_;
    void note_freed(const Device& d) { freed_.insert(d.key); }
    std::unordered_map<std::string, DevIdx> affinity_;
    ClassId next_class_ = 1;
    std::size_t total_queued_ = 0;
    LiveFn live_fn_ = nullptr;
    const void* live_ctx_ = nullptr;
};

} // namespace rc::broker
