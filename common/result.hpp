// Result<T, E>: the return type for expected failures (peer input, I/O, validation).
// Exceptions stay reserved for programmer errors and fatal start-up failures.
#pragma once

#include <utility>
#include <variant>

namespace rc {

template <typename E> struct Err {
    E error;
};
template <typename E> Err<std::decay_t<E>> err(E&& e) { return {std::forward<E>(e)}; }

template <typename T, typename E> class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    template <typename E2> Result(Err<E2> e) : v_(std::in_place_index<1>, E(std::move(e.error))) {}

    [[nodiscard]] bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const E& error() const { return std::get<1>(v_); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, E> v_;
};

// Result<void, E> spelled as Status<E>.
struct Unit {};
template <typename E> using Status = Result<Unit, E>;

} // namespace rc
