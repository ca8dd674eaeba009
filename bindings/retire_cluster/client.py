"""Talking to a cluster: ``connect()`` and the ClusterClient it returns.

Every method is one request to the broker (a wait is a series of bounded requests), made by
the C++ client with the GIL released. The broker makes every decision; this module only
converts arguments and replies and raises the exceptions of ``retire_cluster.errors``.
A client may be shared by threads.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypedDict

from retire_cluster import _core
from retire_cluster.errors import TaskTimeoutError, UnknownTaskError, from_core
from retire_cluster.tasks.model import Task, TaskPriority, TaskResult, TaskStatus

__all__ = ["ClusterClient", "Scheduler", "TaskInfo", "TaskQueue", "connect"]

# A wait asks the broker to hold each request at most this long, so that Ctrl-C and the
# caller's own deadline are noticed promptly.
_WAIT_ROUND = 1.0
# Ids per RESULT request, keeping each reply well under the broker's message limit.
_RESULT_CHUNK = 20_000


class TaskInfo(TypedDict):
    """A task as the broker sees it now; ``reason`` says why it waits or how it ended."""

    task_id: str
    task_type: str
    status: TaskStatus
    priority: TaskPriority
    attempts: int
    device_id: str
    reason: str
    created_at: float
    updated_at: float


@contextmanager
def _core_errors() -> Iterator[None]:
    try:
        yield
    except _core.CoreError as e:
        raise from_core(e) from e


class TaskQueue:
    """The broker's task queues, seen through one client (``scheduler.task_queue``)."""

    def __init__(self, client: ClusterClient) -> None:
        self._client = client

    def get_queue_statistics(self) -> dict[str, Any]:
        """The ``queue_stats`` section of the broker's statistics: total_tasks, queued,
        active, by_status, queued_by_priority, waiting_retry, requirement_classes."""
        stats: dict[str, Any] = self._client.get_cluster_statistics()["queue_stats"]
        return stats


class ClusterClient:
    """A connection to one broker. Construction never blocks; the first request connects.

    ``timeout`` bounds each request (waits excepted): a broker that does not answer in
    time raises BrokerUnreachableError.
    """

    def __init__(self, address: str, *, timeout: float = 10.0) -> None:
        with _core_errors():
            self._core = _core.Client(address, timeout)
        self.task_queue = TaskQueue(self)

    @property
    def address(self) -> str:
        """The broker as HOST:PORT."""
        return self._core.endpoint.removeprefix("tcp://")

    def __repr__(self) -> str:
        return f"ClusterClient({self.address!r})"

    # ------------------------------------------------------------------ submitting
    def submit_task(self, task: Task) -> str:
        """Validates and submits one task; returns its id (``task.task_id``)."""
        return self.submit_tasks([task])[0]

    def submit_tasks(self, tasks: Iterable[Task], *, strict: bool = False) -> list[str]:
        """Submits a batch in one request, accepted or refused as a whole.

        With ``strict``, the broker refuses task types that no online device runs.
        """
        batch = list(tasks)
        for t in batch:
            if not isinstance(t, Task):
                raise TypeError(f"submit a Task, not {type(t).__name__}")
        if not batch:
            return []
        with _core_errors():
            return self._core.submit(batch, strict)

    # ------------------------------------------------------------------ watching
    def get_task_status(self, task_id: str) -> TaskStatus:
        """The task's status now. Unknown ids raise UnknownTaskError."""
        return self.get_task_info(task_id)["status"]

    def get_task_info(self, task_id: str) -> TaskInfo:
        """Status, attempts, device and the broker's reason (why it waits or how it ended)."""
        with _core_errors():
            d = self._core.status(task_id)
        return TaskInfo(
            task_id=d["task_id"],
            task_type=d["task_type"],
            status=TaskStatus(d["status"]),
            priority=TaskPriority(d["priority"]),
            attempts=d["attempts"],
            device_id=d["device_id"],
            reason=d["reason"],
            created_at=d["created_at"],
            updated_at=d["updated_at"],
        )

    def get_task_result(self, task_id: str) -> TaskResult | None:
        """The result of a finished task, or None while it has not finished."""
        with _core_errors():
            results, _pending, unknown = self._core.results([task_id], 0.0, False)
        if unknown:
            raise UnknownTaskError(f"unknown task {task_id!r}", "unknown_task")
        return TaskResult._from_core(results[0]) if results else None

    def wait_for_result(self, task_id: str, timeout: float | None = None) -> TaskResult:
        """Waits until the task finishes and returns its result.

        Raises TaskTimeoutError when ``timeout`` seconds pass first (None: no limit).
        """
        return self.wait_for_results([task_id], timeout)[0]

    def wait_for_results(
        self, task_ids: Sequence[str], timeout: float | None = None
    ) -> list[TaskResult]:
        """Waits until every task finishes; results come in the order of ``task_ids``.

        Raises TaskTimeoutError when ``timeout`` seconds pass first (None: no limit), and
        UnknownTaskError for an id the broker does not know.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        done: dict[str, TaskResult] = {}
        pending = list(dict.fromkeys(task_ids))
        while pending:
            left = None if deadline is None else deadline - time.monotonic()
            wait = _WAIT_ROUND if left is None else max(0.0, min(_WAIT_ROUND, left))
            chunk = pending[:_RESULT_CHUNK]
            with _core_errors():
                results, _still, unknown = self._core.results(chunk, wait, False)
            if unknown:
                raise UnknownTaskError(f"unknown task {unknown[0]!r}", "unknown_task")
            for r in results:
                done[r["task_id"]] = TaskResult._from_core(r)
            pending = [t for t in pending if t not in done]
            if pending and left is not None and left <= wait:
                if len(task_ids) == 1:
                    raise TaskTimeoutError(f"task {pending[0]!r} not finished after {timeout} s")
                raise TaskTimeoutError(f"{len(pending)} of {len(task_ids)} tasks not finished "
                                       f"after {timeout} s (the first: {pending[0]!r})")
        return [done[t] for t in task_ids]

    def cancel_task(self, task_id: str) -> bool:
        """Cancels a task that has not finished; True if this call cancelled it."""
        with _core_errors():
            _status, changed = self._core.cancel(task_id)
        return changed

    # ------------------------------------------------------------------ the cluster
    def get_cluster_statistics(self) -> dict[str, Any]:
        """The broker's statistics: ``cluster_stats``, ``queue_stats``, ``scheduler_stats``,
        ``device_load``, ``errors`` and ``broker`` (docs/protocol.md, STATS)."""
        with _core_errors():
            stats: dict[str, Any] = self._core.stats()
        return stats

    def get_devices(
        self, role: str | None = None, *, include_offline: bool = False
    ) -> list[dict[str, Any]]:
        """Device records (status, capabilities, handlers, slots, load, metrics, ...)."""
        with _core_errors():
            devices: list[dict[str, Any]] = self._core.devices(role or "", include_offline)
        return devices

    def get_online_devices(self) -> list[str]:
        """The ids of the devices online now."""
        return [d["device_id"] for d in self.get_devices()]

    def get_device(self, device_id: str) -> dict[str, Any]:
        """One device record, online or not. Unknown ids raise UnknownDeviceError."""
        with _core_errors():
            device: dict[str, Any] = self._core.device(device_id)
        return device

    def get_device_capabilities(self, device_id: str) -> dict[str, Any]:
        """What the device advertised: cpu_cores, memory_gb, storage_gb, platform,
        architecture, hostname, gpu, gpu_name, internet, role, tags, plus the task types it
        runs (``handlers``) and its ``slots``."""
        device = self.get_device(device_id)
        caps = dict(device["capabilities"])
        caps["handlers"] = device["handlers"]
        caps["slots"] = device["slots"]
        return caps

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Closes the connection; later calls raise RetireClusterError."""
        self._core.close()

    def __enter__(self) -> ClusterClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


#: Another name for the client: the task execution guide calls it the scheduler.
Scheduler = ClusterClient


def connect(address: str = "127.0.0.1:8080", *, timeout: float = 10.0) -> ClusterClient:
    """A client for the broker at ``address`` ("host", "host:port" or "tcp://host:port";
    port 8080 by default). ``timeout`` bounds each request, in seconds."""
    return ClusterClient(address, timeout=timeout)
