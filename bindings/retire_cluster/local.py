"""LocalCluster: a broker and workers inside this process, for work on one machine.

The broker and each worker are the C++ ones, each on its own thread with the GIL released,
listening on 127.0.0.1 on a free port. Closing the cluster stops and joins all of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType

from retire_cluster import _core
from retire_cluster.client import ClusterClient
from retire_cluster.errors import RetireClusterError, from_core
from retire_cluster.worker import Handler, Worker

__all__ = ["LocalCluster"]

logger = logging.getLogger(__name__)


class LocalCluster:
    """A broker and ``workers`` workers in this process; starts at once.

    ``scheduler`` is a client connected to it and ``address`` its "127.0.0.1:PORT", which
    other processes (retire-cluster-worker, retire-cluster-submit, ``connect()``) may use
    too. Worker *i* gets device id ``local-<i+1>``, ``slots`` slots, and role
    ``roles[i % len(roles)]``. ``handlers`` are registered on every worker. ``heartbeat``
    and ``retry_backoff`` (the delay before a failed task's first retry) are in seconds.
    ``allow_private_network`` lets http_request reach 127.0.0.1 and the LAN, and
    ``allowed_programs`` enables the command task type for those programs.

    Use it as a context manager, or call ``close()``::

        with LocalCluster(workers=2) as cluster:
            task_id = cluster.scheduler.submit_task(Task(task_type="echo", payload={"n": 1}))
    """

    def __init__(
        self,
        workers: int = 2,
        *,
        slots: int = 2,
        roles: Sequence[str] | str | None = None,
        tags: Iterable[str] = (),
        heartbeat: float = 1.0,
        retry_backoff: float = 1.0,
        python_eval: bool = True,
        http: bool = True,
        allow_private_network: bool = False,
        allowed_programs: Iterable[str] = (),
        handlers: Mapping[str, Handler] | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        if workers < 0:
            raise ValueError("workers must not be negative")
        role_list = [roles] if isinstance(roles, str) else list(roles or [""])
        programs = list(allowed_programs)
        tag_list = list(tags)
        self.workers: list[Worker] = []
        self._scheduler: ClusterClient | None = None
        try:
            self._broker = _core.Broker("127.0.0.1", 0, heartbeat_ms=round(heartbeat * 1000),
                                        retry_backoff_ms=round(retry_backoff * 1000))
        except _core.CoreError as e:
            raise from_core(e) from e
        self.address = f"127.0.0.1:{self._broker.port}"
        try:
            self._broker.start()
            for i in range(workers):
                w = Worker(self.address, device_id=f"local-{i + 1}",
                           role=role_list[i % len(role_list)] or None, tags=tag_list,
                           slots=slots, heartbeat=heartbeat, check_internet=False,
                           python_eval=python_eval, http=http,
                           allow_private_network=allow_private_network,
                           allowed_programs=programs)
                for task_type, fn in (handlers or {}).items():
                    w.executor.register_handler(task_type, fn)
                self.workers.append(w)
                w.start()
            self._scheduler = ClusterClient(self.address)
            self._wait_online(start_timeout)
        except BaseException:
            self.close()
            raise
        logger.info("local cluster on %s with %d worker(s)", self.address, workers)

    @property
    def scheduler(self) -> ClusterClient:
        """A client of this cluster's broker."""
        if self._scheduler is None:
            raise RetireClusterError("the local cluster is closed")
        return self._scheduler

    def _wait_online(self, timeout: float) -> None:
        want = {w.device_id for w in self.workers}
        deadline = time.monotonic() + timeout
        while not want <= set(self.scheduler.get_online_devices()):
            if time.monotonic() >= deadline:
                raise RetireClusterError(
                    f"local workers did not register within {timeout} s: "
                    + ", ".join(f"{w.device_id} {w.state}" for w in self.workers)
                )
            time.sleep(0.01)  # polling the broker, bounded by the deadline above

    def close(self) -> None:
        """Stops the workers, then the broker, and waits for all of them. Idempotent."""
        if self._scheduler is not None:
            self._scheduler.close()
            self._scheduler = None
        for w in self.workers:
            w.close()
        self.workers = []
        self._broker.stop()

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalCluster({self.address!r}, workers={len(self.workers)})"
