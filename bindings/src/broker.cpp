// retire_cluster._core.Broker: an rc::broker::BrokerServer run on a background thread of
// this process, for LocalCluster. Binding happens in the constructor (so the port is known
// at once); start() runs the loop; stop() ends and joins it and closes the socket, so that
// nothing of it is left. No broker logic here.
#include <atomic>
#include <memory>

#include "background.hpp"
#include "broker/server.hpp"
#include "errors.hpp"
#include "module.hpp"

namespace rc::py_bindings {

namespace {

class PyBroker {
public:
    PyBroker(const std::string& bind, int port, int heartbeat_ms, unsigned liveness,
             int retry_backoff_ms, double result_ttl, bool affinity) {
        if (port < 0 || port > 65535) throw py::value_error("port must be in 0..65535");
        if (heartbeat_ms < 10 || heartbeat_ms > 60000)
            throw py::value_error("heartbeat must be between 0.01 and 60 seconds");
        if (liveness < 2) throw py::value_error("liveness must be at least 2");
        if (retry_backoff_ms < 0) throw py::value_error("retry_backoff must not be negative");
        if (!(result_ttl >= 1)) throw py::value_error("result_ttl must be at least 1 second");
        broker::BrokerConfig cfg;
        cfg.bind = bind;
        cfg.port = port;
        cfg.heartbeat = std::chrono::milliseconds(heartbeat_ms);
        cfg.liveness = liveness;
        cfg.retry_backoff = std::chrono::milliseconds(retry_backoff_ms);
        cfg.result_ttl = std::chrono::seconds(static_cast<std::int64_t>(result_ttl));
        cfg.scheduler.affinity = affinity;
        try {
            py::gil_scoped_release nogil;
            server_ = std::make_unique<broker::BrokerServer>(cfg);
        } catch (const std::runtime_error& e) {
            throw CoreError{"state", "", e.what()};
        }
        endpoint_ = server_->endpoint();
        port_ = server_->port();
    }

    ~PyBroker() {
        py::gil_scoped_release nogil;
        loop_.stop();
        server_.reset();
    }

    [[nodiscard]] const std::string& endpoint() const { return endpoint_; }
    [[nodiscard]] int port() const { return port_; }

    void start() {
        if (closed_ || !server_) throw CoreError{"state", "", "the broker is closed"};
        if (loop_.running()) throw CoreError{"state", "", "the broker is already running"};
        stop_ = false;
        broker::BrokerServer* s = server_.get();
        loop_.start([this, s] { s->run(&stop_); },
                    [this, s] {
                        stop_ = true;
                        s->stop();
                    });
    }

    // Stops the loop and closes the broker (its port is free again). Idempotent.
    void stop() {
        closed_ = true; // from here on start() refuses
        {
            py::gil_scoped_release nogil;
            loop_.stop();
        }
        std::unique_ptr<broker::BrokerServer> s = std::move(server_); // with the GIL, as start()
        py::gil_scoped_release nogil;
        s.reset();
    }

    [[nodiscard]] bool running() const { return loop_.running(); }
    [[nodiscard]] std::string error() const { return loop_.error(); }

private:
    std::string endpoint_;
    int port_ = 0;
    bool closed_ = false; // read and written with the GIL held
    std::unique_ptr<broker::BrokerServer> server_;
    std::atomic<bool> stop_{false};
    BackgroundLoop loop_; // declared last: stopped before the server goes away
};

} // namespace

void bind_broker(py::module_& m) {
    py::class_<PyBroker>(m, "Broker")
        .def(py::init<const std::string&, int, int, unsigned, int, double, bool>(),
             py::arg("bind") = "127.0.0.1", py::arg("port") = 0, py::arg("heartbeat_ms") = 1000,
             py::arg("liveness") = 3, py::arg("retry_backoff_ms") = 1000,
             py::arg("result_ttl") = 3600.0, py::arg("affinity") = true)
        .def_property_readonly("endpoint", &PyBroker::endpoint)
        .def_property_readonly("port", &PyBroker::port)
        .def_property_readonly("running", &PyBroker::running)
        .def_property_readonly("error", &PyBroker::error)
        .def("start", &PyBroker::start)
        .def("stop", &PyBroker::stop);
}

} // namespace rc::py_bindings
