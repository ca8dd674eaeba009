// Python <-> rc::Value conversion. Errors name where in the value the problem is, e.g.
// "payload['items'][3]", because a payload is often built far from where it is sent.
#include "convert.hpp"

#include <variant>
#include <vector>

#include "common/codec.hpp"
#include "module.hpp"

namespace rc::py_bindings {

namespace {

class ToValue {
public:
    Value convert(py::handle obj) {
        if (path_.size() >= static_cast<size_t>(kMaxDepth))
            throw py::value_error("value nested deeper than " + std::to_string(kMaxDepth) +
                                  " levels (or it contains itself)" + where());
        PyObject* o = obj.ptr();
        if (o == Py_None) return Value{};
        if (PyBool_Check(o)) return Value(o == Py_True);
        if (PyLong_Check(o)) return integer(obj);
        if (PyFloat_Check(o)) return Value(PyFloat_AS_DOUBLE(o));
        if (PyUnicode_Check(o)) {
            Py_ssize_t n = 0;
            const char* s = PyUnicode_AsUTF8AndSize(o, &n);
            if (!s) throw py::error_already_set();
            return Value(std::string(s, static_cast<size_t>(n)));
        }
        if (PyBytes_Check(o) || PyByteArray_Check(o) || PyMemoryView_Check(o)) {
            py::bytes b = py::reinterpret_steal<py::bytes>(PyBytes_FromObject(o));
            if (!b) throw py::error_already_set();
            return Value(Blob{std::string(b)});
        }
        if (PyList_Check(o) || PyTuple_Check(o)) {
            py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
            Array a;
            a.reserve(seq.size());
            for (size_t i = 0; i < seq.size(); ++i) {
                path_.emplace_back(i);
                a.push_back(convert(seq[i]));
                path_.pop_back();
            }
            return Value(std::move(a));
        }
        if (PyDict_Check(o)) {
            Map m;
            m.reserve(static_cast<size_t>(PyDict_Size(o)));
            for (auto [k, v] : py::reinterpret_borrow<py::dict>(obj)) {
                path_.emplace_back(k);
                Value key = convert(k);
                Value value = convert(v);
                path_.pop_back();
                m.emplace_back(std::move(key), std::move(value));
            }
            return Value(std::move(m));
        }
        throw py::type_error("cannot send a value of type " +
                             std::string(py::str(py::type::handle_of(obj).attr("__name__"))) +
                             where() +
                             ": use None, bool, int, float, str, bytes, list, tuple or dict");
    }

private:
    Value integer(py::handle obj) {
        int overflow = 0;
        long long i = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
        if (overflow == 0) {
            if (i == -1 && PyErr_Occurred()) throw py::error_already_set();
            return Value(i);
        }
        if (overflow > 0) {
            unsigned long long u = PyLong_AsUnsignedLongLong(obj.ptr());
            if (!(u == static_cast<unsigned long long>(-1) && PyErr_Occurred())) return Value(u);
            PyErr_Clear();
        }
        throw py::value_error("integer " + std::string(py::repr(obj)) + where() +
                              " does not fit in 64 bits (the range is -2**63 .. 2**64-1)");
    }

    // " at ['key'][3]", or "" at the top level.
    std::string where() const {
        if (path_.empty()) return "";
        std::string s = " at ";
        for (const auto& seg : path_) {
            if (auto* i = std::get_if<size_t>(&seg))
                s += "[" + std::to_string(*i) + "]";
            else
                s += "[" + std::string(py::repr(std::get<py::handle>(seg))) + "]";
        }
        return s;
    }

    std::vector<std::variant<size_t, py::handle>> path_;
};

py::object to_python_key(const Value& v);

py::object to_python_impl(const Value& v) {
    return std::visit(
        [](const auto& x) -> py::object {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>)
                return py::none();
            else if constexpr (std::is_same_v<T, bool>)
                return py::bool_(x);
            else if constexpr (std::is_same_v<T, std::int64_t>)
                return py::int_(x);
            else if constexpr (std::is_same_v<T, std::uint64_t>)
                return py::int_(x);
            else if constexpr (std::is_same_v<T, double>)
                return py::float_(x);
            else if constexpr (std::is_same_v<T, std::string>) {
                PyObject* s = PyUnicode_DecodeUTF8(x.data(), static_cast<Py_ssize_t>(x.size()),
                                                   "surrogateescape");
                if (!s) throw py::error_already_set();
                return py::reinterpret_steal<py::object>(s);
            } else if constexpr (std::is_same_v<T, Blob>)
                return py::bytes(x.data);
            else if constexpr (std::is_same_v<T, Array>) {
                py::list l(x.size());
                for (size_t i = 0; i < x.size(); ++i)
                    l[i] = to_python_impl(x[i]);
                return l;
            } else {
                py::dict d;
                for (const auto& [k, e] : x)
                    d[to_python_key(k)] = to_python_impl(e);
                return d;
            }
        },
        v.v);
}

// Dict keys must be hashable: arrays become tuples; a map cannot be a key in Python.
py::object to_python_key(const Value& v) {
    if (v.is_array()) {
        const Array& a = v.as_array();
        py::tuple t(a.size());
        for (size_t i = 0; i < a.size(); ++i)
            t[i] = to_python_key(a[i]);
        return t;
    }
    if (v.is_map()) throw py::value_error("received a map whose key is itself a map");
    return to_python_impl(v);
}

} // namespace

Value to_value(py::handle obj) {
    return ToValue{}.convert(obj);
}

py::object to_python(const Value& v) {
    return to_python_impl(v);
}

Bytes encode(py::handle obj) {
    return codec::encode_value(to_value(obj));
}

py::object decode(const Bytes& bytes) {
    if (bytes.empty()) return py::none();
    auto v = codec::decode_value(bytes);
    if (!v) throw py::value_error("undecodable msgpack data: " + v.error());
    return to_python(v.value());
}

} // namespace rc::py_bindings
