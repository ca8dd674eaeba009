// The bridge from rc::log to Python logging: a sink that hands (level, component, message)
// to a Python callable, taking the GIL only for that call. Lines come from C++ threads;
// after remove_log_sink() (at interpreter exit) they go to stderr again, and once the
// interpreter is gone, nowhere.
#include <atomic>

#include "common/log.hpp"
#include "module.hpp"
#include "shared_object.hpp"

namespace rc::py_bindings {

namespace {

std::atomic<bool> g_sink_on{false};

// Log text may quote peer input: bytes that are not UTF-8 become U+FFFD, never an error.
py::str text(std::string_view s) {
    PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
    if (!o) throw py::error_already_set();
    return py::reinterpret_steal<py::str>(o);
}

void install(py::object forward) {
    SharedObject fn = share(std::move(forward));
    g_sink_on = true;
    log::set_sink([fn](log::Level level, std::string_view component, std::string_view message) {
        if (!g_sink_on.load() || !Py_IsInitialized()) return;
        py::gil_scoped_acquire gil;
        try {
            (*fn)(static_cast<int>(level), text(component), text(message));
        } catch (py::error_already_set& e) {
            e.discard_as_unraisable("retire_cluster log bridge");
        }
    });
}

void remove() {
    g_sink_on = false;
    log::set_sink(nullptr);
}

} // namespace

void bind_logging(py::module_& m) {
    m.def("set_log_sink", &install, py::arg("forward"),
          "Sends every C++ log line to forward(levelno, component, message).");
    // Dropping the last sink reference takes the GIL, so release it around the swap.
    m.def("remove_log_sink", &remove, py::call_guard<py::gil_scoped_release>(),
          "Restores the C++ default (lines to stderr).");
    m.def(
        "set_log_level", [](int level) { log::set_level(static_cast<log::Level>(level)); },
        py::arg("levelno"), "Lowest level the C++ core formats: 10, 20, 30 or 40.");
    m.def(
        "log_level", [] { return static_cast<int>(log::level()); },
        "The C++ core's current level.");
    m.def(
        "log",
        [](int level, const std::string& component, const std::string& message) {
            if (log::enabled(static_cast<log::Level>(level)))
                log::write(static_cast<log::Level>(level), component, message);
        },
        py::arg("levelno"), py::arg("component"), py::arg("message"),
        py::call_guard<py::gil_scoped_release>(),
        "Writes one line through the C++ logger, if its level is enabled.");
}

} // namespace rc::py_bindings
