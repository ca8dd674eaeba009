// Scheduler: requirement classes, the free-device order, the choice of the next task and
// device, and the affinity rule. docs/scheduling.md states the rules in prose.
#include "scheduler.hpp"

#include <algorithm>
#include <bit>
#include <sstream>

namespace rc::broker {

namespace {
std::string class_key(const std::string& type, const Requirements& r) {
    // Only fields that decide eligibility; timeout and retries do not split classes.
    std::ostringstream o;
    o.precision(17);
    o << type << '\x1f' << r.min_cpu_cores << '\x1f' << r.min_memory_gb << '\x1f' << r.min_storage_gb
      << '\x1f' << r.gpu_required << r.internet_required << '\x1f' << r.required_platform << '\x1f'
      << r.required_role;
    auto tags = r.required_tags;
    std::sort(tags.begin(), tags.end());
    for (const auto& t : tags) o << '\x1f' << t;
    return o.str();
}

std::string fmt(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
}

// Steps taken along the free-device order before falling back to the class's bitmap.
constexpr int kWalkLimit = 64;
} // namespace

bool Scheduler::eligible(const Device& d, const Class& c) const {
    return d.handlers.count(c.task_type) != 0 && satisfies(d.caps, c.req);
}

Scheduler::DevKey Scheduler::key_of(DevIdx idx, const Device& d) const {
    double ratio = d.slots ? static_cast<double>(d.running) / d.slots : 1.0;
    double per_core = d.caps.cpu_cores > 0 ? d.load / d.caps.cpu_cores : d.load;
    return DevKey{ratio, per_core, -strength(d.caps), idx};
}

void Scheduler::set_bit(Class& c, DevIdx d, bool on) {
    if (c.bits.size() <= d / 64) c.bits.resize(d / 64 + 1, 0);
    auto mask = std::uint64_t{1} << (d % 64);
    bool was = (c.bits[d / 64] & mask) != 0;
    if (was == on) return;
    if (on) {
        c.bits[d / 64] |= mask;
        ++c.eligible_count;
    } else {
        c.bits[d / 64] &= ~mask;
        --c.eligible_count;
    }
}

void Scheduler::add_device(DevIdx idx, const DeviceCapabilities& caps, std::vector<std::string> handlers,
                           std::uint32_t slots, std::uint32_t running, std::uint32_t prefetch) {
    remove_device(idx);
    if (devices_.size() <= idx) devices_.resize(idx + 1);
    Device& d = devices_[idx];
    d = Device{};
    d.online = true;
    d.caps = caps;
    d.handlers.insert(handlers.begin(), handlers.end());
    d.slots = slots;
    d.capacity = slots + prefetch;
    d.running = running;
    d.key = key_of(idx, d);
    for (auto& [cid, c] : classes_) {
        if (!eligible(d, c)) continue;
        d.classes.push_back(cid);
        set_bit(c, idx, true);
    }
    if (d.has_free()) {
        free_.insert(d.key);
        note_freed(d);
    }
}

void Scheduler::remove_device(DevIdx idx) {
    if (!has_device(idx)) return;
    Device& d = devices_[idx];
    free_.erase(d.key);
    for (ClassId cid : d.classes)
        if (auto it = classes_.find(cid); it != classes_.end()) set_bit(it->second, idx, false);
    d = Device{}; // entries left in freed_ are skipped: the device is offline
}

void Scheduler::rekey(DevIdx idx, Device& d) {
    free_.erase(d.key);
    d.key = key_of(idx, d);
    if (d.has_free()) free_.insert(d.key);
}

void Scheduler::set_running(DevIdx idx, std::uint32_t running) {
    if (!has_device(idx)) return;
    Device& d = devices_[idx];
    if (d.running == running) return;
    bool gained = running < d.running;
    d.running = running;
    rekey(idx, d);
    if (gained && d.has_free()) note_freed(d);
}

void Scheduler::set_reported_load(DevIdx idx, double load) {
    if (!has_device(idx) || devices_[idx].load == load) return;
    devices_[idx].load = load;
    rekey(idx, devices_[idx]);
}

ClassId Scheduler::class_for(const std::string& task_type, const Requirements& req) {
    auto key = class_key(task_type, req);
    if (auto it = class_index_.find(key); it != class_index_.end()) {
        ++classes_.at(it->second).refs;
        return it->second;
    }
    ClassId id = next_class_++;
    Class& c = classes_[id];
    c.key = key;
    c.task_type = task_type;
    c.req = req;
    c.refs = 1;
    class_index_.emplace(std::move(key), id);
    for (DevIdx d = 0; d < devices_.size(); ++d) {
        if (!devices_[d].online || !eligible(devices_[d], c)) continue;
        devices_[d].classes.push_back(id);
        set_bit(c, d, true);
    }
    return id;
}

void Scheduler::release_class(ClassId id) {
    auto it = classes_.find(id);
    if (it == classes_.end() || --it->second.refs > 0) return;
    Class& c = it->second;
    total_queued_ -= c.live;
    for (std::size_t w = 0; w < c.bits.size(); ++w) {
        for (std::uint64_t x = c.bits[w]; x; x &= x - 1) {
            auto& cls = devices_[static_cast<DevIdx>(w * 64 + std::countr_zero(x))].classes;
            cls.erase(std::remove(cls.begin(), cls.end(), id), cls.end());
        }
    }
    class_index_.erase(c.key);
    classes_.erase(it); // entries left in ready_ are skipped when popped
}

void Scheduler::enqueue(ClassId id, Priority p, std::uint64_t seq, TaskRef task) {
    auto& c = classes_.at(id);
    c.queues[static_cast<size_t>(p)].push_back(Entry{seq, task});
    ++c.live;
    ++total_queued_;
    mark_ready(id, c);
}

void Scheduler::forget(ClassId id) {
    auto it = classes_.find(id);
    if (it == classes_.end() || it->second.live == 0) return;
    --it->second.live;
    --total_queued_;
}

std::optional<Scheduler::HeadKey> Scheduler::head(Class& c, Entry* out, int* prio) {
    if (c.live == 0) return std::nullopt;
    for (int p = kPriorityLevels - 1; p >= 0; --p) {
        auto& q = c.queues[static_cast<size_t>(p)];
        while (!q.empty() && live_fn_ && !live_fn_(live_ctx_, q.front().task, q.front().seq)) q.pop_front();
        if (q.empty()) continue;
        if (out) *out = q.front();
        if (prio) *prio = p;
        return HeadKey{-p, q.front().seq};
    }
    return std::nullopt;
}

void Scheduler::mark_ready(ClassId id, Class& c) {
    if (c.in_ready) return;
    if (auto h = head(c)) {
        ready_.emplace(*h, id);
        c.in_ready = true;
    }
}

std::optional<DevIdx> Scheduler::best_free_device(const Class& c) const {
    if (c.eligible_count == 0) return std::nullopt;
    int steps = 0;
    for (auto it = free_.begin(); it != free_.end() && steps < kWalkLimit; ++it, ++steps)
        if (c.eligible(it->idx)) return it->idx;
    if (free_.size() <= static_cast<std::size_t>(kWalkLimit)) return std::nullopt;
    // A narrow class among many free devices: look at its own eligible devices instead.
    std::optional<DevKey> best;
    for (std::size_t w = 0; w < c.bits.size(); ++w) {
        for (std::uint64_t x = c.bits[w]; x; x &= x - 1) {
            const Device& d = devices_[static_cast<DevIdx>(w * 64 + std::countr_zero(x))];
            if (d.online && d.has_free() && (!best || d.key < *best)) best = d.key;
        }
    }
    if (!best) return std::nullopt;
    return best->idx;
}

std::optional<ClassId> Scheduler::best_class_for(const Device& d) {
    std::optional<HeadKey> best;
    ClassId best_id = 0;
    for (ClassId cid : d.classes) {
        auto it = classes_.find(cid);
        if (it == classes_.end()) continue;
        auto h = head(it->second);
        if (h && (!best || *h < *best)) {
            best = h;
            best_id = cid;
        }
    }
    if (!best) return std::nullopt;
    return best_id;
}

Assignment Scheduler::assign(ClassId id, Class& c, DevIdx dev, bool allow_affinity) {
    Entry e{};
    int prio = 0;
    auto key = head(c, &e, &prio);
    c.queues[static_cast<size_t>(prio)].pop_front();
    --c.live;
    --total_queued_;
    bool by_affinity = false;
    if (cfg_.affinity && allow_affinity) {
        if (auto a = affinity_.find(c.task_type); a != affinity_.end()) {
            DevIdx ad = a->second;
            if (ad == dev) {
                by_affinity = true;
            } else if (has_device(ad) && devices_[ad].has_free() && c.eligible(ad) &&
                       devices_[ad].key.ratio <= devices_[dev].key.ratio + cfg_.affinity_slack) {
                // Only when that device is not the way for a more urgent task.
                auto other = best_class_for(devices_[ad]);
                if (!other || *other == id || !(*head(classes_.at(*other)) < *key)) {
                    dev = ad;
                    by_affinity = true;
                }
            }
        }
    }
    Device& d = devices_[dev];
    ++d.running;
    rekey(dev, d);
    mark_ready(id, c);
    return Assignment{e.task, dev, id, by_affinity};
}

std::optional<Assignment> Scheduler::next() {
    for (;;) {
        // Candidate 1: the least loaded device that gained a free slot, and its best class.
        std::optional<std::pair<HeadKey, ClassId>> from_dev;
        DevIdx freed_dev = 0;
        while (!from_dev && !freed_.empty()) {
            DevKey k = *freed_.begin();
            freed_.erase(freed_.begin());
            if (!has_device(k.idx) || !devices_[k.idx].has_free()) continue;
            if (devices_[k.idx].key != k) { // its load changed since: take it in its place
                note_freed(devices_[k.idx]);
                continue;
            }
            if (auto cid = best_class_for(devices_[k.idx])) {
                from_dev.emplace(*head(classes_.at(*cid)), *cid);
                freed_dev = k.idx;
            }
        }
        // Candidate 2: the best class that gained tasks (validated lazily).
        std::optional<ReadyEntry> from_ready;
        while (!ready_.empty()) {
            ReadyEntry top = ready_.top();
            auto it = classes_.find(top.second);
            if (it == classes_.end()) {
                ready_.pop();
                continue;
            }
            auto h = head(it->second);
            if (!h) {
                ready_.pop();
                it->second.in_ready = false;
                continue;
            }
            if (*h != top.first) {
                ready_.pop();
                ready_.emplace(*h, top.second);
                continue;
            }
            from_ready = top;
            break;
        }
        if (!from_dev && !from_ready) return std::nullopt;

        if (from_dev && (!from_ready || from_dev->first <= from_ready->first)) {
            // The freed device serves its own most urgent class.
            auto a = assign(from_dev->second, classes_.at(from_dev->second), freed_dev);
            if (devices_[freed_dev].has_free()) note_freed(devices_[freed_dev]);
            return a;
        }
        if (from_dev) note_freed(devices_[freed_dev]); // not used this round
        Class& c = classes_.at(from_ready->second);
        auto dev = best_free_device(c);
        if (!dev) { // blocked until a device frees; the freed_ path picks it up then
            ready_.pop();
            c.in_ready = false;
            continue;
        }
        // The device this class would take may be the way for a more urgent class.
        if (auto other = best_class_for(devices_[*dev]);
            other && *other != from_ready->second && *head(classes_.at(*other)) < from_ready->first)
            return assign(*other, classes_.at(*other), *dev, false);
        ready_.pop();
        c.in_ready = false;
        return assign(from_ready->second, c, *dev);
    }
}

std::string Scheduler::explain(ClassId id, const std::unordered_map<DevIdx, std::string>& names) const {
    auto it = classes_.find(id);
    if (it == classes_.end()) return {};
    const Class& c = it->second;
    bool any_online = std::any_of(devices_.begin(), devices_.end(), [](const Device& d) { return d.online; });
    if (!any_online) return "no online devices";
    if (c.eligible_count > 0) {
        bool any_free = false;
        for (DevIdx d = 0; d < devices_.size() && !any_free; ++d)
            any_free = c.eligible(d) && devices_[d].online && devices_[d].has_free();
        if (!any_free) return "all " + std::to_string(c.eligible_count) + " eligible device(s) are busy";
        return "waiting for dispatch";
    }
    std::vector<const Device*> with_handler;
    for (const auto& d : devices_)
        if (d.online && d.handlers.count(c.task_type)) with_handler.push_back(&d);
    if (with_handler.empty())
        return "no online device has a handler for task type '" + c.task_type + "'";
    const Requirements& r = c.req;
    auto largest = [&](auto field) {
        double m = 0;
        for (const auto* d : with_handler) m = std::max(m, static_cast<double>(field(*d)));
        return m;
    };
    double v = largest([](const Device& d) { return d.caps.cpu_cores; });
    if (v < r.min_cpu_cores)
        return "no online device has min_cpu_cores >= " + std::to_string(r.min_cpu_cores) + " (largest: " + fmt(v) + ")";
    v = largest([](const Device& d) { return d.caps.memory_gb; });
    if (v < r.min_memory_gb)
        return "no online device has min_memory_gb >= " + fmt(r.min_memory_gb) + " (largest: " + fmt(v) + ")";
    v = largest([](const Device& d) { return d.caps.storage_gb; });
    if (v < r.min_storage_gb)
        return "no online device has min_storage_gb >= " + fmt(r.min_storage_gb) + " (largest: " + fmt(v) + ")";
    auto none = [&](auto pred) {
        return std::none_of(with_handler.begin(), with_handler.end(), [&](const Device* d) { return pred(*d); });
    };
    if (r.gpu_required && none([](const Device& d) { return d.caps.gpu; }))
        return "no online device has a GPU (gpu_required)";
    if (r.internet_required && none([](const Device& d) { return d.caps.internet; }))
        return "no online device has internet access (internet_required)";
    if (!r.required_platform.empty() &&
        none([&](const Device& d) { return d.caps.platform == r.required_platform; }))
        return "no online device has required_platform = " + r.required_platform;
    if (!r.required_role.empty() && none([&](const Device& d) { return d.caps.role == r.required_role; }))
        return "no online device has required_role = " + r.required_role;
    for (const auto& t : r.required_tags)
        if (none([&](const Device& d) {
                return std::find(d.caps.tags.begin(), d.caps.tags.end(), t) != d.caps.tags.end();
            }))
            return "no online device has tag '" + t + "' (required_tags)";
    std::string out = "no single online device meets all requirements";
    for (DevIdx idx = 0; idx < devices_.size(); ++idx) {
        const Device& d = devices_[idx];
        if (!d.online || !d.handlers.count(c.task_type)) continue;
        auto n = names.find(idx);
        out += "; " + (n != names.end() ? n->second : std::to_string(idx)) + " lacks " + first_unmet(d.caps, r);
        break;
    }
    return out;
}

} // namespace rc::broker
