// The one exception the extension raises for expected failures: CoreError(kind, code,
// message). retire_cluster/errors.py maps it onto the public exception tree; the mapping
// lives there, in one table, not here.
#pragma once

#include <string>

#include <pybind11/pybind11.h>

#include "common/client.hpp"

namespace rc::py_bindings {

namespace py = pybind11;

// kind: "unreachable", "timeout", "broker", "protocol", "invalid" or "state";
// code: a docs/protocol.md error code word ("invalid_requirements", ...) or "".
struct CoreError {
    std::string kind;
    std::string code;
    std::string message;
};

// Defines retire_cluster._core.CoreError and the translator for CoreError.
void bind_errors(py::module_& m);

// Throws CoreError for `e`; when a signal interrupted the call, raises the pending Python
// exception (KeyboardInterrupt) instead. Call with the GIL held.
[[noreturn]] void throw_client_error(const ClientError& e);

} // namespace rc::py_bindings
