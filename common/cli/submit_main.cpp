// retire-cluster-submit: builds TaskSpecs from the command line, submits them in batches and
// optionally waits for their results. Arguments are checked before anything is sent.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>

#include <boost/program_options.hpp>

#include "cli_support.hpp"
#include "common/codec.hpp"
#include "common/json.hpp"

namespace po = boost::program_options;
using namespace rc;
using namespace rc::cli;

namespace {

constexpr std::string_view kProg = "retire-cluster-submit";

struct Args {
    std::string host, type, payload = "{}", priority = "normal", task_id, metadata;
    std::vector<std::string> require;
    std::optional<double> timeout;
    std::optional<int> retries;
    std::int64_t count = 1, batch_size = 5000, timeout_ms = 10'000;
    double wait_timeout = 600;
    bool wait = false, strict = false, as_json = false;
};

int usage_error(const std::string& message) {
    std::cerr << kProg << ": " << message << '\n';
    return kExitUsage;
}

// Builds the task every copy is made from; errors are usage errors.
Result<TaskSpec, std::string> build_spec(const Args& a) {
    TaskSpec spec;
    spec.task_type = a.type;
    spec.task_id = TaskId(a.task_id);
    auto payload = json::parse(a.payload);
    if (!payload) return err("--payload is not valid JSON: " + payload.error());
    spec.payload = codec::encode_value(payload.value());
    if (!a.metadata.empty()) {
        auto meta = json::parse(a.metadata);
        if (!meta) return err("--metadata is not valid JSON: " + meta.error());
        if (!meta.value().is_map()) return err(std::string("--metadata must be a JSON object"));
        spec.metadata = codec::encode_value(meta.value());
    }
    auto prio = parse_priority(a.priority);
    if (!prio) return err("--priority must be low, normal, high or urgent, not '" + a.priority + "'");
    spec.priority = *prio;
    if (auto s = apply_requirements(spec.requirements, a.require); !s) return err(s.error());
    if (a.timeout) spec.requirements.timeout_seconds = *a.timeout;
    if (a.retries) spec.requirements.max_retries = *a.retries;
    if (auto v = validate(spec); !v) return err(v.error().message);
    return spec;
}

void print_ids(const std::vector<TaskId>& ids, bool as_json) {
    if (as_json) {
        Array arr;
        arr.reserve(ids.size());
        for (const auto& id : ids) arr.emplace_back(id.value);
        print_json(Value(std::move(arr)));
        return;
    }
    std::string out;
    out.reserve(ids.size() * 37);
    for (const auto& id : ids) (out += id.value) += '\n';
    std::cout.write(out.data(), static_cast<std::streamsize>(out.size()));
    std::cout.flush();
}

// Submits `count` copies of `spec` in batches. On a broker error the ids accepted so far are
// printed, so they can still be tracked, and the error is returned.
Result<std::vector<TaskId>, ClientError> submit_all(Client& client, const TaskSpec& spec, const Args& a) {
    std::vector<TaskId> ids;
    ids.reserve(static_cast<std::size_t>(a.count));
    std::int64_t left = a.count;
    while (left > 0) {
        auto n = std::min(left, a.batch_size);
        std::vector<TaskSpec> batch(static_cast<std::size_t>(n), spec);
        auto r = client.submit(std::move(batch), a.strict);
        if (!r) {
            if (!ids.empty()) {
                std::cerr << kProg << ": " << ids.size() << " of " << a.count
                          << " tasks were accepted before the error; their ids follow\n";
                print_ids(ids, a.as_json);
            }
            if (r.error().kind == ClientError::Kind::Broker && r.error().code == proto::ErrorCode::TooLarge)
                std::cerr << kProg << ": hint: a smaller --batch-size keeps each request under the broker's limit\n";
            return err(r.error());
        }
        for (auto& id : r.value()) ids.push_back(std::move(id));
        left -= n;
    }
    return ids;
}

void print_one(Client& client, const TaskId& id, const std::vector<TaskResult>& results, double wait_s) {
    if (results.empty()) {
        std::cout << "Task " << id.value << " did not finish within " << format_duration(wait_s) << '\n';
        if (auto info = client.status(id); info) {
            std::cout << "Status: " << to_string(info.value().status) << '\n';
            if (!info.value().reason.empty())
                std::cout << (info.value().status == TaskStatus::Queued ? "Waiting because: " : "Reason: ")
                          << info.value().reason << '\n';
        }
        return;
    }
    const auto& r = results.front();
    Fields f{{"Task", r.task_id.value},
             {"Status", std::string(to_string(r.status))},
             {"Device", r.device_id.empty() ? "-" : r.device_id},
             {"Attempts", std::to_string(r.attempts)}};
    auto rf = result_fields(r);
    f.insert(f.end(), rf.begin(), rf.end());
    print_fields(std::cout, f);
    print_attempt_errors(std::cout, r);
}

// Prints the outcome of many tasks; the summary goes to stderr when stdout carries JSON.
void print_many(const std::vector<TaskResult>& results, std::size_t total, bool as_json) {
    std::size_t by[kTaskStatusCount] = {};
    for (const auto& r : results) ++by[static_cast<std::size_t>(r.status)];
    std::string summary = std::to_string(total) + " tasks: " +
                          std::to_string(by[static_cast<int>(TaskStatus::Success)]) + " success, " +
                          std::to_string(by[static_cast<int>(TaskStatus::Failed)]) + " failed, " +
                          std::to_string(by[static_cast<int>(TaskStatus::Timeout)]) + " timeout, " +
                          std::to_string(by[static_cast<int>(TaskStatus::Cancelled)]) + " cancelled, " +
                          std::to_string(total - results.size()) + " unfinished\n";
    if (as_json) {
        std::cerr << summary;
        return;
    }
    std::cout << summary;
    int shown = 0;
    for (const auto& r : results) {
        if (r.status == TaskStatus::Success) continue;
        if (++shown > 10) {
            std::cout << "  ... more tasks did not succeed (use --json for every result)\n";
            break;
        }
        std::cout << "  " << r.task_id.value << ' ' << to_string(r.status);
        if (!r.device_id.empty()) std::cout << " on " << r.device_id;
        if (!r.error_message.empty()) std::cout << ": " << r.error_message;
        std::cout << '\n';
    }
}

int wait_and_print(Client& client, const std::vector<TaskId>& ids, const Args& a) {
    auto timeout = std::chrono::milliseconds(std::llround(a.wait_timeout * 1000));
    auto waited = client.wait_all(ids, timeout);
    if (!waited) return report(kProg, waited.error());
    const auto& results = waited.value();
    if (a.as_json) {
        Array arr;
        arr.reserve(results.size());
        for (const auto& r : results) arr.push_back(result_to_value(r));
        print_json(Value(std::move(arr)));
        if (ids.size() > 1) print_many(results, ids.size(), true);
    } else if (ids.size() == 1) {
        print_one(client, ids.front(), results, a.wait_timeout);
    } else {
        print_many(results, ids.size(), false);
    }
    std::size_t missing = ids.size() - results.size();
    if (missing && (a.as_json || ids.size() > 1)) // a single task's block already says so
        std::cerr << kProg << ": " << missing << " of " << ids.size() << " task(s) did not finish within "
                  << format_duration(a.wait_timeout) << '\n';
    bool all_ok = missing == 0 && std::all_of(results.begin(), results.end(), [](const TaskResult& r) {
                      return r.status == TaskStatus::Success;
                  });
    return all_ok ? kExitOk : kExitIncomplete;
}

const char* kExamples =
    "\nExamples:\n"
    "  retire-cluster-submit 192.168.1.100 --type echo --payload '{\"message\": \"hello\"}' --wait\n"
    "  retire-cluster-submit pi-main:8080 --type compute --priority high --require min_memory_gb=2 \\\n"
    "      --require required_tags=ssd,arm --timeout 60 --retries 1\n"
    "  retire-cluster-submit pi-main --type sleep --payload '{\"seconds\": 1}' --count 10000 --wait --json\n"
    "\nExit codes: 0 ok (with --wait: every task succeeded), 1 broker error or unreachable,\n"
    "2 usage error, 3 (with --wait) a task failed, timed out, was cancelled or did not finish in time\n";

} // namespace

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    Args a;
    po::options_description opts(
        "retire-cluster-submit: submit tasks to a Retire-Cluster broker\n\n"
        "Usage: retire-cluster-submit HOST[:PORT] --type T [options]   (default port 8080)\n\nOptions",
        100, 50);
    opts.add_options()
        ("help,h", "show this help")
        ("type", po::value(&a.type)->value_name("T"), "task type (handler name), required")
        ("payload", po::value(&a.payload)->value_name("JSON")->default_value(a.payload), "task payload as JSON")
        ("priority", po::value(&a.priority)->value_name("P")->default_value(a.priority), "low, normal, high or urgent")
        ("timeout", po::value<double>()->value_name("S"), "seconds an attempt may run (requirements.timeout_seconds)")
        ("retries", po::value<int>()->value_name("N"), "retries after a failed attempt (requirements.max_retries)")
        ("require", po::value(&a.require)->value_name("KEY=VALUE")->composing(),
         "device requirement, repeatable: min_cpu_cores, min_memory_gb, min_storage_gb, gpu_required, "
         "internet_required, required_platform, required_role, required_tags (a,b), timeout_seconds, max_retries")
        ("count", po::value(&a.count)->value_name("N")->default_value(a.count), "submit N copies (ids chosen by the broker)")
        ("task-id", po::value(&a.task_id)->value_name("ID"), "use this task id (only with --count 1)")
        ("metadata", po::value(&a.metadata)->value_name("JSON"), "task metadata as a JSON object")
        ("wait", po::bool_switch(&a.wait), "wait for the results and print them")
        ("wait-timeout", po::value(&a.wait_timeout)->value_name("S")->default_value(a.wait_timeout),
         "give up waiting after S seconds")
        ("strict", po::bool_switch(&a.strict), "refuse task types that no online device advertises")
        ("json", po::bool_switch(&a.as_json), "print ids or results as a JSON array")
        ("batch-size", po::value(&a.batch_size)->value_name("B")->default_value(a.batch_size),
         "tasks per SUBMIT request when --count is large")
        ("timeout-ms", po::value(&a.timeout_ms)->value_name("N")->default_value(a.timeout_ms),
         "give up on an unanswered request after N milliseconds");
    po::options_description hidden;
    hidden.add_options()("host", po::value(&a.host), "broker address");
    po::options_description all_opts;
    all_opts.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("host", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all_opts).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        return usage_error(std::string(e.what()) + "\n(try --help)");
    }
    if (vm.count("help")) {
        std::cout << opts << kExamples;
        return kExitOk;
    }
    if (vm.count("timeout")) a.timeout = vm["timeout"].as<double>();
    if (vm.count("retries")) a.retries = vm["retries"].as<int>();
    if (a.host.empty()) return usage_error("missing HOST[:PORT] (try --help)");
    if (a.type.empty()) return usage_error("--type is required (try --help)");
    if (a.count < 1) return usage_error("--count must be at least 1");
    if (a.batch_size < 1) return usage_error("--batch-size must be at least 1");
    if (!(a.wait_timeout > 0) || a.wait_timeout > 1e9) return usage_error("--wait-timeout must be positive");
    if (!a.task_id.empty() && a.count > 1) return usage_error("--task-id cannot be combined with --count > 1");
    auto spec = build_spec(a);
    if (!spec) return usage_error(spec.error());
    auto client = make_client(a.host, a.timeout_ms);
    if (!client) return usage_error(client.error());

    auto ids = submit_all(client.value(), spec.value(), a);
    if (!ids) return report(kProg, ids.error());
    if (!a.wait) {
        print_ids(ids.value(), a.as_json);
        return kExitOk;
    }
    return wait_and_print(client.value(), ids.value(), a);
}
