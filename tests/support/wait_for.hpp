// wait_for(pred, timeout): polls a predicate until it holds or the deadline passes.
// Tests wait on conditions with this, never on fixed sleeps.
#pragma once

#include <chrono>
#include <thread>

namespace rc::test {

template <typename Pred>
bool wait_for(Pred&& pred, std::chrono::milliseconds timeout,
              std::chrono::milliseconds step = std::chrono::milliseconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(step); // a polling step, not a wait for an outcome
    }
}

} // namespace rc::test
