// BrokerConfig: every tunable of the broker core and shell, with its default. The
// defaults are the documented ones (README, docs/scheduling.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "scheduler.hpp"
#include "store.hpp"

namespace rc::broker {

struct BrokerConfig {
    std::string bind = "0.0.0.0";
    int port = 8080; // 0 = ephemeral (tests)
    std::chrono::milliseconds heartbeat{1000}; // floor and default for negotiated intervals
    std::uint32_t liveness = 3;                // missed intervals before a worker is offline
    std::size_t max_message_bytes = 16u << 20;
    std::chrono::seconds result_ttl{3600};
    std::size_t max_results = 1'000'000; // terminal tasks retained
    std::size_t max_queued = 5'000'000;  // admission limit on non-terminal tasks
    std::chrono::milliseconds retry_backoff{1000}; // first retry delay; doubles per attempt
    std::chrono::milliseconds retry_backoff_max{60'000};
    std::size_t drain_budget = 4096; // messages read per loop pass before timers run
    SchedulerConfig scheduler;

    // Durability (docs/durability.md). With `durable`, the core journals every task change
    // and acknowledges SUBMIT only once its tasks are written.
    bool durable = false;
    std::string redis_url;          // redis://HOST:PORT/DB
    std::string redis_prefix = "rc:";
    DegradedPolicy degraded = DegradedPolicy::Refuse; // SUBMIT while the mirror is down
    // How long recovered in-flight tasks wait for their worker to re-register and claim
    // them before they are run again.
    std::chrono::milliseconds recovery_grace{10'000};
};

} // namespace rc::broker
