// SharedObject: a Python object owned from C++ threads (handlers, the log sink). Copies
// share one reference; the last copy drops it holding the GIL, or leaks it once the
// interpreter is gone, because Python must never be touched after finalization.
#pragma once

#include <memory>

#include <pybind11/pybind11.h>

namespace rc::py_bindings {

namespace py = pybind11;

using SharedObject = std::shared_ptr<py::object>;

inline SharedObject share(py::object obj) {
    return SharedObject(new py::object(std::move(obj)), [](py::object* o) {
        if (Py_IsInitialized()) {
            py::gil_scoped_acquire gil;
            delete o;
        } else {
            (void)o->release(); // leak the reference: there is no interpreter to give it to
            delete o;
        }
    });
}

} // namespace rc::py_bindings
