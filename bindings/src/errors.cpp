// CoreError: a C++ exception carrying (kind, code, message), translated into the Python
// class retire_cluster._core.CoreError with exactly those three args.
#include "errors.hpp"

#include <pybind11/gil_safe_call_once.h>

#include "module.hpp"

namespace rc::py_bindings {

namespace {

PYBIND11_CONSTINIT py::gil_safe_call_once_and_store<py::object> g_core_error;

std::string kind_word(ClientError::Kind k) {
    switch (k) {
    case ClientError::Kind::Unreachable:
        return "unreachable";
    case ClientError::Kind::Timeout:
        return "timeout";
    case ClientError::Kind::Broker:
        return "broker";
    case ClientError::Kind::Protocol:
        return "protocol";
    }
    return "protocol";
}

} // namespace

void bind_errors(py::module_& m) {
    g_core_error.call_once_and_store_result([&]() {
        return py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
            "retire_cluster._core.CoreError",
            "An expected failure: args are (kind, code, message).", PyExc_Exception, nullptr));
    });
    m.attr("CoreError") = g_core_error.get_stored();
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const CoreError& e) {
            py::tuple args = py::make_tuple(e.kind, e.code, e.message);
            PyErr_SetObject(g_core_error.get_stored().ptr(), args.ptr());
        }
    });
}

void throw_client_error(const ClientError& e) {
    // A signal (Ctrl-C) makes the client's poll return EINTR; let Python handle it.
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    std::string code =
        e.kind == ClientError::Kind::Broker ? std::string(proto::to_string(e.code)) : "";
    throw CoreError{kind_word(e.kind), code, e.message};
}

} // namespace rc::py_bindings
