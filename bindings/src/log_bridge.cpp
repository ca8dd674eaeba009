// The bridge from rc::log to Python logging: a sink that hands (level, component, message)
// to a Python callable, taking the GIL only for that call. Lines are written from C++
// threads; once the interpreter is finalizing, or after remove_log_sink(), they go nowhere.
#include <atomic>

#include "common/log.hpp"
#include "module.hpp"

namespace rc::py_bindings {

namespace {

std::atomic<bool> g_sink_on{false};

void install(py::object forward) {
    auto fn = std::shared_ptr<py::object>(new py::object(std::move(forward)), [](py::object* o) {
        if (Py_IsInitialized()) {
            py::gil_scoped_acquire gil;
            delete o;
        } else {
            (void)o->release();
            delete o;
        }
    });
    g_sink_on = true;
    log::set_sink([fn](log::Level level, std::string_view component, std::string_view message) {
        if (!g_sink_on.load() || !Py_IsInitialized()) return;
        py::gil_scoped_acquire gil;
        try {
            (*fn)(static_cast<int>(level), py::str(component.data(), component.size()),
                  py::str(message.data(), message.size()));
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
        py::call_guard<py::gil_scoped_release>(), "Writes one line through the C++ logger, if its level is enabled.");
}

} // namespace rc::py_bindings
