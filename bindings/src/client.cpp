// retire_cluster._core.Client: rc::Client for Python. Every network call runs with the GIL
// released. rc::Client is single-threaded, so calls lease one from a small pool: threads
// never share a socket and never wait for each other. Lock order: the pool mutex is taken
// without the GIL and never held across a call or a GIL acquisition.
#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "common/client.hpp"
#include "convert.hpp"
#include "errors.hpp"
#include "module.hpp"
#include "task_convert.hpp"

namespace rc::py_bindings {

namespace {

std::chrono::milliseconds to_ms(double seconds) {
    if (!(seconds >= 0))
        throw py::value_error("a duration must be a non-negative number of seconds");
    constexpr double kMaxSeconds = 30 * 24 * 3600.0; // the broker's wait field is 32-bit ms
    return std::chrono::milliseconds(
        static_cast<std::int64_t>(std::min(seconds, kMaxSeconds) * 1000.0 + 0.5));
}

class PyClient {
private:
    // Runs f(client) without the GIL and returns its value, or throws CoreError.
    template <typename F> auto call(F&& f) {
        using R = std::decay_t<decltype(f(std::declval<Client&>()))>;
        std::optional<R> r;
        {
            py::gil_scoped_release nogil;
            std::unique_ptr<Client> c = lease();
            if (c) {
                r.emplace(f(*c));
                give_back(std::move(c));
            }
        }
        if (!r) throw CoreError{"state", "", "the client is closed"};
        if (!r->ok()) throw_client_error(r->error());
        return std::move(*r).value();
    }

    std::unique_ptr<Client> lease() {
        {
            std::lock_guard lk(mu_);
            if (closed_) return nullptr;
            if (!idle_.empty()) {
                auto c = std::move(idle_.back());
                idle_.pop_back();
                return c;
            }
        }
        return std::make_unique<Client>(endpoint_, opts_);
    }

    void give_back(std::unique_ptr<Client> c) {
        std::lock_guard lk(mu_);
        if (!closed_ && idle_.size() < kMaxIdle) idle_.push_back(std::move(c));
        // otherwise it is destroyed here, after the lock is released (reverse order)
    }

public:
    PyClient(const std::string& address, double timeout) {
        auto ep = normalize_endpoint(address);
        if (!ep) throw py::value_error(ep.error());
        endpoint_ = ep.value();
        opts_.request_timeout = to_ms(timeout);
        if (opts_.request_timeout.count() == 0) throw py::value_error("timeout must be > 0");
    }
    ~PyClient() { close(); }

    [[nodiscard]] const std::string& endpoint() const { return endpoint_; }

    std::vector<std::string> submit(const py::list& tasks, bool strict) {
        std::vector<TaskSpec> specs;
        specs.reserve(tasks.size());
        for (size_t i = 0; i < tasks.size(); ++i) {
            specs.push_back(task_from_python(tasks[i]));
            validate_or_throw(specs.back(),
                              tasks.size() > 1 ? "tasks[" + std::to_string(i) + "]: " : "");
        }
        auto r = call([&](Client& c) { return c.submit(std::move(specs), strict); });
        std::vector<std::string> ids;
        ids.reserve(r.size());
        for (auto& id : r)
            ids.push_back(std::move(id.value));
        return ids;
    }

    py::dict status(const std::string& id) {
        return info_to_python(call([&](Client& c) { return c.status(TaskId(id)); }));
    }

    // (results, pending ids, unknown ids)
    py::tuple results(const std::vector<std::string>& ids, double wait, bool any) {
        std::vector<TaskId> tids;
        for (const auto& id : ids)
            tids.emplace_back(id);
        auto wait_ms = to_ms(wait);
        auto r = call([&](Client& c) { return c.results(tids, wait_ms, any); });
        py::list results;
        for (const auto& res : r.results)
            results.append(result_to_python(res));
        py::list pending, unknown;
        for (const auto& id : r.pending)
            pending.append(id.value);
        for (const auto& id : r.unknown)
            unknown.append(id.value);
        return py::make_tuple(results, pending, unknown);
    }

    // (status word after the request, whether this request cancelled it)
    py::tuple cancel(const std::string& id) {
        auto r = call([&](Client& c) { return c.cancel(TaskId(id)); });
        return py::make_tuple(std::string(to_string(r.status)), r.changed);
    }

    py::object stats() {
        return to_python(call([](Client& c) { return c.stats(); }));
    }

    py::object devices(const std::string& role, bool include_offline) {
        return to_python(call([&](Client& c) { return c.devices(role, include_offline); }));
    }

    py::object device(const std::string& id) {
        return to_python(call([&](Client& c) { return c.device(DeviceId(id)); }));
    }

    void close() {
        std::vector<std::unique_ptr<Client>> idle;
        {
            std::lock_guard lk(mu_);
            closed_ = true;
            idle.swap(idle_);
        }
        if (idle.empty()) return;
        py::gil_scoped_release nogil; // closing sockets and contexts may take a moment
        idle.clear();
    }

    [[nodiscard]] bool closed() {
        std::lock_guard lk(mu_);
        return closed_;
    }

private:
    static constexpr size_t kMaxIdle = 8;
    std::string endpoint_;
    Client::Options opts_;
    std::mutex mu_;
    bool closed_ = false;
    std::vector<std::unique_ptr<Client>> idle_;
};

} // namespace

void bind_client(py::module_& m) {
    py::class_<PyClient>(m, "Client")
        .def(py::init<const std::string&, double>(), py::arg("address"), py::arg("timeout") = 10.0)
        .def_property_readonly("endpoint", &PyClient::endpoint)
        .def_property_readonly("closed", &PyClient::closed)
        .def("submit", &PyClient::submit, py::arg("tasks"), py::arg("strict") = false)
        .def("status", &PyClient::status, py::arg("task_id"))
        .def("results", &PyClient::results, py::arg("task_ids"), py::arg("wait") = 0.0,
             py::arg("any") = false)
        .def("cancel", &PyClient::cancel, py::arg("task_id"))
        .def("stats", &PyClient::stats)
        .def("devices", &PyClient::devices, py::arg("role") = "",
             py::arg("include_offline") = false)
        .def("device", &PyClient::device, py::arg("device_id"))
        .def("close", &PyClient::close);

    m.def(
        "validate_task", [](py::handle task) { validate_or_throw(task_from_python(task)); },
        py::arg("task"));
    m.def(
        "encode", [](py::handle obj) { return py::bytes(encode(obj)); }, py::arg("value"));
    m.def(
        "decode", [](const py::bytes& b) { return decode(std::string(b)); }, py::arg("data"));
}

} // namespace rc::py_bindings
