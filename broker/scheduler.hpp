// The matching index: queued tasks grouped by requirement class, devices with free slots
// ordered by load per class, and the global ready order (priority, then FIFO). Pure data
// structure: no sockets, no clock, no task state. The core feeds it and applies its picks.
//
// Cost model: a decision is O(log C + k log D) where C is the number of classes with
// runnable work and k the number of classes a device is eligible for; never a scan of all
// tasks or all devices.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
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

    // --- devices (only online devices are known here)
    void add_device(DevIdx d, const DeviceCapabilities& caps, std::vector<std::string> handlers,
                    std::uint32_t slots, std::uint32_t running);
    void remove_device(DevIdx d);
    void set_running(DevIdx d, std::uint32_t running);
    void set_reported_load(DevIdx d, double load);
    [[nodiscard]] bool has_device(DevIdx d) const { return devices_.count(d) != 0; }

    // --- tasks
    // The class for (task_type, requirements); created on first use.
    ClassId class_for(const std::string& task_type, const Requirements& req);
    // Queues a task; `seq` orders FIFO within a priority level (must increase).
    void enqueue(ClassId c, Priority p, std::uint64_t seq, TaskRef task);
    // Marks one queued task of class `c` gone (cancelled); its entry is skipped lazily.
    void forget(ClassId c);
    // Drops one reference taken by class_for(); the class is freed at zero.
    void release_class(ClassId c);
    // A callback that says whether a queue entry is still live (task exists, still queued
    // with this seq). Set once by the owner.
    using LiveFn = bool (*)(const void* ctx, TaskRef t, std::uint64_t seq);
    void set_liveness_check(LiveFn fn, const void* ctx) { live_fn_ = fn; live_ctx_ = ctx; }

    // Pops the next task to dispatch and picks its device, or nullopt when no queued task
    // can run on any device with a free slot. The caller must then call set_running().
    std::optional<Assignment> next();

    // Records that `task_type` last ran on `d` (for affinity).
    void note_ran(const std::string& task_type, DevIdx d) { affinity_[task_type] = d; }

    // Why tasks of class `c` are not running, for status replies.
    [[nodiscard]] std::string explain(ClassId c, const std::unordered_map<DevIdx, std::string>& names) const;

    [[nodiscard]] std::size_t queued() const { return total_queued_; }
    [[nodiscard]] std::size_t class_count() const { return classes_.size(); }
    [[nodiscard]] const Requirements& requirements(ClassId c) const { return classes_.at(c).req; }
    [[nodiscard]] const std::string& task_type(ClassId c) const { return classes_.at(c).task_type; }
    [[nodiscard]] std::size_t eligible_devices(ClassId c) const { return classes_.at(c).eligible.size(); }

private:
    struct DevKey {
        double ratio; // running / slots
        double load;  // last reported 1-minute load per core
        double neg_strength;
        DevIdx idx;
        auto operator<=>(const DevKey&) const = default;
    };
    struct Device {
        DeviceCapabilities caps;
        std::unordered_set<std::string> handlers;
        std::uint32_t slots = 1;
        std::uint32_t running = 0;
        double load = 0;
        std::vector<ClassId> classes; // classes this device is eligible for
        DevKey key{};
        [[nodiscard]] bool has_free() const { return running < slots; }
    };
    struct Entry {
        std::uint64_t seq;
        TaskRef task;
    };
    struct ReadyKey {
        int neg_priority;
        std::uint64_t seq;
        ClassId cls;
        auto operator<=>(const ReadyKey&) const = default;
    };
    struct Class {
        std::string task_type;
        Requirements req;
        std::array<std::deque<Entry>, kPriorityLevels> queues;
        std::size_t live = 0;                 // queued tasks still live
        std::set<DevKey> free;                // eligible devices with a free slot
        std::unordered_set<DevIdx> eligible;  // eligible online devices
        std::optional<ReadyKey> ready;        // its key in ready_, if present
        std::size_t refs = 0;                 // task records that name this class
    };

    [[nodiscard]] bool eligible(const Device& d, const Class& c) const;
    [[nodiscard]] DevKey key_of(DevIdx idx, const Device& d) const;
    void rekey(DevIdx idx, Device& d);
    void refresh(ClassId id, Class& c);
    std::optional<Entry> head(Class& c, int& prio);

    SchedulerConfig cfg_;
    std::unordered_map<DevIdx, Device> devices_;
    std::unordered_map<ClassId, Class> classes_;
    std::unordered_map<std::string, ClassId> class_index_;
    std::set<ReadyKey> ready_;
    std::unordered_map<std::string, DevIdx> affinity_;
    ClassId next_class_ = 1;
    std::size_t total_queued_ = 0;
    LiveFn live_fn_ = nullptr;
    const void* live_ctx_ = nullptr;
};

} // namespace rc::broker
