// The worker command line as a function, so that a program can add its own handlers
// (the C++ way to ship custom task types) and still get every standard option.
#pragma once

#include <functional>

#include "handler.hpp"

namespace rc::worker {

// Parses options, builds the Worker, lets `add_handlers` register extra task types, and
// runs until SIGINT/SIGTERM. Returns the process exit code (2 for usage errors).
int run_worker_cli(int argc, char** argv, const std::function<void(HandlerRegistry&)>& add_handlers = {});

} // namespace rc::worker
