// Field-by-field crossings between the Python task records and the C++ task model. The
// rules (ranges, names) are rc::validate()'s; nothing here re-states them.
#include "task_convert.hpp"

#include "convert.hpp"
#include "errors.hpp"
#include "module.hpp"

namespace rc::py_bindings {

namespace {

template <typename T> T field(py::handle obj, const char* name, const char* expected) {
    py::object v = obj.attr(name);
    try {
        return v.cast<T>();
    } catch (const py::cast_error&) {
        throw py::type_error(std::string(name) + " must be " + expected + ", not " +
                             std::string(py::str(py::type::handle_of(v).attr("__name__"))));
    }
}

// None and "" both mean "any".
std::string optional_str(py::handle obj, const char* name) {
    py::object v = obj.attr(name);
    if (v.is_none()) return {};
    return field<std::string>(obj, name, "a str or None");
}

Requirements requirements_from_python(py::handle r) {
    Requirements out;
    out.min_cpu_cores = field<int>(r, "min_cpu_cores", "an int");
    out.min_memory_gb = field<double>(r, "min_memory_gb", "a number");
    out.min_storage_gb = field<double>(r, "min_storage_gb", "a number");
    out.gpu_required = field<bool>(r, "gpu_required", "a bool");
    out.internet_required = field<bool>(r, "internet_required", "a bool");
    out.required_platform = optional_str(r, "required_platform");
    out.required_role = optional_str(r, "required_role");
    py::object tags = r.attr("required_tags");
    if (py::isinstance<py::str>(tags)) throw py::type_error("required_tags must be a list of str");
    out.required_tags = field<std::vector<std::string>>(r, "required_tags", "a list of str");
    out.timeout_seconds = field<double>(r, "timeout_seconds", "a number");
    out.max_retries = field<int>(r, "max_retries", "an int");
    return out;
}

} // namespace

TaskSpec task_from_python(py::handle task) {
    TaskSpec spec;
    spec.task_id = TaskId(optional_str(task, "task_id"));
    spec.task_type = field<std::string>(task, "task_type", "a str");
    spec.payload = encode(task.attr("payload"));
    long priority = field<long>(task, "priority", "a TaskPriority");
    if (priority < 0 || priority >= kPriorityLevels)
        throw py::value_error("priority must be a TaskPriority (0 = LOW .. 3 = URGENT)");
    spec.priority = static_cast<Priority>(priority);
    spec.requirements = requirements_from_python(task.attr("requirements"));
    py::object meta = task.attr("metadata");
    if (!meta.is_none() && !(py::isinstance<py::dict>(meta) && py::len(meta) == 0)) {
        if (!py::isinstance<py::dict>(meta)) throw py::type_error("metadata must be a dict");
        spec.metadata = encode(meta);
    }
    return spec;
}

void validate_or_throw(const TaskSpec& spec, const std::string& prefix) {
    auto ok = validate(spec);
    if (!ok) throw CoreError{"invalid", ok.error().code, prefix + ok.error().message};
}

py::dict result_to_python(const TaskResult& r) {
    py::list errors;
    for (const auto& e : r.attempt_errors)
        errors.append(py::dict(py::arg("attempt") = e.attempt, py::arg("status") = e.status,
                               py::arg("error") = e.error, py::arg("device_id") = e.device_id));
    py::dict d;
    d["task_id"] = r.task_id.value;
    d["status"] = std::string(to_string(r.status));
    d["result_data"] = decode(r.result_data);
    d["error_message"] = r.error_message;
    d["device_id"] = r.device_id;
    d["attempts"] = r.attempts;
    d["execution_time"] = r.execution_time;
    d["created_at"] = r.created_at;
    d["started_at"] = r.started_at;
    d["completed_at"] = r.completed_at;
    d["attempt_errors"] = errors;
    return d;
}

py::dict info_to_python(const proto::TaskInfo& i) {
    py::dict d;
    d["task_id"] = i.task_id.value;
    d["task_type"] = i.task_type;
    d["status"] = std::string(to_string(i.status));
    d["priority"] = static_cast<int>(i.priority);
    d["attempts"] = i.attempts;
    d["device_id"] = i.device_id;
    d["reason"] = i.reason;
    d["created_at"] = i.created_at;
    d["updated_at"] = i.updated_at;
    return d;
}

} // namespace rc::py_bindings
