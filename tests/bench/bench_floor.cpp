// rc-bench-floor: the floor for scripts/bench. The real message path (client -> broker ->
// worker -> broker -> client, four frames each way) relayed by plain cppzmq threads over TCP
// on 127.0.0.1, with no codec, no scheduling and no state. Uses no project code.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

using Clock_ = std::chrono::steady_clock;

namespace {

// The command codes of docs/protocol.md that this relay imitates.
constexpr char kReady = 0x01, kResult = 0x03, kDisconnect = 0x04, kTask = 0x12, kSubmit = 0x21;
constexpr char kStop = 0x7F; // floor-only: the client ends the run
constexpr int kWorkers = 2;

zmq::message_t frame(std::string_view s) {
    return zmq::message_t(s.data(), s.size());
}

// Each thread owns a context (one I/O thread each), as separate processes would.
void broker_main(std::string* endpoint, std::atomic<int>* registered, std::atomic<bool>* bound) {
    zmq::context_t ctx(1);
    zmq::socket_t router(ctx, zmq::socket_type::router);
    router.set(zmq::sockopt::router_mandatory, 1);
    router.set(zmq::sockopt::sndhwm, 0);
    router.set(zmq::sockopt::rcvhwm, 0);
    router.set(zmq::sockopt::linger, 1000);
    router.bind("tcp://127.0.0.1:*");
    *endpoint = router.get(zmq::sockopt::last_endpoint);
    bound->store(true);
    std::vector<std::string> workers;
    std::string client;
    std::size_t next = 0;
    for (;;) {
        std::vector<zmq::message_t> in;
        if (!zmq::recv_multipart(router, std::back_inserter(in))) continue;
        if (in.size() != 5 || in[3].size() != 1) continue; // [rid][""][header][cmd][body]
        const char cmd = *static_cast<const char*>(in[3].data());
        std::string_view header = in[2].to_string_view();
        std::vector<zmq::message_t> out;
        if (header == "RCW1" && cmd == kReady) {
            workers.emplace_back(in[0].to_string());
            registered->fetch_add(1);
            continue;
        }
        if (header == "RCW1" && cmd == kResult) {
            out.push_back(frame(client));
            out.push_back(zmq::message_t());
            out.push_back(frame("RCC1"));
            out.push_back(frame(std::string_view(&kSubmit, 1)));
            out.push_back(std::move(in[4]));
            zmq::send_multipart(router, out);
            continue;
        }
        if (header != "RCC1") continue;
        if (cmd == kStop) {
            for (const auto& w : workers) {
                out.clear();
                out.push_back(frame(w));
                out.push_back(zmq::message_t());
                out.push_back(frame("RCW1"));
                out.push_back(frame(std::string_view(&kDisconnect, 1)));
                out.push_back(frame("\x80"));
                zmq::send_multipart(router, out);
            }
            return;
        }
        if (workers.empty()) continue;
        client = in[0].to_string();
        out.push_back(frame(workers[next++ % workers.size()])); // round-robin, nothing else
        out.push_back(zmq::message_t());
        out.push_back(frame("RCW1"));
        out.push_back(frame(std::string_view(&kTask, 1)));
        out.push_back(std::move(in[4]));
        zmq::send_multipart(router, out);
    }
}

void worker_main(std::string endpoint) {
    zmq::context_t ctx(1);
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::sndhwm, 100000);
    dealer.set(zmq::sockopt::rcvhwm, 100000);
    dealer.connect(endpoint);
    std::vector<zmq::message_t> ready;
    ready.push_back(zmq::message_t());
    ready.push_back(frame("RCW1"));
    ready.push_back(frame(std::string_view(&kReady, 1)));
    ready.push_back(frame("\x80"));
    zmq::send_multipart(dealer, ready);
    for (;;) {
        std::vector<zmq::message_t> in;
        if (!zmq::recv_multipart(dealer, std::back_inserter(in))) continue;
        if (in.size() != 4 || in[2].size() != 1) continue;
        if (*static_cast<const char*>(in[2].data()) == kDisconnect) return;
        std::vector<zmq::message_t> out;
        out.push_back(zmq::message_t());
        out.push_back(frame("RCW1"));
        out.push_back(frame(std::string_view(&kResult, 1)));
        out.push_back(std::move(in[3])); // echo
        zmq::send_multipart(dealer, out);
    }
}

class FloorClient {
public:
    FloorClient(const std::string& endpoint, std::size_t body_bytes)
        : ctx_(1), sock_(ctx_, zmq::socket_type::dealer), body_(body_bytes, 'x') {
        sock_.set(zmq::sockopt::linger, 1000);
        sock_.set(zmq::sockopt::sndhwm, 0);
        sock_.set(zmq::sockopt::rcvhwm, 0);
        sock_.connect(endpoint);
    }
    void send(char cmd = kSubmit) {
        std::vector<zmq::message_t> out;
        out.push_back(zmq::message_t());
        out.push_back(frame("RCC1"));
        out.push_back(frame(std::string_view(&cmd, 1)));
        out.push_back(frame(body_));
        zmq::send_multipart(sock_, out);
    }
    // Receives one reply; false when it is not the echoed body.
    bool recv() {
        std::vector<zmq::message_t> in;
        (void)zmq::recv_multipart(sock_, std::back_inserter(in));
        return in.size() == 4 && in[3].to_string_view() == body_;
    }

private:
    zmq::context_t ctx_;
    zmq::socket_t sock_;
    std::string body_;
};

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

long arg(const std::map<std::string, std::string>& opts, const std::string& name, long def) {
    auto it = opts.find(name);
    return it == opts.end() ? def : std::stol(it->second);
}

// Same shape as rc-bench-client throughput: batches of B, at most K batches in flight
// (K = 0: send everything, then receive everything).
void run_throughput(FloorClient& c, long tasks, long batch, long window, long body) {
    long sent = 0, received = 0, bad = 0;
    auto t0 = Clock_::now();
    while (sent < tasks) {
        long n = std::min(batch, tasks - sent);
        for (long i = 0; i < n; ++i)
            c.send();
        sent += n;
        while (window > 0 && sent - received > window * batch) {
            bad += c.recv() ? 0 : 1;
            ++received;
        }
    }
    while (received < tasks) {
        bad += c.recv() ? 0 : 1;
        ++received;
    }
    double s = std::chrono::duration<double>(Clock_::now() - t0).count();
    std::printf("{\"mode\": \"throughput\", \"tasks\": %ld, \"batch\": %ld, \"window\": %ld, "
                "\"body_bytes\": %ld, "
                "\"seconds\": %.6f, \"tasks_per_sec\": %.1f, \"mismatched\": %ld}\n",
                tasks, batch, window, body, s, static_cast<double>(tasks) / s, bad);
}

void run_latency(FloorClient& c, long count, long warmup, long body) {
    std::vector<double> us;
    long bad = 0;
    for (long i = -warmup; i < count; ++i) {
        auto t0 = Clock_::now();
        c.send();
        bool good = c.recv();
        double e = std::chrono::duration<double>(Clock_::now() - t0).count() * 1e6;
        if (i < 0) continue;
        bad += good ? 0 : 1;
        us.push_back(e);
    }
    std::sort(us.begin(), us.end());
    double sum = 0;
    for (double v : us)
        sum += v;
    std::printf("{\"mode\": \"latency\", \"count\": %ld, \"warmup\": %ld, \"body_bytes\": %ld, "
                "\"p50_us\": %.1f, "
                "\"p99_us\": %.1f, \"max_us\": %.1f, \"mean_us\": %.1f, \"mismatched\": %ld}\n",
                count, warmup, body, percentile(us, 50), percentile(us, 99),
                us.empty() ? 0.0 : us.back(),
                us.empty() ? 0.0 : sum / static_cast<double>(us.size()), bad);
}

} // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    std::map<std::string, std::string> opts;
    for (int i = 2; i + 1 < argc; i += 2)
        opts[argv[i]] = argv[i + 1];
    if ((mode != "throughput" && mode != "latency") || argc % 2 != 0) {
        std::cerr << "usage: rc-bench-floor throughput --tasks N --batch B [--window K] "
                     "[--body-bytes 150]\n"
                     "       rc-bench-floor latency --count N [--warmup W] [--body-bytes 150]\n";
        return 2;
    }
    const long body = arg(opts, "--body-bytes", 150);
    std::string endpoint;
    std::atomic<int> registered{0};
    std::atomic<bool> bound{false};
    std::thread broker(broker_main, &endpoint, &registered, &bound);
    while (!bound.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(1)); // bind is immediate
    std::vector<std::thread> workers;
    for (int i = 0; i < kWorkers; ++i)
        workers.emplace_back(worker_main, endpoint);
    auto deadline = Clock_::now() + std::chrono::seconds(10);
    while (registered.load() < kWorkers && Clock_::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1)); // a polling step
    if (registered.load() < kWorkers) {
        std::cerr << "rc-bench-floor: workers did not register within 10 s\n";
        std::_Exit(1);
    }
    {
        FloorClient client(endpoint, static_cast<std::size_t>(body));
        if (mode == "throughput")
            run_throughput(client, arg(opts, "--tasks", 200'000),
                           std::max(1L, arg(opts, "--batch", 1000)), arg(opts, "--window", 0),
                           body);
        else
            run_latency(client, arg(opts, "--count", 2000), arg(opts, "--warmup", 50), body);
        client.send(kStop);
    }
    broker.join();
    for (auto& w : workers)
        w.join();
    return 0;
}
