// Time as the cores see it: a monotonic instant for every decision, and a wall-clock
// reading only for timestamps shown to people. Read once per loop pass and passed in.
#pragma once

#include <chrono>

namespace rc {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;

struct Now {
    TimePoint mono;
    double wall = 0; // unix seconds

    static Now real() {
        return {Clock::now(), std::chrono::duration<double>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()};
    }
    // Advances both readings together (tests).
    Now operator+(Clock::duration d) const {
        return {mono + d, wall + std::chrono::duration<double>(d).count()};
    }
};

} // namespace rc
