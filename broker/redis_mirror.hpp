// The Redis mirror of the broker's durable state: a thread that writes journal batches
// to Redis in pipelines, and the start-up loader that reads them back. The thread talks
// to the broker loop only over one inproc PAIR socket, so Redis latency never reaches it.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/result.hpp"
#include "store.hpp"

namespace rc::broker {

struct RedisAddress {
    std::string host = "127.0.0.1";
    int port = 6379;
    int db = 0;
};
// redis://HOST[:PORT][/DB]
Result<RedisAddress, std::string> parse_redis_url(const std::string& url);

// Reads every task under `prefix` (see the key schema in redis_mirror.cpp). Blocks; run
// before the broker serves. Records that expired or cannot be decoded are skipped (and
// counted in `skipped`).
Result<std::vector<RecoveredTask>, std::string> load_from_redis(const RedisAddress& addr, const std::string& prefix,
                                                                std::size_t* skipped = nullptr);

class RedisMirror {
public:
    // Starts the mirror thread, which connects a PAIR socket to `inproc_addr` (already
    // bound by the caller). Messages on it: JournalBatch* in (nullptr = stop), MirrorReport*
    // out. Ownership of each pointer passes with the message.
    RedisMirror(zmq::context_t& ctx, RedisAddress addr, std::string prefix, std::string inproc_addr);
    ~RedisMirror(); // the owner sends nullptr first; this joins the thread
    RedisMirror(const RedisMirror&) = delete;
    RedisMirror& operator=(const RedisMirror&) = delete;

private:
    void run(zmq::context_t& ctx, std::string inproc_addr);
    RedisAddress addr_;
    std::string prefix_;
    std::thread thread_;
};

} // namespace rc::broker
