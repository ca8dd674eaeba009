// TaskTable slab with a free list and generation counters.
#include "task_table.hpp"

namespace rc::broker {

std::optional<TaskRef> TaskTable::create(const TaskId& id) {
    if (index_.count(id.value)) return std::nullopt;
    std::uint32_t idx;
    if (!free_.empty()) {
        idx = free_.back();
        free_.pop_back();
    } else {
        idx = static_cast<std::uint32_t>(slab_.size());
        slab_.emplace_back();
    }
    TaskRecord& r = slab_[idx];
    std::uint32_t gen = r.gen + 1;
    r = TaskRecord{};
    r.gen = gen;
    r.used = true;
    r.id = id;
    index_.emplace(id.value, idx);
    return TaskRef{idx, gen};
}

void TaskTable::erase(TaskRef ref) {
    TaskRecord* r = get(ref);
    if (!r) return;
    index_.erase(r->id.value);
    std::uint32_t gen = r->gen;
    *r = TaskRecord{};
    r->gen = gen; // bumped again on reuse, so stale refs never match
    free_.push_back(ref.idx);
}

TaskRecord* TaskTable::get(TaskRef ref) {
    if (ref.idx >= slab_.size()) return nullptr;
    TaskRecord& r = slab_[ref.idx];
    return (r.used && r.gen == ref.gen) ? &r : nullptr;
}

const TaskRecord* TaskTable::get(TaskRef ref) const {
    return const_cast<TaskTable*>(this)->get(ref);
}

std::optional<TaskRef> TaskTable::find(const std::string& id) const {
    auto it = index_.find(id);
    if (it == index_.end()) return std::nullopt;
    return TaskRef{it->second, slab_[it->second].gen};
}

} // namespace rc::broker
