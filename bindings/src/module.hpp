// The parts of retire_cluster._core, one bind function per source file. module.cpp calls
// them in order; nothing else is shared between the binding files.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h> // in every file: pybind11 casters must agree across files

namespace rc::py_bindings {

namespace py = pybind11;

void bind_errors(py::module_& m);  // errors.cpp
void bind_client(py::module_& m);  // client.cpp
void bind_broker(py::module_& m);  // broker.cpp
void bind_worker(py::module_& m);  // worker.cpp
void bind_logging(py::module_& m); // log_bridge.cpp
void bind_runtime(py::module_& m); // background.cpp

} // namespace rc::py_bindings
