// Scheduler: requirement classes, per-class device order, the global ready order, and
// the affinity rule. See docs/scheduling.md for the rules in prose.
#include "scheduler.hpp"

#include <algorithm>
#include <sstream>

namespace rc::broker {

namespace {
std::string class_key(const std::string& type, const Requirements& r) {
    // Only fields that decide eligibility; timeout and retries do not split classes.
    std::ostringstream o;
    o.precision(17);
    o << type << '\x1f' << r.min_cpu_cores << '\x1f' << r.min_memory_gb << '\x1f'
      << r.min_storage_gb << '\x1f' << r.gpu_required << r.internet_required << '\x1f'
      << r.required_platform << '\x1f' << r.required_role;
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
} // namespace

bool Scheduler::eligible(const Device& d, const Class& c) const {
    return d.handlers.count(c.task_type) != 0 && satisfies(d.caps, c.req);
}

Scheduler::DevKey Scheduler::key_of(DevIdx idx, const Device& d) const {
    double ratio = d.slots ? static_cast<double>(d.running) / d.slots : 1.0;
    double per_core = d.caps.cpu_cores > 0 ? d.load / d.caps.cpu_cores : d.load;
    return DevKey{ratio, per_core, -strength(d.caps), idx};
}

void Scheduler::add_device(DevIdx idx, const DeviceCapabilities& caps,
                           std::vector<std::string> handlers, std::uint32_t slots,
                           std::uint32_t running) {
    remove_device(idx);
    Device& d = devices_[idx];
    d.caps = caps;
    d.handlers.insert(handlers.begin(), handlers.end());
    d.slots = slots;
    d.running = running;
    d.key = key_of(idx, d);
    for (auto& [cid, c] : classes_) {
        if (!eligible(d, c)) continue;
        d.classes.push_back(cid);
        c.eligible.insert(idx);
        if (d.has_free()) c.free.insert(d.key);
        refresh(cid, c);
    }
}

void Scheduler::remove_device(DevIdx idx) {
    auto it = devices_.find(idx);
    if (it == devices_.end()) return;
    for (ClassId cid : it->second.classes) {
        auto& c = classes_.at(cid);
        c.free.erase(it->second.key);
        c.eligible.erase(idx);
        refresh(cid, c);
    }
    devices_.erase(it);
}

void Scheduler::rekey(DevIdx idx, Device& d) {
    DevKey nk = key_of(idx, d);
    for (ClassId cid : d.classes) {
        auto& c = classes_.at(cid);
        c.free.erase(d.key);
        if (d.has_free()) c.free.insert(nk);
        refresh(cid, c);
    }
    d.key = nk;
}

void Scheduler::set_running(DevIdx idx, std::uint32_t running) {
    auto it = devices_.find(idx);
    if (it == devices_.end() || it->second.running == running) return;
    it->second.running = running;
    rekey(idx, it->second);
}

void Scheduler::set_reported_load(DevIdx idx, double load) {
    auto it = devices_.find(idx);
    if (it == devices_.end() || it->second.load == load) return;
    it->second.load = load;
    rekey(idx, it->second);
}

ClassId Scheduler::class_for(const std::string& task_type, const Requirements& req) {
    auto key = class_key(task_type, req);
    if (auto it = class_index_.find(key); it != class_index_.end()) {
        ++classes_.at(it->second).refs;
        return it->second;
    }
    ClassId id = next_class_++;
    class_index_.emplace(std::move(key), id);
    Class& c = classes_[id];
    c.task_type = task_type;
    c.req = req;
    c.refs = 1;
    for (auto& [didx, d] : devices_) {
        if (!eligible(d, c)) continue;
        d.classes.push_back(id);
        c.eligible.insert(didx);
        if (d.has_free()) c.free.insert(d.key);
    }
    return id;
}

void Scheduler::release_class(ClassId id) {
    auto it = classes_.find(id);
    if (it == classes_.end() || --it->second.refs > 0) return;
    Class& c = it->second;
    if (c.ready) ready_.erase(*c.ready);
    for (DevIdx d : c.eligible) {
        auto& cls = devices_.at(d).classes;
        cls.erase(std::remove(cls.begin(), cls.end(), id), cls.end());
    }
    class_index_.erase(class_key(c.task_type, c.req));
    classes_.erase(it);
}

void Scheduler::enqueue(ClassId id, Priority p, std::uint64_t seq, TaskRef task) {
    auto& c = classes_.at(id);
    c.queues[static_cast<size_t>(p)].push_back(Entry{seq, task});
    ++c.live;
    ++total_queued_;
    refresh(id, c);
}

void Scheduler::forget(ClassId id) {
    auto it = classes_.find(id);
    if (it == classes_.end() || it->second.live == 0) return;
    --it->second.live;
    --total_queued_;
    refresh(id, it->second);
}

std::optional<Scheduler::Entry> Scheduler::head(Class& c, int& prio) {
    for (int p = kPriorityLevels - 1; p >= 0; --p) {
        auto& q = c.queues[static_cast<size_t>(p)];
        while (!q.empty() && live_fn_ && !live_fn_(live_ctx_, q.front().task, q.front().seq))
            q.pop_front();
        if (!q.empty()) {
            prio = p;
            return q.front();
        }
    }
    return std::nullopt;
}

void Scheduler::refresh(ClassId id, Class& c) {
    int prio = 0;
    std::optional<ReadyKey> want;
    if (!c.free.empty() && c.live > 0) {
        if (auto h = head(c, prio)) want = ReadyKey{-prio, h->seq, id};
    }
    if (want == c.ready) return;
    if (c.ready) ready_.erase(*c.ready);
    if (want) ready_.insert(*want);
    c.ready = want;
}

std::optional<Assignment> Scheduler::next() {
    while (!ready_.empty()) {
        ClassId cid = ready_.begin()->cls;
        Class& c = classes_.at(cid);
        int prio = 0;
        auto h = head(c, prio);
        if (!h || c.free.empty()) {
            refresh(cid, c);
            continue;
        }
        c.queues[static_cast<size_t>(prio)].pop_front();
        --c.live;
        --total_queued_;

        DevIdx chosen = c.free.begin()->idx;
        bool by_affinity = false;
        if (cfg_.affinity) {
            if (auto a = affinity_.find(c.task_type); a != affinity_.end() && a->second != chosen) {
                auto d = devices_.find(a->second);
                if (d != devices_.end() && d->second.has_free() && c.eligible.count(a->second) &&
                    d->second.key.ratio <= c.free.begin()->ratio + cfg_.affinity_slack) {
                    chosen = a->second;
                    by_affinity = true;
                }
            } else if (a != affinity_.end()) {
                by_affinity = true;
            }
        }
        Device& d = devices_.at(chosen);
        ++d.running;
        rekey(chosen, d); // also refreshes this class
        refresh(cid, c);
        return Assignment{h->task, chosen, cid, by_affinity};
    }
    return std::nullopt;
}

std::string Scheduler::explain(ClassId id, const std::unordered_map<DevIdx, std::string>& names) const {
    auto it = classes_.find(id);
    if (it == classes_.end()) return {};
    const Class& c = it->second;
    if (devices_.empty()) return "no online devices";
    if (!c.eligible.empty()) {
        if (c.free.empty())
            return "all " + std::to_string(c.eligible.size()) + " eligible device(s) are busy";
        return "waiting for dispatch";
    }
    std::vector<const Device*> with_handler;
    for (const auto& [_, d] : devices_)
        if (d.handlers.count(c.task_type)) with_handler.push_back(&d);
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
    for (const auto& [idx, d] : devices_) {
        if (!d.handlers.count(c.task_type)) continue;
        auto n = names.find(idx);
        out += "; " + (n != names.end() ? n->second : std::to_string(idx)) + " lacks " + first_unmet(d.caps, r);
        break;
    }
    return out;
}

} // namespace rc::broker
