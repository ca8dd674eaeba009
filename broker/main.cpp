// retire-cluster-main: command-line options -> BrokerConfig -> BrokerServer::run().
// SIGINT and SIGTERM request a clean shutdown (workers are told with DISCONNECT).
#include <csignal>
#include <iostream>

#include <boost/program_options.hpp>

#include "common/log.hpp"
#include "server.hpp"

namespace po = boost::program_options;

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }
} // namespace

int main(int argc, char** argv) {
    rc::broker::BrokerConfig cfg;
    std::string log_level = "info";
    long heartbeat_ms = cfg.heartbeat.count(), backoff_ms = cfg.retry_backoff.count();
    long result_ttl = cfg.result_ttl.count();
    bool no_affinity = false;
    std::string degraded = "refuse";
    long recovery_ms = cfg.recovery_grace.count();
    po::options_description opts("retire-cluster-main: the Retire-Cluster broker (main node)\n\nOptions");
    opts.add_options()
        ("help,h", "show this help")
        ("port,p", po::value(&cfg.port)->default_value(cfg.port), "TCP port for workers and clients (0 = any free port)")
        ("bind", po::value(&cfg.bind)->default_value(cfg.bind), "address to bind")
        ("log-level", po::value(&log_level)->default_value(log_level), "debug|info|warning|error")
        ("heartbeat-ms", po::value(&heartbeat_ms)->default_value(heartbeat_ms),
         "heartbeat interval floor; workers may negotiate a longer one")
        ("liveness", po::value(&cfg.liveness)->default_value(cfg.liveness),
         "missed heartbeat intervals before a device goes offline")
        ("max-message-bytes", po::value(&cfg.max_message_bytes)->default_value(cfg.max_message_bytes),
         "largest message accepted; larger ones get a too_large error")
        ("result-ttl", po::value(&result_ttl)->default_value(result_ttl), "seconds a finished task's result is kept")
        ("max-results", po::value(&cfg.max_results)->default_value(cfg.max_results), "finished tasks kept at most")
        ("max-queued", po::value(&cfg.max_queued)->default_value(cfg.max_queued), "unfinished tasks accepted at most")
        ("retry-backoff-ms", po::value(&backoff_ms)->default_value(backoff_ms),
         "delay before the first retry; doubles per attempt up to 60 s")
        ("redis", po::value(&cfg.redis_url), "mirror tasks and results to Redis (redis://HOST:PORT/DB) "
                                              "so that a restart loses no accepted task")
        ("redis-prefix", po::value(&cfg.redis_prefix)->default_value(cfg.redis_prefix), "prefix of every Redis key")
        ("redis-degraded", po::value(&degraded)->default_value(degraded),
         "refuse|accept: what SUBMIT does while Redis is unreachable (accept = not durable)")
        ("recovery-grace-ms", po::value(&recovery_ms)->default_value(recovery_ms),
         "after a restart with --redis: how long tasks that were running wait for their worker to claim them")
        ("no-affinity", po::bool_switch(&no_affinity), "do not prefer the device that last ran a task type")
        ("affinity-slack", po::value(&cfg.scheduler.affinity_slack)->default_value(cfg.scheduler.affinity_slack),
         "how much busier (in load ratio) the affinity device may be than the best one");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "retire-cluster-main: " << e.what() << "\n" << opts << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return 0;
    }
    auto level = rc::log::parse_level(log_level);
    if (!level) {
        std::cerr << "retire-cluster-main: --log-level must be debug, info, warning or error\n";
        return 2;
    }
    if (heartbeat_ms < 10 || heartbeat_ms > 60000 || cfg.liveness < 2 || cfg.port < 0 || cfg.port > 65535 ||
        backoff_ms < 0 || result_ttl < 1) {
        std::cerr << "retire-cluster-main: --heartbeat-ms must be 10..60000, --liveness >= 2, "
                     "--port 0..65535, --result-ttl >= 1\n";
        return 2;
    }
    rc::log::set_level(*level);
    cfg.heartbeat = std::chrono::milliseconds(heartbeat_ms);
    cfg.retry_backoff = std::chrono::milliseconds(backoff_ms);
    cfg.result_ttl = std::chrono::seconds(result_ttl);
    cfg.scheduler.affinity = !no_affinity;
    cfg.durable = !cfg.redis_url.empty();
    cfg.recovery_grace = std::chrono::milliseconds(std::max(0L, recovery_ms));
    if (degraded != "refuse" && degraded != "accept") {
        std::cerr << "retire-cluster-main: --redis-degraded must be refuse or accept\n";
        return 2;
    }
    cfg.degraded = degraded == "accept" ? rc::broker::DegradedPolicy::Accept : rc::broker::DegradedPolicy::Refuse;

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    try {
        rc::broker::BrokerServer server(cfg);
        std::cout << "retire-cluster-main listening on " << server.endpoint() << std::endl;
        server.run(&g_stop);
    } catch (const std::exception& e) {
        RC_ERROR("broker", e.what());
        return 1;
    }
    return 0;
}
