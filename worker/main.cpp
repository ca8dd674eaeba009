// retire-cluster-worker: the worker binary with the built-in task types.
#include "cli.hpp"

int main(int argc, char** argv) { return rc::worker::run_worker_cli(argc, argv); }
