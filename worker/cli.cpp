// The worker's command line: options -> WorkerConfig -> Worker::run(). Shared by
// retire-cluster-worker and by programs that add their own handlers (see cli.hpp).
// SIGINT and SIGTERM stop it cleanly: running tasks are asked to stop, the broker is told.
#include <csignal>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "cli.hpp"
#include "common/log.hpp"
#include "worker.hpp"

namespace po = boost::program_options;

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::vector<std::string> split_tags(const std::vector<std::string>& raw) {
    std::vector<std::string> out;
    for (const auto& r : raw) {
        std::stringstream ss(r);
        std::string t;
        while (std::getline(ss, t, ','))
            if (!t.empty()) out.push_back(t);
    }
    return out;
}
} // namespace

namespace rc::worker {

int run_worker_cli(int argc, char** argv, const std::function<void(HandlerRegistry&)>& add_handlers) {
    rc::worker::WorkerConfig cfg;
    std::string log_level = "info";
    std::vector<std::string> tags;
    long heartbeat_ms = cfg.heartbeat.count();
    bool no_internet_check = false, no_http = false, no_python = false;
    po::options_description opts(
        "retire-cluster-worker: run tasks for a Retire-Cluster broker on this device\n\nOptions");
    opts.add_options()
        ("help,h", "show this help")
        ("join,j", po::value(&cfg.join)->required(), "broker address HOST[:PORT] (port 8080 by default)")
        ("device-id", po::value(&cfg.device_id), "stable device id (default: derived from the host)")
        ("role", po::value(&cfg.role), "worker|compute|storage|mobile (default: mobile on Android, else worker)")
        ("tags", po::value(&tags)->composing(), "comma-separated device tags (repeatable)")
        ("slots", po::value(&cfg.slots)->default_value(0), "tasks run at once (default 0 = CPU cores)")
        ("prefetch", po::value(&cfg.prefetch)->default_value(0),
         "tasks to hold in a local queue beyond --slots, so short tasks never wait for a round trip "
         "(a queued task's timeout starts when it starts)")
        ("heartbeat-ms", po::value(&heartbeat_ms)->default_value(heartbeat_ms), "proposed heartbeat interval")
        ("log-level", po::value(&log_level)->default_value(log_level), "debug|info|warning|error")
        ("storage-path", po::value(&cfg.storage_path)->default_value(cfg.storage_path), "filesystem reported as storage")
        ("no-internet-check", po::bool_switch(&no_internet_check), "skip the start-up internet probe (reports no internet)")
        ("no-http", po::bool_switch(&no_http), "disable the http_request task type")
        ("allow-private-network", po::bool_switch(&cfg.outside.allow_private_network),
         "let http_request reach loopback and private addresses")
        ("allow-link-local", po::bool_switch(&cfg.outside.allow_link_local),
         "let http_request reach link-local addresses, including cloud metadata (169.254.169.254)")
        ("no-python", po::bool_switch(&no_python), "disable the python_eval task type")
        ("python", po::value(&cfg.outside.python_path), "Python interpreter for python_eval (default: python3 on PATH)")
        ("allow-command", po::value(&cfg.outside.allowed_programs)->composing(),
         "enable the command task type for this program (repeatable)")
        ("allow-shell", po::bool_switch(&cfg.outside.allow_shell), "let command tasks use shell syntax (dangerous)")
        ("command-workdir", po::value(&cfg.outside.command_workdir), "working directory for command tasks");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
        if (vm.count("help")) {
            std::cout << opts << "\n" << rc::worker::outside_handlers_help() << "\n";
            return 0;
        }
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "retire-cluster-worker: " << e.what() << "\n\n" << opts << "\n";
        return 2;
    }
    auto level = rc::log::parse_level(log_level);
    if (!level || heartbeat_ms < 10 || heartbeat_ms > 60000 || cfg.slots > 4096) {
        std::cerr << "retire-cluster-worker: --log-level must be debug|info|warning|error, "
                     "--heartbeat-ms 10..60000, --slots 0..4096\n";
        return 2;
    }
    rc::log::set_level(*level);
    cfg.heartbeat = std::chrono::milliseconds(heartbeat_ms);
    cfg.tags = split_tags(tags);
    cfg.check_internet = !no_internet_check;
    cfg.outside.http_enabled = !no_http;
    cfg.outside.python_eval_enabled = !no_python;

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    try {
        rc::worker::Worker worker(cfg);
        if (add_handlers) add_handlers(worker.handlers());
        std::cout << "retire-cluster-worker " << worker.device_id() << " joining " << cfg.join << std::endl;
        worker.run(&g_stop);
    } catch (const std::exception& e) {
        RC_ERROR("worker", e.what());
        return 1;
    }
    return 0;
}

} // namespace rc::worker
