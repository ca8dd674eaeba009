// The safe built-in task types: echo (payload back as-is), sleep (cancellable) and
// system_info (capabilities plus live metrics).
#include "common/device_value.hpp"
#include "probe.hpp"
#include "worker.hpp"

namespace rc::worker {

void add_builtin_handlers(HandlerRegistry& registry, const DeviceCapabilities& caps, std::string storage_path) {
    // echo never decodes: the payload bytes are the result bytes.
    registry.register_inline("echo", [](const TaskContext& ctx) { return HandlerOutput::ok_encoded(ctx.payload); });

    registry.register_handler("sleep", [](const TaskContext& ctx) {
        auto p = ctx.decoded_payload();
        if (!p) return HandlerOutput::failed("payload: " + p.error());
        double secs = 1.0;
        if (const Value* d = p->find("duration")) {
            if (!d->is_number()) return HandlerOutput::failed("duration must be a number of seconds");
            secs = d->as_double();
        }
        if (!(secs >= 0) || secs > 7 * 24 * 3600.0) return HandlerOutput::failed("duration must be in [0, 604800] seconds");
        auto dur = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(secs));
        if (ctx.cancel && ctx.cancel->wait_for(dur)) return HandlerOutput::stopped(*ctx.cancel);
        Value out;
        out.set("slept", secs);
        return HandlerOutput::ok(out);
    });

    registry.register_handler("system_info", [caps, storage_path](const TaskContext& ctx) {
        MetricsSampler sampler(storage_path);
        Value out = capabilities_to_value(caps);
        out.set("metrics", metrics_to_value(sampler.sample(0)));
        out.set("task_id", ctx.task_id.value);
        return HandlerOutput::ok(out);
    });
}

} // namespace rc::worker
