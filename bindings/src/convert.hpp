// Python objects <-> rc::Value, and so <-> the msgpack bytes that payloads and results travel
// as. The only place where Python data meets rc::Value; no task or network knowledge here.
#pragma once

#include <pybind11/pybind11.h>

#include "common/value.hpp"

namespace rc::py_bindings {

namespace py = pybind11;

// Deepest nesting accepted; the codec's decoder refuses deeper messages.
inline constexpr int kMaxDepth = 64;

// None, bool, int (-2**63 .. 2**64-1), float, str, bytes/bytearray/memoryview, list/tuple
// and dict (keys: None, bool, int, float, str or bytes). Throws py::value_error for
// out-of-range integers and too-deep nesting, py::type_error for anything else.
[[nodiscard]] Value to_value(py::handle obj);

// The inverse: maps become dicts (array keys become tuples), blobs become bytes, strings
// that are not UTF-8 keep their bytes as surrogate escapes.
[[nodiscard]] py::object to_python(const Value& v);

// msgpack bytes <-> Python objects. Empty bytes decode to None (an absent result).
[[nodiscard]] Bytes encode(py::handle obj);
[[nodiscard]] py::object decode(const Bytes& bytes);

} // namespace rc::py_bindings
