// retire-cluster-status: read-only views of a broker (cluster overview, device list, one
// device, one task) as text or JSON. It never submits, cancels or changes anything.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <unordered_map>
#include <optional>

#include <boost/program_options.hpp>

#include "cli_support.hpp"
#include "common/json.hpp"

namespace po = boost::program_options;
using namespace rc;
using namespace rc::cli;

namespace {

constexpr std::string_view kProg = "retire-cluster-status";

// "k v, k v" over a map's entries, in the broker's order; with skip_zero, zero counts are left out.
std::string join_counts(const Value* map, bool skip_zero = false) {
    if (!map || !map->is_map()) return "-";
    std::string out;
    for (const auto& [k, v] : map->as_map()) {
        if (skip_zero && v.is_number() && v.as_double() == 0) continue;
        out += (out.empty() ? "" : ", ") + display(k) + ' ' + display(v);
    }
    return out.empty() ? "-" : out;
}

std::string count(const Value& v, std::initializer_list<std::string_view> path) {
    return std::to_string(int_at(v, path));
}

void print_overview(const Value& s, const std::string& endpoint) {
    std::cout << "Retire-Cluster broker " << endpoint << "  (epoch " << count(s, {"broker", "epoch"}) << ", up "
              << format_duration(num_at(s, {"broker", "uptime_seconds"})) << ")\n\n";
    const Value* roles = lookup(s, {"cluster_stats", "devices_by_role"});
    std::string role_text = join_counts(roles);
    Fields f;
    f.emplace_back("Devices", count(s, {"cluster_stats", "online_devices"}) + " online / " +
                                  count(s, {"cluster_stats", "total_devices"}) + " total" +
                                  (role_text == "-" ? "" : "  (" + role_text + ")"));
    f.emplace_back("Slots", count(s, {"cluster_stats", "busy_slots"}) + " busy / " +
                                count(s, {"cluster_stats", "total_slots"}) + " total  (" +
                                fixed(100 * num_at(s, {"cluster_stats", "utilization"}), 1) + "% utilization)");
    f.emplace_back("Tasks", count(s, {"queue_stats", "total_tasks"}) + " total, " +
                                count(s, {"queue_stats", "queued"}) + " queued, " +
                                count(s, {"queue_stats", "active"}) + " active, " +
                                count(s, {"queue_stats", "waiting_retry"}) + " waiting for retry");
    f.emplace_back("  by status", join_counts(lookup(s, {"queue_stats", "by_status"})));
    f.emplace_back("  queued by priority", join_counts(lookup(s, {"queue_stats", "queued_by_priority"})));
    f.emplace_back("  requirement classes", count(s, {"queue_stats", "requirement_classes"}));
    f.emplace_back("Scheduler", "submitted " + count(s, {"scheduler_stats", "submitted"}) + ", dispatched " +
                                    count(s, {"scheduler_stats", "dispatched"}) + ", succeeded " +
                                    count(s, {"scheduler_stats", "succeeded"}) + ", failed " +
                                    count(s, {"scheduler_stats", "failed"}));
    f.emplace_back("", "retried " + count(s, {"scheduler_stats", "retried"}) + ", timed_out " +
                           count(s, {"scheduler_stats", "timed_out"}) + ", cancelled " +
                           count(s, {"scheduler_stats", "cancelled"}) + ", throughput " +
                           fixed(num_at(s, {"scheduler_stats", "throughput_per_sec"}), 1) + "/s");
    auto stale = int_at(s, {"scheduler_stats", "stale_results"});
    auto lost = int_at(s, {"scheduler_stats", "requeued_device_lost"});
    if (stale || lost)
        f.emplace_back("", "stale results " + std::to_string(stale) + ", requeued after device loss " +
                               std::to_string(lost));
    std::string errors = join_counts(lookup(s, {"errors"}), true);
    if (errors != "-") f.emplace_back("Errors", errors);
    print_fields(std::cout, f);

    const Value* loads = lookup(s, {"device_load"});
    std::cout << '\n';
    if (!loads || !loads->is_array() || loads->as_array().empty()) {
        std::cout << "No devices online.\n";
        return;
    }
    std::vector<const Value*> rows;
    for (const auto& d : loads->as_array()) rows.push_back(&d);
    std::sort(rows.begin(), rows.end(),
              [](const Value* a, const Value* b) { return str_at(*a, {"device_id"}) < str_at(*b, {"device_id"}); });
    Table t({"DEVICE", "RUNNING/SLOTS", "LOAD_AVG"});
    for (const Value* d : rows)
        t.add_row({str_at(*d, {"device_id"}), count(*d, {"running"}) + "/" + count(*d, {"slots"}),
                   fixed(num_at(*d, {"load_avg"}), 2)});
    t.print(std::cout);
}

std::string last_seen(const Value& d) {
    double ago = num_at(d, {"last_seen_ago"}, -1);
    return ago < 0 ? "never" : format_duration(ago) + " ago";
}

std::string status_text(const Value& d) {
    std::string status = str_at(d, {"status"}, "?");
    std::string why = str_at(d, {"drop_reason"});
    if (status != "online" && !why.empty() && why != "none") status += " (" + why + ")";
    return status;
}

void print_devices(const Value& list) {
    if (!list.is_array() || list.as_array().empty()) {
        std::cout << "No devices.\n";
        return;
    }
    std::vector<const Value*> rows;
    for (const auto& d : list.as_array()) rows.push_back(&d);
    std::sort(rows.begin(), rows.end(),
              [](const Value* a, const Value* b) { return str_at(*a, {"device_id"}) < str_at(*b, {"device_id"}); });
    Table t({"DEVICE", "STATUS", "ROLE", "PLATFORM", "CPU", "MEM_GB", "SLOTS", "RUNNING", "HANDLERS", "LAST_SEEN"});
    for (const Value* d : rows) {
        const Value* hs = lookup(*d, {"handlers"});
        t.add_row({str_at(*d, {"device_id"}), status_text(*d), str_at(*d, {"role"}, "-"),
                   str_at(*d, {"capabilities", "platform"}, "-"), count(*d, {"capabilities", "cpu_cores"}),
                   fixed(num_at(*d, {"capabilities", "memory_gb"}), 1), count(*d, {"slots"}),
                   count(*d, {"running"}),
                   std::to_string(hs && hs->is_array() ? hs->as_array().size() : 0), last_seen(*d)});
    }
    t.print(std::cout);
    std::cout << rows.size() << " device(s)\n";
}

// Every entry of a map as fields, for sections whose keys we do not need to know.
Fields map_fields(const Value* m) {
    Fields f;
    if (!m || !m->is_map()) return f;
    for (const auto& [k, v] : m->as_map()) f.emplace_back(display(k), display(v));
    return f;
}

void print_device(const Value& d) {
    Fields f{{"Device", str_at(d, {"device_id"})},
             {"Status", status_text(d)},
             {"Role", str_at(d, {"role"}, "-")},
             {"Slots", count(d, {"running"}) + " running / " + count(d, {"slots"}) + " slots (load " +
                           fixed(num_at(d, {"load"}), 2) + ")"},
             {"Completed", count(d, {"completed"})},
             {"Failed", count(d, {"failed"})},
             {"Heartbeat", count(d, {"heartbeat_ms"}) + " ms"},
             {"Registered", format_time_ago(num_at(d, {"registered_at"}))},
             {"Last seen", format_time(num_at(d, {"last_seen"})) + " (" + last_seen(d) + ")"}};
    print_fields(std::cout, f);
    std::cout << "\nCapabilities:\n";
    print_fields(std::cout, map_fields(lookup(d, {"capabilities"})), "  ");
    const Value* metrics = lookup(d, {"metrics"});
    if (metrics && metrics->is_map()) {
        std::cout << "\nMetrics (last heartbeat):\n";
        print_fields(std::cout, map_fields(metrics), "  ");
    } else {
        std::cout << "\nMetrics: none reported\n";
    }
    const Value* hs = lookup(d, {"handlers"});
    std::size_t n = hs && hs->is_array() ? hs->as_array().size() : 0;
    std::cout << "\nHandlers (" << n << "):\n";
    if (n)
        for (const auto& h : hs->as_array()) std::cout << "  " << display(h) << '\n';
}

// Results of many tasks, ids read from `path` ("-" = stdin), one per line: a JSON array
// of result maps (null for tasks not finished or unknown) in the order of the file.
int show_results(Client& client, const std::string& path) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (path != "-") {
        file.open(path);
        if (!file) {
            std::cerr << kProg << ": cannot read " << path << '\n';
            return kExitUsage;
        }
        in = &file;
    }
    std::vector<TaskId> ids;
    for (std::string line; std::getline(*in, line);)
        if (!line.empty()) ids.emplace_back(line);
    std::unordered_map<std::string, TaskResult> found;
    constexpr std::size_t kChunk = 5000;
    for (std::size_t i = 0; i < ids.size(); i += kChunk) {
        std::vector<TaskId> chunk(ids.begin() + static_cast<std::ptrdiff_t>(i),
                                  ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + kChunk)));
        auto r = client.results(chunk);
        if (!r) return report(kProg, r.error());
        for (auto& res : r.value().results) found.emplace(res.task_id.value, std::move(res));
    }
    Array out;
    out.reserve(ids.size());
    for (const auto& id : ids) {
        auto it = found.find(id.value);
        out.push_back(it == found.end() ? Value{} : result_to_value(it->second));
    }
    print_json(Value(std::move(out)));
    return kExitOk;
}

int show_task(Client& client, const std::string& id, bool as_json) {
    auto info = client.status(TaskId(id));
    if (!info) return report(kProg, info.error());
    const auto& t = info.value();
    std::optional<TaskResult> result;
    bool expired = false;
    if (is_terminal(t.status)) {
        auto r = client.results({t.task_id});
        if (!r) return report(kProg, r.error());
        if (!r.value().results.empty()) result = std::move(r.value().results.front());
        else expired = true;
    }
    if (as_json) {
        Value out;
        out.set("task", task_info_to_value(t));
        out.set("result", result ? result_to_value(*result) : Value{});
        print_json(out);
        return kExitOk;
    }
    Fields f{{"Task", t.task_id.value},
             {"Type", t.task_type},
             {"Status", std::string(to_string(t.status))},
             {"Priority", std::string(to_string(t.priority))},
             {"Attempts", std::to_string(t.attempts)},
             {"Device", t.device_id.empty() ? "-" : t.device_id},
             {"Created", format_time_ago(t.created_at)},
             {"Updated", format_time_ago(t.updated_at)}};
    bool waiting = t.status == TaskStatus::Queued || t.status == TaskStatus::Pending;
    if (!waiting && !t.reason.empty()) f.emplace_back("Reason", t.reason);
    if (result) {
        auto rf = result_fields(*result);
        f.insert(f.end(), rf.begin(), rf.end());
    }
    print_fields(std::cout, f);
    if (waiting)
        std::cout << "\nWaiting because: " << (t.reason.empty() ? "(no reason given by the broker)" : t.reason)
                  << '\n';
    if (expired) std::cout << "\nThe result is no longer retained by the broker.\n";
    if (result) print_attempt_errors(std::cout, *result);
    return kExitOk;
}

} // namespace

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    std::string host, device, role, task;
    std::int64_t timeout_ms = 10'000;
    bool devices = false, all = false, as_json = false;
    std::string results_file;
    po::options_description opts(
        "retire-cluster-status: show a Retire-Cluster broker's devices, tasks and statistics\n\n"
        "Usage: retire-cluster-status HOST[:PORT] [options]   (default port 8080)\n\nOptions",
        100, 50);
    opts.add_options()
        ("help,h", "show this help")
        ("devices", po::bool_switch(&devices), "list devices instead of the cluster overview")
        ("device", po::value(&device)->value_name("ID"), "show one device in detail (capabilities, metrics, handlers)")
        ("role", po::value(&role)->value_name("R"), "list only devices with role R (implies --devices)")
        ("all", po::bool_switch(&all), "include offline devices in the list (implies --devices)")
        ("task", po::value(&task)->value_name("ID"), "show a task's status, why it waits, and its result if finished")
        ("results", po::value(&results_file)->value_name("FILE"),
         "print the results of the task ids in FILE (one per line, - for stdin) as a JSON array")
        ("json", po::bool_switch(&as_json), "print the broker's raw answer as pretty JSON")
        ("timeout-ms", po::value(&timeout_ms)->value_name("N")->default_value(timeout_ms),
         "give up on the broker after N milliseconds");
    po::options_description hidden;
    hidden.add_options()("host", po::value(&host), "broker address");
    po::options_description all_opts;
    all_opts.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("host", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all_opts).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << kProg << ": " << e.what() << "\n(try --help)\n";
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << opts
                  << "\nExamples:\n"
                     "  retire-cluster-status 192.168.1.100            cluster overview\n"
                     "  retire-cluster-status 192.168.1.100:8080 --devices --all\n"
                     "  retire-cluster-status pi-main --role compute\n"
                     "  retire-cluster-status pi-main --device phone-1\n"
                     "  retire-cluster-status pi-main --task 3f2a9c1e-... --json\n"
                     "\nExit codes: 0 ok, 1 broker error or unreachable, 2 usage error\n";
        return kExitOk;
    }
    if (host.empty()) {
        std::cerr << kProg << ": missing HOST[:PORT] (try --help)\n";
        return kExitUsage;
    }
    const bool list = devices || all || !role.empty();
    if (int(list) + int(!device.empty()) + int(!task.empty()) > 1) {
        std::cerr << kProg << ": choose one of --devices/--role/--all, --device and --task\n";
        return kExitUsage;
    }
    auto client = make_client(host, timeout_ms);
    if (!client) {
        std::cerr << kProg << ": " << client.error() << '\n';
        return kExitUsage;
    }
    Client& c = client.value();

    if (!task.empty()) return show_task(c, task, as_json);
    if (!results_file.empty()) return show_results(c, results_file);
    if (!device.empty()) {
        auto d = c.device(DeviceId(device));
        if (!d) return report(kProg, d.error());
        if (as_json) print_json(d.value());
        else print_device(d.value());
        return kExitOk;
    }
    if (list) {
        auto d = c.devices(role, all);
        if (!d) return report(kProg, d.error());
        if (as_json) print_json(d.value());
        else print_devices(d.value());
        return kExitOk;
    }
    auto s = c.stats();
    if (!s) return report(kProg, s.error());
    if (as_json) print_json(s.value());
    else print_overview(s.value(), c.endpoint());
    return kExitOk;
}
