// rc-bench-client: the client side of scripts/bench, on the real rc::Client. Subcommands:
// throughput, latency, sleep (parallel work) and fill (queue only). Prints one JSON object
// on stdout; it owns no processes and never judges a number against a target.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/client.hpp"
#include "common/codec.hpp"
#include "common/json.hpp"

using namespace rc;
using Clock_ = std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds kWaitBudget{300'000}; // a bound, never reached when healthy

struct Args {
    std::string command;
    std::map<std::string, std::string> opts;

    [[nodiscard]] long num(const std::string& name, long def) const {
        auto it = opts.find(name);
        return it == opts.end() ? def : std::stol(it->second);
    }
    [[nodiscard]] double real(const std::string& name, double def) const {
        auto it = opts.find(name);
        return it == opts.end() ? def : std::stod(it->second);
    }
    [[nodiscard]] std::string str(const std::string& name) const {
        auto it = opts.find(name);
        return it == opts.end() ? std::string() : it->second;
    }
};

double seconds_since(Clock_::time_point t0) {
    return std::chrono::duration<double>(Clock_::now() - t0).count();
}

// An echo payload of exactly `bytes` encoded bytes (at least 8), unique per task so that a
// result delivered to the wrong task is caught.
Bytes make_payload(long n, std::size_t bytes) {
    std::string s = "t" + std::to_string(n) + "-";
    s.resize(std::max<std::size_t>(bytes, s.size() + 3), 'x');
    while (s.size() > 1 && codec::encode_value(Value(s)).size() > bytes)
        s.pop_back();
    return codec::encode_value(Value(s));
}

TaskSpec echo_task(long n, std::size_t payload_bytes) {
    TaskSpec t;
    t.task_type = "echo";
    t.payload = make_payload(n, payload_bytes);
    return t;
}

// p-th percentile (0..100) of sorted samples, nearest rank.
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

int fail(const std::string& what, const ClientError& e) {
    std::cerr << "rc-bench-client: " << what << ": " << e.describe() << "\n";
    return 1;
}

void print(Map m) {
    std::cout << json::dump(Value(std::move(m))) << std::endl;
}

// Counts results that are not a success carrying exactly the submitted payload.
struct Checker {
    long ok = 0, failed = 0, mismatched = 0, missing = 0;
    void check(const std::vector<TaskId>& ids, const std::vector<Bytes>& payloads,
               const std::vector<TaskResult>& results) {
        std::size_t r = 0;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (r >= results.size() || results[r].task_id != ids[i]) {
                ++missing;
                continue;
            }
            const auto& res = results[r++];
            if (res.status != TaskStatus::Success)
                ++failed;
            else if (res.result_data != payloads[i])
                ++mismatched;
            else
                ++ok;
        }
    }
};

// Submits in batches, keeping at most `window` batches in flight (0 = submit everything,
// then wait), and times the first submit to the last result.
int throughput(const Args& a) {
    const long tasks = a.num("--tasks", 200'000), batch = std::max(1L, a.num("--batch", 1000));
    const long window = a.num("--window", 0);
    const auto payload_bytes = static_cast<std::size_t>(a.num("--payload-bytes", 100));
    Client client(a.str("--address"));
    struct Batch {
        std::vector<TaskId> ids;
        std::vector<Bytes> payloads;
    };
    std::deque<Batch> in_flight;
    Checker check;
    double submit_s = 0;
    auto collect = [&](Batch& b) -> bool {
        auto r = client.wait_all(b.ids, kWaitBudget);
        if (!r) {
            fail("wait_all", r.error());
            return false;
        }
        check.check(b.ids, b.payloads, r.value());
        return true;
    };
    auto t0 = Clock_::now();
    for (long n = 0; n < tasks; n += batch) {
        Batch b;
        std::vector<TaskSpec> specs;
        for (long k = n; k < std::min(tasks, n + batch); ++k) {
            specs.push_back(echo_task(k, payload_bytes));
            b.payloads.push_back(specs.back().payload);
        }
        auto ids = client.submit(std::move(specs));
        if (!ids) return fail("submit", ids.error());
        b.ids = std::move(ids).value();
        in_flight.push_back(std::move(b));
        if (window > 0 && static_cast<long>(in_flight.size()) > window) {
            if (!collect(in_flight.front())) return 1;
            in_flight.pop_front();
        }
    }
    submit_s = seconds_since(t0);
    if (window == 0 && !in_flight.empty()) {
        // One wait over every id: wait_all asks in rounds, each answered when its chunk is done.
        Batch all;
        for (auto& b : in_flight) {
            all.ids.insert(all.ids.end(), b.ids.begin(), b.ids.end());
            all.payloads.insert(all.payloads.end(), b.payloads.begin(), b.payloads.end());
        }
        in_flight.clear();
        in_flight.push_back(std::move(all));
    }
    for (auto& b : in_flight)
        if (!collect(b)) return 1;
    double total_s = seconds_since(t0);
    print(Map{{"tasks", tasks},
              {"batch", batch},
              {"window", window},
              {"payload_bytes", static_cast<long>(make_payload(0, payload_bytes).size())},
              {"submit_seconds", submit_s},
              {"seconds", total_s},
              {"tasks_per_sec", static_cast<double>(tasks) / total_s},
              {"succeeded", check.ok},
              {"failed", check.failed},
              {"mismatched", check.mismatched},
              {"missing", check.missing}});
    return 0;
}

// Sequential round trips: submit one task, then wait for its result, `count` times. By
// default two requests (submit_one, then results with a wait); with --submit-wait 1, one
// (submit_wait).
int latency(const Args& a) {
    const long count = a.num("--count", 2000), warmup = a.num("--warmup", 50);
    const bool one_request = a.num("--submit-wait", 0) != 0;
    const auto payload_bytes = static_cast<std::size_t>(a.num("--payload-bytes", 100));
    Client client(a.str("--address"));
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(count));
    long failed = 0;
    for (long i = -warmup; i < count; ++i) {
        auto t0 = Clock_::now();
        auto spec = echo_task(i, payload_bytes);
        Bytes expect = spec.payload;
        std::vector<TaskResult> res;
        if (one_request) {
            std::vector<TaskSpec> one;
            one.push_back(std::move(spec));
            auto r = client.submit_wait(std::move(one), std::chrono::milliseconds(10'000));
            if (!r) return fail("submit_wait", r.error());
            res = std::move(r.value().results);
        } else {
            auto id = client.submit_one(std::move(spec));
            if (!id) return fail("submit", id.error());
            auto r = client.results({id.value()}, std::chrono::milliseconds(10'000));
            if (!r) return fail("results", r.error());
            res = std::move(r.value().results);
        }
        double elapsed = seconds_since(t0) * 1e6;
        bool good =
            res.size() == 1 && res[0].status == TaskStatus::Success && res[0].result_data == expect;
        if (i < 0) continue;
        if (!good) ++failed;
        us.push_back(elapsed);
    }
    std::sort(us.begin(), us.end());
    double sum = 0;
    for (double v : us)
        sum += v;
    print(Map{{"count", count},
              {"warmup", warmup},
              {"requests_per_round_trip", one_request ? 1 : 2},
              {"p50_us", percentile(us, 50)},
              {"p99_us", percentile(us, 99)},
              {"max_us", us.empty() ? 0.0 : us.back()},
              {"mean_us", us.empty() ? 0.0 : sum / static_cast<double>(us.size())},
              {"failed", failed}});
    return 0;
}

// One batch of `sleep` tasks; wall time from the submit to the last result.
int sleep_tasks(const Args& a) {
    const long tasks = a.num("--tasks", 200);
    const double duration = a.real("--duration", 0.05);
    Client client(a.str("--address"));
    std::vector<TaskSpec> specs;
    for (long i = 0; i < tasks; ++i) {
        TaskSpec t;
        t.task_type = "sleep";
        t.payload = codec::encode_value(Value(Map{{Value("duration"), Value(duration)}}));
        specs.push_back(std::move(t));
    }
    auto t0 = Clock_::now();
    auto ids = client.submit(std::move(specs));
    if (!ids) return fail("submit", ids.error());
    auto r = client.wait_all(ids.value(), kWaitBudget);
    if (!r) return fail("wait_all", r.error());
    double wall = seconds_since(t0);
    long ok = 0;
    std::map<std::string, long> by_device;
    for (const auto& res : r.value()) {
        if (res.status == TaskStatus::Success) ++ok;
        ++by_device[res.device_id];
    }
    Map devices;
    for (const auto& [d, n] : by_device)
        devices.emplace_back(Value(d), Value(n));
    print(Map{{"tasks", tasks},
              {"duration", duration},
              {"seconds", wall},
              {"succeeded", ok},
              {"failed", tasks - ok},
              {"tasks_by_device", Value(std::move(devices))}});
    return 0;
}

// Submit only (no workers are expected): fills the broker's queue for the footprint scenario.
int fill(const Args& a) {
    const long tasks = a.num("--tasks", 1'000'000), batch = std::max(1L, a.num("--batch", 10'000));
    const auto payload_bytes = static_cast<std::size_t>(a.num("--payload-bytes", 16));
    Client client(a.str("--address"));
    std::size_t payload_total = 0;
    auto t0 = Clock_::now();
    for (long n = 0; n < tasks; n += batch) {
        std::vector<TaskSpec> specs;
        for (long k = n; k < std::min(tasks, n + batch); ++k) {
            specs.push_back(echo_task(k, payload_bytes));
            payload_total += specs.back().payload.size();
        }
        auto ids = client.submit(std::move(specs));
        if (!ids) return fail("submit", ids.error());
    }
    double wall = seconds_since(t0);
    print(Map{{"tasks", tasks},
              {"batch", batch},
              {"payload_bytes",
               static_cast<double>(payload_total) / static_cast<double>(std::max(1L, tasks))},
              {"seconds", wall},
              {"submit_tasks_per_sec", static_cast<double>(tasks) / wall}});
    return 0;
}

constexpr const char* kUsage =
    "usage: rc-bench-client COMMAND --address HOST:PORT [options]\n"
    "  throughput --tasks N --batch B --payload-bytes P [--window K]  (K batches in flight; 0 = "
    "all)\n"
    "  latency    --count N [--warmup W] [--payload-bytes P] [--submit-wait 1]\n"
    "  sleep      --tasks N --duration SECONDS\n"
    "  fill       --tasks N --batch B [--payload-bytes P]\n";

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << kUsage;
        return 2;
    }
    Args a;
    a.command = argv[1];
    for (int i = 2; i + 1 < argc; i += 2)
        a.opts[argv[i]] = argv[i + 1];
    if ((argc - 2) % 2 != 0 || a.str("--address").empty()) {
        std::cerr << kUsage;
        return 2;
    }
    try {
        if (a.command == "throughput") return throughput(a);
        if (a.command == "latency") return latency(a);
        if (a.command == "sleep") return sleep_tasks(a);
        if (a.command == "fill") return fill(a);
    } catch (const std::exception& e) {
        std::cerr << "rc-bench-client: " << e.what() << "\n";
        return 1;
    }
    std::cerr << kUsage;
    return 2;
}
