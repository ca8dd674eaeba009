// rc-test-worker: retire-cluster-worker plus task types that tests need: "flaky" fails
// its first N attempts (payload {"fail_times": N}), "whoami" returns the device id, and
// "tally" records each run of a task in $RC_TALLY_FILE.
// It also shows how a C++ program adds custom handlers.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "common/codec.hpp"
#include "worker/cli.hpp"

using namespace rc;

int main(int argc, char** argv) {
    std::string device;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == "--device-id") device = argv[i + 1];
    return worker::run_worker_cli(argc, argv, [device](worker::HandlerRegistry& r) {
        r.register_handler("flaky", [](const worker::TaskContext& ctx) {
            auto p = ctx.decoded_payload();
            std::int64_t fail_times = 0;
            if (p && p->find("fail_times")) fail_times = p->find("fail_times")->as_int();
            if (static_cast<std::int64_t>(ctx.attempt) <= fail_times)
                throw std::runtime_error("planned failure on attempt " + std::to_string(ctx.attempt));
            Value out;
            out.set("attempt", static_cast<std::int64_t>(ctx.attempt));
            return worker::HandlerOutput::ok(out);
        });
        r.register_handler("whoami", [device](const worker::TaskContext&) {
            return worker::HandlerOutput::ok(Value(device));
        });
        // "tally": sleeps {"duration": s}, then appends its task id to $RC_TALLY_FILE, so a
        // test can count how often each task really ran.
        const char* tally = std::getenv("RC_TALLY_FILE");
        std::string tally_path = tally ? tally : "";
        r.register_handler("tally", [tally_path](const worker::TaskContext& ctx) {
            auto p = ctx.decoded_payload();
            double secs = p && p->find("duration") ? p->find("duration")->as_double() : 0.0;
            if (secs > 0 && ctx.cancel &&
                ctx.cancel->wait_for(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(secs))))
                return worker::HandlerOutput::stopped(*ctx.cancel);
            if (!tally_path.empty()) {
                int fd = ::open(tally_path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
                if (fd >= 0) {
                    std::string line = ctx.task_id.value + "\n";
                    (void)!::write(fd, line.data(), line.size());
                    ::close(fd);
                }
            }
            return worker::HandlerOutput::ok(Value(ctx.task_id.value));
        });
    });
}
