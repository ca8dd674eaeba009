// Task model crossings: a Python Task (read by attribute) -> rc::TaskSpec, and the broker's
// TaskResult / TaskInfo -> plain dicts that retire_cluster/tasks builds its records from.
#pragma once

#include <pybind11/pybind11.h>

#include "common/protocol.hpp"
#include "common/task.hpp"

namespace rc::py_bindings {

namespace py = pybind11;

// Reads task_id, task_type, payload, priority, requirements and metadata from any object
// shaped like retire_cluster.tasks.Task. Wrong types raise TypeError naming the field.
[[nodiscard]] TaskSpec task_from_python(py::handle task);

// rc::validate(); a failure throws CoreError("invalid", code, message), message prefixed.
void validate_or_throw(const TaskSpec& spec, const std::string& prefix = {});

// Keys: task_id, status (word), result_data (decoded), error_message, device_id, attempts,
// execution_time, created_at, started_at, completed_at, attempt_errors (list of dicts with
// attempt, status, error, device_id).
[[nodiscard]] py::dict result_to_python(const TaskResult& r);

// Keys: task_id, task_type, status (word), priority (0-3), attempts, device_id, reason,
// created_at, updated_at.
[[nodiscard]] py::dict info_to_python(const proto::TaskInfo& info);

} // namespace rc::py_bindings
