"""A worker node in this process: ``Worker`` and its ``executor`` of task handlers.

The C++ worker does the work: it registers with the broker, heartbeats, reconnects, and
runs each task on one of its slot threads. A handler written in Python runs on such a slot
thread and holds the GIL only while its own code runs, so a slow handler never delays the
heartbeats. Handlers must be registered before the worker starts.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Callable

from retire_cluster import _core
from retire_cluster.errors import RetireClusterError, from_core

__all__ = ["Handler", "TaskExecutor", "Worker"]

logger = logging.getLogger(__name__)

#: A task handler: called with the task's payload, returns the task's result (plain data).
Handler = Callable[[Any], Any]

# How often run() wakes up to let Python handle signals (Ctrl-C).
_POLL_SECONDS = 0.1
_SANDBOX = Path(__file__).resolve().parent / "_sandbox" / "rc_eval.py"


def describe_exception(exc: BaseException, skip_frames: int = 0) -> str:
    """The error text of a failed handler: "ExcType: message", then the traceback
    (without its first ``skip_frames`` frames)."""
    tb = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None:
            tb = tb.tb_next
    lines = traceback.format_exception(type(exc), exc, tb)
    return f"{type(exc).__name__}: {exc}\n" + "".join(lines)


def _runner(task_type: str, fn: Handler) -> Callable[[Any, str, int], tuple[bool, Any]]:
    """Wraps a handler for the C++ worker: (True, msgpack bytes) or (False, error text)."""

    def fail(task_id: str, attempt: int, e: BaseException, text: str) -> tuple[bool, Any]:
        logger.warning("task %s (%s, attempt %d) failed: %s: %s",
                       task_id, task_type, attempt, type(e).__name__, e)
        return False, text

    def run(payload: Any, task_id: str, attempt: int) -> tuple[bool, Any]:
        try:
            result = fn(payload)
        except BaseException as e:  # a handler's failure is the task's, never the worker's
            return fail(task_id, attempt, e, describe_exception(e, skip_frames=1))
        try:
            return True, _core.encode(result)
        except (TypeError, ValueError) as e:
            return fail(task_id, attempt, e,
                        f"{type(e).__name__}: the result of handler {task_type!r} "
                        f"cannot be sent: {e}")

    return run


class TaskExecutor:
    """The task types a worker runs: the built-in ones and handlers registered here."""

    def __init__(self, core: _core.Worker) -> None:
        self._core = core
        self._custom: dict[str, Handler] = {}

    def register_handler(self, task_type: str, handler: Handler) -> None:
        """Runs ``handler(payload)`` for tasks of ``task_type``; its return value is the
        task's result and an exception fails the task with its message and traceback.
        Replaces a built-in or earlier handler of the same name."""
        if not callable(handler):
            raise TypeError(f"handler for {task_type!r} must be callable")
        try:
            self._core.add_handler(task_type, _runner(task_type, handler))
        except _core.CoreError as e:
            raise from_core(e) from e
        self._custom[task_type] = handler

    def unregister_handler(self, task_type: str) -> None:
        """Stops advertising ``task_type`` (built-in or registered)."""
        try:
            self._core.remove_handler(task_type)
        except _core.CoreError as e:
            raise from_core(e) from e
        self._custom.pop(task_type, None)

    def get_handler(self, task_type: str) -> Handler | None:
        """The Python handler registered for ``task_type``, if any."""
        return self._custom.get(task_type)

    @property
    def task_types(self) -> list[str]:
        """Every task type this worker advertises, built-in and registered, sorted."""
        return sorted(self._core.handler_names)


class Worker:
    """A worker that joins the broker at ``join`` ("host:port") and runs its tasks.

    ``role`` is worker, compute, storage or mobile (default: mobile on Android, else
    worker); ``slots`` is how many tasks run at once (0: one per CPU core). ``heartbeat``
    is the proposed interval in seconds. ``python_eval``, ``http``,
    ``allow_private_network`` and ``allowed_programs`` set which of the built-in task types
    that reach outside the worker are enabled, as the retire-cluster-worker options do.

    ``run()`` blocks until Ctrl-C or ``stop()``; ``start()`` runs the worker in the
    background; ``with Worker(...) as w:`` starts it and closes it on exit.
    """

    def __init__(
        self,
        join: str = "127.0.0.1:8080",
        *,
        role: str | None = None,
        tags: Iterable[str] = (),
        slots: int = 0,
        device_id: str | None = None,
        heartbeat: float = 1.0,
        check_internet: bool = True,
        storage_path: str = ".",
        builtin_handlers: bool = True,
        python_eval: bool = True,
        python_path: str | None = None,
        http: bool = True,
        allow_private_network: bool = False,
        allowed_programs: Iterable[str] = (),
        command_workdir: str | None = None,
    ) -> None:
        if isinstance(tags, str):
            tags = [t for t in tags.split(",") if t]
        if isinstance(allowed_programs, str):
            allowed_programs = [allowed_programs]
        try:
            self._core = _core.Worker(
                join,
                device_id=device_id or "",
                role=role or "",
                tags=list(tags),
                slots=slots,
                heartbeat_ms=round(heartbeat * 1000),
                check_internet=check_internet,
                storage_path=storage_path,
                builtin_handlers=builtin_handlers,
                python_eval=python_eval,
                python_path=python_path or "",
                sandbox_script=str(_SANDBOX) if _SANDBOX.is_file() else "",
                http=http,
                allow_private_network=allow_private_network,
                allowed_programs=list(allowed_programs),
                command_workdir=command_workdir or "",
            )
        except _core.CoreError as e:
            raise from_core(e) from e
        self.join_address = join
        self.executor = TaskExecutor(self._core)

    def __repr__(self) -> str:
        return f"Worker({self.device_id!r}, join={self.join_address!r}, state={self.state!r})"

    @property
    def device_id(self) -> str:
        return self._core.device_id

    @property
    def slots(self) -> int:
        return self._core.slots

    @property
    def capabilities(self) -> dict[str, Any]:
        """What this worker advertises: cpu_cores, memory_gb, platform, role, tags, ..."""
        caps: dict[str, Any] = self._core.capabilities
        return caps

    @property
    def state(self) -> str:
        """disconnected, awaiting_welcome, registered, stopped or closed."""
        return self._core.state

    @property
    def is_running(self) -> bool:
        return self._core.running

    def start(self) -> None:
        """Runs the worker on a background thread and returns at once."""
        try:
            self._core.start()
        except _core.CoreError as e:
            raise from_core(e) from e

    def wait_until_registered(self, timeout: float = 10.0) -> bool:
        """Waits until the broker has accepted this worker; False if ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        while self._core.state != "registered":
            if not self._core.running or time.monotonic() >= deadline:
                return False
            self._core.wait(0.01)
        return True

    def stop(self) -> None:
        """Stops the worker and waits for it: running tasks are asked to stop, the broker
        is told. Returns once running handlers have returned. Called from one of this
        worker's handlers, it only asks, and the worker stops after that handler."""
        self._core.stop()
        self._raise_if_failed()

    def close(self) -> None:
        """Stops the worker and frees everything it holds (sockets, threads, handlers).
        Idempotent; a closed worker cannot start again."""
        try:
            self._core.close()
        except _core.CoreError as e:
            raise from_core(e) from e
        self._raise_if_failed()

    def run(self) -> None:
        """Runs the worker (or waits for one already started) until ``stop()`` or Ctrl-C,
        then stops it cleanly and returns.

        Called from the main thread, SIGTERM also stops it cleanly while it runs.
        """
        restore = _stop_on_sigterm()
        try:
            if not self._core.running:
                self.start()
            while not self._core.wait(_POLL_SECONDS):
                pass
        except KeyboardInterrupt:
            logger.info("worker %s interrupted, stopping", self.device_id)
        finally:
            restore()
            self._core.stop()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._core.error:
            raise RetireClusterError(f"worker {self.device_id} failed: {self._core.error}")

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _stop_on_sigterm() -> Callable[[], None]:
    """Makes SIGTERM raise KeyboardInterrupt in the main thread; returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore
