"""Retire-Cluster for Python: submit tasks to a cluster of retired devices, run a worker,
or run a whole cluster inside this process.

    import retire_cluster
    from retire_cluster.tasks import Task

    scheduler = retire_cluster.connect("192.168.1.100:8080")
    task_id = scheduler.submit_task(Task(task_type="echo", payload={"message": "hi"}))
    print(scheduler.wait_for_result(task_id, timeout=30).result_data)

The broker, the worker and the client are the C++ core (``retire_cluster._core``); this
package converts Python data to and from it and adds no scheduling of its own.
"""

from __future__ import annotations

from retire_cluster import _runtime
from retire_cluster.client import ClusterClient, Scheduler, TaskInfo, TaskQueue, connect
from retire_cluster.errors import (
    BrokerError,
    BrokerUnreachableError,
    InvalidTaskError,
    RetireClusterError,
    TaskTimeoutError,
    UnknownDeviceError,
    UnknownTaskError,
)
from retire_cluster.local import LocalCluster
from retire_cluster.logs import get_logger
from retire_cluster.tasks import (
    Task,
    TaskPriority,
    TaskRequirements,
    TaskResult,
    TaskStatus,
)
from retire_cluster.worker import Handler, TaskExecutor, Worker

__version__ = "0.1.0"

__all__ = [
    "BrokerError",
    "BrokerUnreachableError",
    "ClusterClient",
    "Handler",
    "InvalidTaskError",
    "LocalCluster",
    "RetireClusterError",
    "Scheduler",
    "Task",
    "TaskExecutor",
    "TaskInfo",
    "TaskPriority",
    "TaskQueue",
    "TaskRequirements",
    "TaskResult",
    "TaskStatus",
    "TaskTimeoutError",
    "UnknownDeviceError",
    "UnknownTaskError",
    "Worker",
    "__version__",
    "connect",
    "get_logger",
]

_runtime.install()
