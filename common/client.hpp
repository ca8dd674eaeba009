// rc::Client: the C++ client API over one DEALER socket (submit, status, results, cancel,
// statistics, devices). The one API the CLIs and the Python bindings wrap. Not
// thread-safe: use one Client per thread. Every call has a deadline.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol.hpp"
#include "result.hpp"

namespace zmq {
class context_t;
class socket_t;
} // namespace zmq

namespace rc {

struct ClientError {
    enum class Kind { Unreachable, Timeout, Broker, Protocol };
    Kind kind = Kind::Broker;
    proto::ErrorCode code = proto::ErrorCode::Internal; // for Kind::Broker
    std::string message;
    [[nodiscard]] std::string describe() const;
};

// "host", "host:port", "tcp://host:port" -> "tcp://host:port" (default port 8080).
Result<std::string, std::string> normalize_endpoint(const std::string& address, int default_port = 8080);

class Client {
public:
    struct Options {
        std::chrono::milliseconds request_timeout{10'000}; // per request, without waits
    };
    // Connects lazily; construction never blocks. Throws only for an unparsable address.
    explicit Client(const std::string& address);
    Client(const std::string& address, Options opts);
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;

    [[nodiscard]] const std::string& endpoint() const { return endpoint_; }

    Result<std::vector<TaskId>, ClientError> submit(std::vector<TaskSpec> tasks, bool strict = false);
    Result<TaskId, ClientError> submit_one(TaskSpec task);
    // Submits and waits in one round trip: the reply comes when every task has ended or
    // `wait` has passed, and holds the results of the tasks that ended.
    Result<proto::SubmitReply, ClientError> submit_wait(std::vector<TaskSpec> tasks, std::chrono::milliseconds wait);
    Result<proto::TaskInfo, ClientError> status(const TaskId& id);
    // Results of the given tasks. With wait > 0 the broker answers when all (or, with
    // any = true, any) are terminal, or when `wait` passes.
    Result<proto::ResultReply, ClientError> results(const std::vector<TaskId>& ids,
                                                    std::chrono::milliseconds wait = {}, bool any = false);
    // Waits for every task, in rounds bounded by `timeout` overall. Results come back in
    // the order of `ids`; tasks not finished in time are missing from the result.
    Result<std::vector<TaskResult>, ClientError> wait_all(const std::vector<TaskId>& ids,
                                                          std::chrono::milliseconds timeout);
    Result<proto::CancelReply, ClientError> cancel(const TaskId& id);
    Result<Value, ClientError> stats();
    Result<Value, ClientError> devices(const std::string& role = {}, bool include_offline = false);
    Result<Value, ClientError> device(const DeviceId& id);

private:
    Result<proto::ClientReply, ClientError> call(proto::ClientRequest req, std::chrono::milliseconds extra);
    void reset_socket();

    std::string endpoint_;
    Options opts_;
    std::unique_ptr<zmq::context_t> ctx_;
    std::unique_ptr<zmq::socket_t> sock_;
    std::uint64_t next_req_ = 1;
};

} // namespace rc
