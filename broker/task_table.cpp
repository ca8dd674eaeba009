// TaskTable: a slab of records with a free list and generation counters, and an
// open-addressing id index over the slab.
#include "task_table.hpp"

#include <functional>

namespace rc::broker {

namespace {
constexpr std::size_t kNpos = static_cast<std::size_t>(-1);
std::size_t hash_id(std::string_view id) { return std::hash<std::string_view>{}(id); }
} // namespace

std::size_t TaskTable::probe(std::string_view id) const {
    if (index_.empty()) return kNpos;
    std::size_t mask = index_.size() - 1;
    for (std::size_t i = hash_id(id) & mask;; i = (i + 1) & mask) {
        std::uint32_t v = index_[i];
        if (v == kEmpty) return kNpos;
        if (v != kTomb && slab_[v - 1].id.view() == id) return i;
    }
}

void TaskTable::index_insert(std::uint32_t idx) {
    // Load stays under 3/4; growth doubles, so a full table holds 4 to 8 bytes per task.
    if ((count_ + tombs_ + 1) * 4 > index_.size() * 3) rehash(std::max<std::size_t>(64, (count_ + 1) * 2));
    std::size_t mask = index_.size() - 1;
    for (std::size_t i = hash_id(slab_[idx].id.view()) & mask;; i = (i + 1) & mask) {
        if (index_[i] == kEmpty || index_[i] == kTomb) {
            if (index_[i] == kTomb) --tombs_;
            index_[i] = idx + 1;
            ++count_;
            return;
        }
    }
}

void TaskTable::rehash(std::size_t capacity) {
    std::size_t cap = 64;
    while (cap < capacity) cap *= 2;
    std::vector<std::uint32_t> old;
    old.swap(index_);
    index_.assign(cap, kEmpty);
    count_ = tombs_ = 0;
    for (std::uint32_t v : old)
        if (v != kEmpty && v != kTomb) index_insert(v - 1);
}

std::optional<TaskRef> TaskTable::create(const TaskId& id) {
    if (contains(id.value)) return std::nullopt;
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
    r.idx = idx;
    r.used = true;
    r.id.assign(id.value);
    index_insert(idx);
    return TaskRef{idx, gen};
}

void TaskTable::erase(TaskRef ref) {
    TaskRecord* r = get(ref);
    if (!r) return;
    if (auto slot = probe(r->id.view()); slot != kNpos) {
        index_[slot] = kTomb;
        --count_;
        ++tombs_;
    }
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

const TaskRecord* TaskTable::get(TaskRef ref) const { return const_cast<TaskTable*>(this)->get(ref); }

std::optional<TaskRef> TaskTable::find(std::string_view id) const {
    auto slot = probe(id);
    if (slot == kNpos) return std::nullopt;
    std::uint32_t idx = index_[slot] - 1;
    return TaskRef{idx, slab_[idx].gen};
}

} // namespace rc::broker
