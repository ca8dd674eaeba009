// rc-test-worker: retire-cluster-worker plus task types that tests need: "flaky" fails
// its first N attempts (payload {"fail_times": N}) and "whoami" returns the device id.
// It also shows how a C++ program adds custom handlers.
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
    });
}
