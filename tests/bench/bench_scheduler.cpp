// rc-bench-scheduler: the broker core at scale, with no sockets. Registers 10,000 devices,
// queues 1,000,000 tasks across many requirement classes, then measures the cost of one
// scheduling decision (a RESULT frees a slot, the core picks the next task and device)
// and the memory per queued task. Prints one JSON object.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <unistd.h>

#include "broker/core.hpp"
#include "common/codec.hpp"
#include "common/log.hpp"

using namespace rc;
using Clock_ = std::chrono::steady_clock;

namespace {
double rss_mb() {
    std::ifstream f("/proc/self/statm");
    long pages = 0, resident = 0;
    f >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

long arg(int argc, char** argv, const std::string& name, long def) {
    for (int i = 1; i + 1 < argc; ++i)
        if (argv[i] == name) return std::stol(argv[i + 1]);
    return def;
}
} // namespace

int main(int argc, char** argv) {
    const long devices = arg(argc, argv, "--devices", 10'000);
    const long queued = arg(argc, argv, "--tasks", 1'000'000);
    const long decisions = arg(argc, argv, "--decisions", 100'000);
    rc::log::set_level(rc::log::Level::Error);
    std::mt19937 rng(7);

    broker::BrokerConfig cfg;
    cfg.max_queued = static_cast<std::size_t>(queued) * 2 + 1'000'000;
    Now now{TimePoint{} + std::chrono::hours(1), 1.7e9};
    broker::BrokerCore core(cfg, 1, now);
    std::vector<std::string> roles = {"worker", "compute", "storage", "mobile"};
    std::vector<std::string> tagset = {"a", "b", "c", "d", "e"};
    std::vector<std::string> types = {"echo", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"};
    std::vector<std::vector<proto::TaskAssign>> outstanding(static_cast<std::size_t>(devices));

    auto collect = [&] {
        for (auto& m : core.outbox())
            if (auto* w = std::get_if<proto::BrokerToWorker>(&m.msg))
            {
                auto& out = outstanding[std::stoul(m.to.value.substr(1))];
                if (auto* t = std::get_if<proto::TaskAssign>(w)) out.push_back(std::move(*t));
                if (auto* b = std::get_if<proto::TaskBatch>(w))
                    for (auto& t : b->tasks) out.push_back(std::move(t));
            }
        core.outbox().clear();
    };

    long slots_total = 0;
    for (long i = 0; i < devices; ++i) {
        proto::Ready r;
        r.device_id = DeviceId("dev-" + std::to_string(i));
        r.caps.cpu_cores = 1 + static_cast<int>(rng() % 8);
        r.caps.memory_gb = 1 + rng() % 16;
        r.caps.storage_gb = 10 + rng() % 500;
        r.caps.role = roles[i % roles.size()];
        r.caps.platform = i % 3 == 0 ? "android" : "linux";
        for (const auto& t : tagset)
            if (rng() % 2) r.caps.tags.push_back(t);
        r.handlers = types;
        r.slots = 1 + rng() % 4;
        slots_total += r.slots;
        core.on_message(proto::Inbound{RoutingId("d" + std::to_string(i)), r}, now);
    }
    core.outbox().clear();

    // Requirement classes: 10 types x 4 roles x 4 memory floors x 2 platforms x tag sets.
    auto make_task = [&](long n) {
        TaskSpec t;
        t.task_type = types[n % types.size()];
        t.payload = codec::encode_value(Value(static_cast<std::int64_t>(n)));
        t.priority = static_cast<Priority>(rng() % 4);
        auto& r = t.requirements;
        r.required_role = (n / 10) % 5 == 4 ? "" : roles[(n / 10) % 5 % 4];
        r.min_memory_gb = static_cast<double>((n / 50) % 4) * 2;
        if ((n / 200) % 2) r.required_platform = "linux";
        if ((n / 400) % 3 == 1) r.required_tags = {"a"};
        if ((n / 400) % 3 == 2) r.required_tags = {"b", "c"};
        return t;
    };

    double rss_before = rss_mb();
    auto t0 = Clock_::now();
    const long batch = 10'000;
    std::size_t payload_bytes = 0;
    for (long n = 0; n < queued + slots_total; n += batch) {
        proto::SubmitReq s;
        s.req = 1;
        for (long k = n; k < std::min(n + batch, queued + slots_total); ++k) {
            s.tasks.push_back(make_task(k));
            payload_bytes += s.tasks.back().payload.size();
        }
        core.on_message(proto::Inbound{RoutingId("client"), std::move(s)}, now);
        core.before_sleep(now);
        collect();
        core.outbox().clear();
    }
    double submit_s = std::chrono::duration<double>(Clock_::now() - t0).count();
    double rss_after = rss_mb();
    auto stats = core.stats_value(now);
    long still_queued = stats.find("queue_stats")->find("queued")->as_int();
    long classes = stats.find("queue_stats")->find("requirement_classes")->as_int();

    // Decisions: each RESULT frees a slot and the core dispatches the next task.
    long done = 0;
    std::size_t dev = 0;
    auto t1 = Clock_::now();
    while (done < decisions) {
        dev = (dev + 1) % outstanding.size();
        if (outstanding[dev].empty()) continue;
        auto t = std::move(outstanding[dev].back());
        outstanding[dev].pop_back();
        proto::WorkResult r{t.task_id, t.lease, 1, TaskStatus::Success, t.payload, {}, now.wall, now.wall};
        core.on_message(proto::Inbound{RoutingId("d" + std::to_string(dev)), proto::WorkerMsg(std::move(r))}, now);
        core.before_sleep(now);
        collect();
        ++done;
    }
    double decide_s = std::chrono::duration<double>(Clock_::now() - t1).count();
    auto after = core.stats_value(now);
    long dispatched = after.find("scheduler_stats")->find("dispatched")->as_int();

    double bytes_per_task = (rss_after - rss_before) * 1024.0 * 1024.0 / static_cast<double>(queued + slots_total);
    double payload_avg = static_cast<double>(payload_bytes) / static_cast<double>(queued + slots_total);
    std::printf("{\"devices\": %ld, \"slots\": %ld, \"queued_tasks\": %ld, \"requirement_classes\": %ld, "
                "\"submit_seconds\": %.3f, \"submit_tasks_per_sec\": %.0f, "
                "\"decisions\": %ld, \"decision_us\": %.3f, \"dispatched\": %ld, "
                "\"rss_mb_before\": %.1f, \"rss_mb_after\": %.1f, \"bytes_per_queued_task\": %.1f, "
                "\"payload_bytes_per_task\": %.1f, \"bytes_per_queued_task_beyond_payload\": %.1f}\n",
                devices, slots_total, still_queued, classes, submit_s,
                static_cast<double>(queued + slots_total) / submit_s, done, decide_s * 1e6 / static_cast<double>(done),
                dispatched, rss_before, rss_after, bytes_per_task, payload_avg, bytes_per_task - payload_avg);
    return 0;
}
