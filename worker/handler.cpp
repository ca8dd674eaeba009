// HandlerRegistry, CancelToken waiting and HandlerOutput helpers.
#include "handler.hpp"

#include <thread>

#include "common/codec.hpp"

namespace rc::worker {

bool CancelToken::wait_for(std::chrono::steady_clock::duration d) const {
    // Poll in short steps: handlers are few and the flag is cheap; a condition variable
    // would make the token non-copyable across the executor's message boundary.
    auto deadline = std::chrono::steady_clock::now() + d;
    while (!stop_requested()) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return false;
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            deadline - now, std::chrono::milliseconds(5)));
    }
    return true;
}

Result<Value, std::string> TaskContext::decoded_payload() const {
    return codec::decode_value(payload);
}

HandlerOutput HandlerOutput::ok(const Value& v) { return ok_encoded(codec::encode_value(v)); }

HandlerOutput HandlerOutput::stopped(const CancelToken& token) {
    if (token.why() == CancelToken::Why::Timeout) return timed_out("task exceeded its timeout");
    if (token.why() == CancelToken::Why::Shutdown) return cancelled("worker shutting down");
    return cancelled("task cancelled");
}

void HandlerRegistry::register_handler(std::string task_type, Handler handler) {
    inline_.erase(task_type);
    handlers_[std::move(task_type)] = std::move(handler);
}

void HandlerRegistry::register_inline(std::string task_type, Handler handler) {
    inline_.insert(task_type);
    handlers_[std::move(task_type)] = std::move(handler);
}

void HandlerRegistry::unregister(const std::string& task_type) {
    handlers_.erase(task_type);
    inline_.erase(task_type);
}

const Handler* HandlerRegistry::find(const std::string& task_type) const {
    auto it = handlers_.find(task_type);
    return it == handlers_.end() ? nullptr : &it->second;
}

std::vector<std::string> HandlerRegistry::names() const {
    std::vector<std::string> out;
    out.reserve(handlers_.size());
    for (const auto& [k, _] : handlers_) out.push_back(k);
    return out;
}

} // namespace rc::worker
