// retire_cluster._core: the extension module. The Python package (retire_cluster/) is the
// public API; this module only exposes the C++ client, broker, worker and logging to it.
#include "module.hpp"

PYBIND11_MODULE(_core, m) {
    using namespace rc::py_bindings;
    m.doc() = "The Retire-Cluster C++ core (client, broker, worker, logging) for retire_cluster.";
    bind_errors(m);
    bind_client(m);
    bind_broker(m);
    bind_worker(m);
    bind_logging(m);
    bind_runtime(m);
}
