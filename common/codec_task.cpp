// Codec part 2: the task-model structs (TaskSpec, Requirements, TaskResult, TaskInfo,
// capabilities, metrics) as msgpack maps. Field names are the ones in docs/protocol.md.
#include "codec_task.hpp"

namespace rc::codec::detail {

void write_requirements(Writer& w, const Requirements& r) {
    const Requirements d;
    std::uint32_t n = (r.min_cpu_cores != d.min_cpu_cores) + (r.min_memory_gb != d.min_memory_gb) +
                      (r.min_storage_gb != d.min_storage_gb) + (r.gpu_required != d.gpu_required) +
                      (r.internet_required != d.internet_required) +
                      !r.required_platform.empty() + !r.required_role.empty() +
                      !r.required_tags.empty() + (r.timeout_seconds != d.timeout_seconds) +
                      (r.max_retries != d.max_retries);
    // Defaults are omitted: a decoder applies the same defaults, and batches stay small.
    w.map(n);
    if (r.min_cpu_cores != d.min_cpu_cores) { w.key("min_cpu_cores"); w.i64(r.min_cpu_cores); }
    if (r.min_memory_gb != d.min_memory_gb) { w.key("min_memory_gb"); w.dbl(r.min_memory_gb); }
    if (r.min_storage_gb != d.min_storage_gb) { w.key("min_storage_gb"); w.dbl(r.min_storage_gb); }
    if (r.gpu_required != d.gpu_required) { w.key("gpu_required"); w.boolean(r.gpu_required); }
    if (r.internet_required != d.internet_required) { w.key("internet_required"); w.boolean(r.internet_required); }
    if (!r.required_platform.empty()) { w.key("required_platform"); w.str(r.required_platform); }
    if (!r.required_role.empty()) { w.key("required_role"); w.str(r.required_role); }
    if (!r.required_tags.empty()) { w.key("required_tags"); w.strings(r.required_tags); }
    if (r.timeout_seconds != d.timeout_seconds) { w.key("timeout_seconds"); w.dbl(r.timeout_seconds); }
    if (r.max_retries != d.max_retries) { w.key("max_retries"); w.i64(r.max_retries); }
}

bool read_requirements(const msgpack::object& o, Requirements& r, std::string& error) {
    Reader rd(o, "requirements");
    rd.i32("min_cpu_cores", r.min_cpu_cores);
    rd.dbl("min_memory_gb", r.min_memory_gb);
    rd.dbl("min_storage_gb", r.min_storage_gb);
    rd.boolean("gpu_required", r.gpu_required);
    rd.boolean("internet_required", r.internet_required);
    rd.str("required_platform", r.required_platform);
    rd.str("required_role", r.required_role);
    rd.strings("required_tags", r.required_tags);
    rd.dbl("timeout_seconds", r.timeout_seconds);
    rd.i32("max_retries", r.max_retries);
    if (!rd.ok()) error = rd.error();
    return rd.ok();
}

void write_task_spec(Writer& w, const TaskSpec& t) {
    w.map(6);
    w.key("task_id"); w.str(t.task_id.value);
    w.key("task_type"); w.str(t.task_type);
    w.key("payload"); w.bin(t.payload);
    w.key("priority"); w.u64(static_cast<std::uint64_t>(t.priority));
    w.key("requirements"); write_requirements(w, t.requirements);
    w.key("metadata"); w.bin(t.metadata);
}

bool read_task_spec(const msgpack::object& o, TaskSpec& t, std::string& error) {
    Reader rd(o, "task");
    rd.str("task_id", t.task_id.value);
    rd.str("task_type", t.task_type);
    rd.bytes("payload", t.payload);
    rd.bytes("metadata", t.metadata);
    std::uint64_t prio = static_cast<std::uint64_t>(Priority::Normal);
    if (const auto* p = rd.find("priority"); p && p->type == msgpack::type::STR) {
        auto parsed = parse_priority(std::string_view(p->via.str.ptr, p->via.str.size));
        if (!parsed) rd.fail("priority must be low, normal, high or urgent");
        else prio = static_cast<std::uint64_t>(*parsed);
    } else if (rd.u64("priority", prio) && prio > 3) {
        rd.fail("priority must be 0..3");
    }
    t.priority = static_cast<Priority>(prio);
    if (!rd.ok()) {
        error = rd.error();
        return false;
    }
    if (const auto* r = rd.find("requirements"); r && r->type != msgpack::type::NIL)
        return read_requirements(*r, t.requirements, error);
    return true;
}

static bool read_status(Reader& rd, std::string_view key, TaskStatus& out) {
    std::string s;
    if (!rd.str(key, s)) return false;
    if (s.empty()) return true;
    auto st = parse_task_status(s);
    if (!st) {
        rd.fail(std::string(key) + " is not a task status");
        return false;
    }
    out = *st;
    return true;
}

void write_task_result(Writer& w, const TaskResult& r) {
    w.map(11);
    w.key("task_id"); w.str(r.task_id.value);
    w.key("status"); w.str(to_string(r.status));
    w.key("result"); w.bin(r.result_data);
    w.key("error"); w.str(r.error_message);
    w.key("device_id"); w.str(r.device_id);
    w.key("attempts"); w.u64(r.attempts);
    w.key("execution_time"); w.dbl(r.execution_time);
    w.key("created_at"); w.dbl(r.created_at);
    w.key("started_at"); w.dbl(r.started_at);
    w.key("completed_at"); w.dbl(r.completed_at);
    w.key("attempt_errors");
    w.array(static_cast<std::uint32_t>(r.attempt_errors.size()));
    for (const auto& a : r.attempt_errors) {
        w.map(4);
        w.key("attempt"); w.u64(a.attempt);
        w.key("status"); w.str(a.status);
        w.key("error"); w.str(a.error);
        w.key("device_id"); w.str(a.device_id);
    }
}

bool read_task_result(const msgpack::object& o, TaskResult& r, std::string& error) {
    Reader rd(o, "result");
    rd.str("task_id", r.task_id.value);
    read_status(rd, "status", r.status);
    rd.bytes("result", r.result_data);
    rd.str("error", r.error_message);
    rd.str("device_id", r.device_id);
    rd.u32("attempts", r.attempts);
    rd.dbl("execution_time", r.execution_time);
    rd.dbl("created_at", r.created_at);
    rd.dbl("started_at", r.started_at);
    rd.dbl("completed_at", r.completed_at);
    if (const auto* a = rd.find("attempt_errors"); a && a->type == msgpack::type::ARRAY) {
        for (std::uint32_t i = 0; i < a->via.array.size; ++i) {
            Reader er(a->via.array.ptr[i], "attempt_errors");
            AttemptError e;
            er.u32("attempt", e.attempt);
            er.str("status", e.status);
            er.str("error", e.error);
            er.str("device_id", e.device_id);
            if (!er.ok()) rd.fail(er.error());
            r.attempt_errors.push_back(std::move(e));
        }
    }
    if (!rd.ok()) error = rd.error();
    return rd.ok();
}

void write_task_info(Writer& w, const proto::TaskInfo& t) {
    w.map(9);
    w.key("task_id"); w.str(t.task_id.value);
    w.key("task_type"); w.str(t.task_type);
    w.key("status"); w.str(to_string(t.status));
    w.key("priority"); w.u64(static_cast<std::uint64_t>(t.priority));
    w.key("attempts"); w.u64(t.attempts);
    w.key("device_id"); w.str(t.device_id);
    w.key("reason"); w.str(t.reason);
    w.key("created_at"); w.dbl(t.created_at);
    w.key("updated_at"); w.dbl(t.updated_at);
}

bool read_task_info(const msgpack::object& o, proto::TaskInfo& t, std::string& error) {
    Reader rd(o, "task");
    rd.str("task_id", t.task_id.value);
    rd.str("task_type", t.task_type);
    read_status(rd, "status", t.status);
    std::uint64_t prio = 1;
    rd.u64("priority", prio);
    t.priority = static_cast<Priority>(prio > 3 ? 1 : prio);
    rd.u32("attempts", t.attempts);
    rd.str("device_id", t.device_id);
    rd.str("reason", t.reason);
    rd.dbl("created_at", t.created_at);
    rd.dbl("updated_at", t.updated_at);
    if (!rd.ok()) error = rd.error();
    return rd.ok();
}

void write_caps(Writer& w, const DeviceCapabilities& c) {
    w.map(11);
    w.key("cpu_cores"); w.i64(c.cpu_cores);
    w.key("memory_gb"); w.dbl(c.memory_gb);
    w.key("storage_gb"); w.dbl(c.storage_gb);
    w.key("platform"); w.str(c.platform);
    w.key("architecture"); w.str(c.architecture);
    w.key("hostname"); w.str(c.hostname);
    w.key("gpu"); w.boolean(c.gpu);
    w.key("gpu_name"); w.str(c.gpu_name);
    w.key("internet"); w.boolean(c.internet);
    w.key("role"); w.str(c.role);
    w.key("tags"); w.strings(c.tags);
}

bool read_caps(const msgpack::object& o, DeviceCapabilities& c, std::string& error) {
    Reader rd(o, "capabilities");
    rd.i32("cpu_cores", c.cpu_cores);
    rd.dbl("memory_gb", c.memory_gb);
    rd.dbl("storage_gb", c.storage_gb);
    rd.str("platform", c.platform);
    rd.str("architecture", c.architecture);
    rd.str("hostname", c.hostname);
    rd.boolean("gpu", c.gpu);
    rd.str("gpu_name", c.gpu_name);
    rd.boolean("internet", c.internet);
    rd.str("role", c.role);
    rd.strings("tags", c.tags);
    if (!rd.ok()) error = rd.error();
    return rd.ok();
}

void write_metrics(Writer& w, const proto::DeviceMetrics& m) {
    w.map(5);
    w.key("load_avg"); w.dbl(m.load_avg);
    w.key("cpu_percent"); w.dbl(m.cpu_percent);
    w.key("memory_used_percent"); w.dbl(m.memory_used_percent);
    w.key("storage_free_gb"); w.dbl(m.storage_free_gb);
    w.key("running"); w.u64(m.running);
}

bool read_metrics(const msgpack::object& o, proto::DeviceMetrics& m, std::string& error) {
    Reader rd(o, "metrics");
    rd.dbl("load_avg", m.load_avg);
    rd.dbl("cpu_percent", m.cpu_percent);
    rd.dbl("memory_used_percent", m.memory_used_percent);
    rd.dbl("storage_free_gb", m.storage_free_gb);
    rd.u32("running", m.running);
    if (!rd.ok()) error = rd.error();
    return rd.ok();
}

} // namespace rc::codec::detail
