// retire_cluster._core.Worker: an rc::worker::Worker run on a background thread, plus
// task handlers written in Python. A Python handler runs on the worker's slot thread and
// holds the GIL only while Python code runs, so the agent loop keeps heartbeating.
#include <atomic>
#include <memory>

#include "background.hpp"
#include "common/device_value.hpp"
#include "convert.hpp"
#include "errors.hpp"
#include "module.hpp"
#include "shared_object.hpp"
#include "worker/worker.hpp"

namespace rc::py_bindings {

namespace {

struct HandlerThreadMark {
    HandlerThreadMark() { set_in_handler_thread(true); }
    ~HandlerThreadMark() { set_in_handler_thread(false); }
};

// `runner(payload, task_id, attempt)` returns (True, msgpack bytes) or (False, error text);
// retire_cluster/worker.py builds it around the user's function.
worker::Handler python_handler(SharedObject runner) {
    return [runner](const worker::TaskContext& ctx) {
        auto payload = ctx.decoded_payload();
        if (!payload) return worker::HandlerOutput::failed("payload: " + payload.error());
        if (ctx.cancel && ctx.stop_requested()) return worker::HandlerOutput::stopped(*ctx.cancel);
        py::gil_scoped_acquire gil;
        HandlerThreadMark mark;
        try {
            py::tuple out = (*runner)(to_python(payload.value()), ctx.task_id.value, ctx.attempt)
                                .cast<py::tuple>();
            if (out.size() != 2) throw std::runtime_error("handler runner must return a pair");
            if (out[0].cast<bool>())
                return worker::HandlerOutput::ok_encoded(out[1].cast<std::string>());
            return worker::HandlerOutput::failed(out[1].cast<std::string>());
        } catch (py::error_already_set& e) {
            return worker::HandlerOutput::failed(std::string("handler raised: ") + e.what());
        } catch (const std::exception& e) {
            return worker::HandlerOutput::failed(std::string("handler raised: ") + e.what());
        }
    };
}

class PyWorker {
public:
    PyWorker(const std::string& join, const std::string& device_id, const std::string& role,
             const std::vector<std::string>& tags, unsigned slots, int heartbeat_ms,
             bool check_internet, const std::string& storage_path, bool builtin_handlers,
             bool python_eval, const std::string& python_path, const std::string& sandbox_script,
             bool http, bool allow_private_network,
             const std::vector<std::string>& allowed_programs, const std::string& command_workdir) {
        if (heartbeat_ms < 10 || heartbeat_ms > 60000)
            throw py::value_error("heartbeat must be between 0.01 and 60 seconds");
        if (slots > 4096) throw py::value_error("slots must be in 0..4096");
        worker::WorkerConfig cfg;
        cfg.join = join;
        cfg.device_id = device_id;
        cfg.role = role;
        cfg.tags = tags;
        cfg.slots = slots;
        cfg.heartbeat = std::chrono::milliseconds(heartbeat_ms);
        cfg.check_internet = check_internet;
        cfg.storage_path = storage_path;
        cfg.builtin_handlers = builtin_handlers;
        cfg.outside.python_eval_enabled = python_eval;
        cfg.outside.python_path = python_path;
        cfg.outside.sandbox_script = sandbox_script;
        cfg.outside.http_enabled = http;
        cfg.outside.allow_private_network = allow_private_network;
        cfg.outside.allowed_programs = allowed_programs;
        cfg.outside.command_workdir = command_workdir;
        try {
            py::gil_scoped_release nogil; // probing the device may take a moment
            worker_ = std::make_unique<worker::Worker>(std::move(cfg));
        } catch (const std::invalid_argument& e) { // an unparsable address
            throw py::value_error(e.what());
        }
        device_id_ = worker_->device_id();
    }

    ~PyWorker() {
        py::gil_scoped_release nogil;
        loop_.stop();
        worker_.reset(); // drops the Python handlers (each takes the GIL to do so)
    }

    void add_handler(const std::string& task_type, py::object runner) {
        require_stopped("add a handler");
        require_open();
        TaskSpec probe;
        probe.task_type = task_type;
        if (auto ok = validate(probe); !ok) throw py::value_error(ok.error().message);
        worker_->handlers().register_handler(task_type, python_handler(share(std::move(runner))));
    }

    void remove_handler(const std::string& task_type) {
        require_stopped("remove a handler");
        require_open();
        worker_->handlers().unregister(task_type);
    }

    [[nodiscard]] std::vector<std::string> handler_names() const {
        require_open();
        return worker_->handlers().names();
    }

    void start() {
        require_stopped("start it");
        require_open();
        stop_ = false;
        worker::Worker* w = worker_.get();
        loop_.start([this, w] { w->run(&stop_); },
                    [this, w] {
                        stop_ = true;
                        w->stop();
                    });
    }

    // Asks the worker to stop and waits for it, unless called from one of its own
    // handlers: then it only asks (the handler must return first).
    void stop() {
        if (in_handler_thread()) {
            loop_.request_stop();
            return;
        }
        py::gil_scoped_release nogil;
        loop_.stop();
    }

    // Stops the worker and frees it (sockets, threads, handlers). Idempotent; a closed
    // worker cannot start again.
    void close() {
        if (in_handler_thread())
            throw CoreError{"state", "", "a handler cannot close its own worker"};
        closed_ = true; // from here on start() refuses
        {
            py::gil_scoped_release nogil;
            loop_.stop();
        }
        // Other methods read worker_ holding the GIL: take it with the GIL, free it without.
        std::unique_ptr<worker::Worker> w = std::move(worker_);
        py::gil_scoped_release nogil;
        w.reset();
    }

    bool wait(double seconds) {
        py::gil_scoped_release nogil;
        return loop_.wait(seconds);
    }

    [[nodiscard]] bool running() const { return loop_.running(); }
    [[nodiscard]] std::string error() const { return loop_.error(); }
    [[nodiscard]] std::string state() const {
        return worker_ ? std::string(worker::to_string(worker_->state())) : "closed";
    }
    [[nodiscard]] const std::string& device_id() const { return device_id_; }
    [[nodiscard]] unsigned slots() const {
        require_open();
        return worker_->slots();
    }
    [[nodiscard]] py::object capabilities() const {
        require_open();
        return to_python(capabilities_to_value(worker_->capabilities()));
    }

private:
    void require_open() const {
        if (closed_ || !worker_) throw CoreError{"state", "", "the worker is closed"};
    }

    void require_stopped(const char* what) const {
        if (loop_.running())
            throw CoreError{"state", "", std::string("the worker is running: stop it to ") + what};
    }

    std::string device_id_;
    bool closed_ = false; // read and written with the GIL held
    std::unique_ptr<worker::Worker> worker_;
    std::atomic<bool> stop_{false};
    BackgroundLoop loop_; // declared last: stopped before the worker goes away
};

} // namespace

void bind_worker(py::module_& m) {
    py::class_<PyWorker>(m, "Worker")
        .def(py::init<const std::string&, const std::string&, const std::string&,
                      const std::vector<std::string>&, unsigned, int, bool, const std::string&,
                      bool, bool, const std::string&, const std::string&, bool, bool,
                      const std::vector<std::string>&, const std::string&>(),
             py::arg("join"), py::arg("device_id") = "", py::arg("role") = "",
             py::arg("tags") = std::vector<std::string>{}, py::arg("slots") = 0u,
             py::arg("heartbeat_ms") = 1000, py::arg("check_internet") = true,
             py::arg("storage_path") = ".", py::arg("builtin_handlers") = true,
             py::arg("python_eval") = true, py::arg("python_path") = "",
             py::arg("sandbox_script") = "", py::arg("http") = true,
             py::arg("allow_private_network") = false,
             py::arg("allowed_programs") = std::vector<std::string>{},
             py::arg("command_workdir") = "")
        .def("add_handler", &PyWorker::add_handler, py::arg("task_type"), py::arg("runner"))
        .def("remove_handler", &PyWorker::remove_handler, py::arg("task_type"))
        .def_property_readonly("handler_names", &PyWorker::handler_names)
        .def("start", &PyWorker::start)
        .def("stop", &PyWorker::stop)
        .def("close", &PyWorker::close)
        .def("wait", &PyWorker::wait, py::arg("timeout"))
        .def_property_readonly("running", &PyWorker::running)
        .def_property_readonly("error", &PyWorker::error)
        .def_property_readonly("state", &PyWorker::state)
        .def_property_readonly("device_id", &PyWorker::device_id)
        .def_property_readonly("slots", &PyWorker::slots)
        .def_property_readonly("capabilities", &PyWorker::capabilities);
}

} // namespace rc::py_bindings
