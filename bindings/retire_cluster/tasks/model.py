"""The task records: what a client submits (Task, TaskRequirements, TaskPriority) and what
it gets back (TaskStatus, TaskResult).

They are plain data. Validation follows the C++ core's single set of rules
(``Task.validate()``; ``submit_task`` calls it before anything is sent), and the broker
decides every status change: nothing here moves a task from one status to another.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

from retire_cluster import _core
from retire_cluster.errors import from_core

__all__ = ["AttemptError", "Task", "TaskPriority", "TaskRequirements", "TaskResult", "TaskStatus"]


class TaskPriority(enum.IntEnum):
    """How urgent a task is. Higher values run first; FIFO within one level.

    The values are the wire values, so priorities compare as numbers:
    ``TaskPriority.URGENT > TaskPriority.HIGH > TaskPriority.NORMAL > TaskPriority.LOW``.
    """

    LOW = 0
    NORMAL = 1
    HIGH = 2
    URGENT = 3

    @classmethod
    def parse(cls, value: TaskPriority | int | str) -> TaskPriority:
        """A priority from a member, its value (0-3) or its name in any case ("high")."""
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                raise ValueError(
                    f"unknown priority {value!r}: use urgent, high, normal or low"
                ) from None
        return cls(value)


class TaskStatus(enum.Enum):
    """Where a task is in its life; ``status.value`` is the lowercase word the broker uses."""

    PENDING = "pending"  #: created, not yet accepted into a queue
    QUEUED = "queued"  #: waiting for an eligible device with a free slot, or for a retry
    ASSIGNED = "assigned"  #: leased to a worker, not yet reported started
    RUNNING = "running"  #: the worker reported that it started
    SUCCESS = "success"  #: finished; ``result_data`` holds the handler's return value
    FAILED = "failed"  #: finished; every attempt failed (``error_message`` says why)
    TIMEOUT = "timeout"  #: finished; the last attempt ran out of time
    CANCELLED = "cancelled"  #: finished; cancelled by a client

    @property
    def is_terminal(self) -> bool:
        """True for SUCCESS, FAILED, TIMEOUT and CANCELLED: the status will not change again."""
        return self in _TERMINAL


_TERMINAL = frozenset({TaskStatus.SUCCESS, TaskStatus.FAILED, TaskStatus.TIMEOUT,
                       TaskStatus.CANCELLED})


@dataclass
class TaskRequirements:
    """What a device must offer to run a task. The defaults accept any device.

    ``min_cpu_cores=0``, ``min_memory_gb=0`` and ``min_storage_gb=0`` mean "any"; ``None``
    for ``required_platform`` / ``required_role`` means any platform / role.
    ``timeout_seconds`` bounds one attempt; a task runs at most ``max_retries + 1`` times.
    """

    min_cpu_cores: int = 0
    min_memory_gb: float = 0.0
    min_storage_gb: float = 0.0
    gpu_required: bool = False
    internet_required: bool = False
    required_platform: str | None = None  #: "linux", "android", "darwin" or "windows"
    required_role: str | None = None  #: "worker", "compute", "storage" or "mobile"
    required_tags: list[str] = field(default_factory=list)  #: all must be on the device
    timeout_seconds: float = 300.0
    max_retries: int = 3


def _new_task_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Task:
    """One unit of work: a task type (the handler's name) and its payload.

    The payload is plain data (dict, list, str, int, float, bool, None, bytes; tuples
    travel as lists) and reaches the handler as sent. ``task_id`` is a fresh UUID unless
    given; it is the id the broker uses.
    """

    task_type: str
    payload: Any = field(default_factory=dict)
    priority: TaskPriority = TaskPriority.NORMAL
    requirements: TaskRequirements = field(default_factory=TaskRequirements)
    task_id: str = field(default_factory=_new_task_id)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        given: object = self.priority
        if not isinstance(given, TaskPriority):
            if not isinstance(given, (int, str)):
                raise TypeError(f"priority must be a TaskPriority, not {type(given).__name__}")
            self.priority = TaskPriority.parse(given)

    def validate(self) -> None:
        """Raises InvalidTaskError if the broker would refuse this task (type name, id,
        requirement ranges), and TypeError/ValueError for payloads it cannot carry."""
        try:
            _core.validate_task(self)
        except _core.CoreError as e:
            raise from_core(e) from e


@dataclass(frozen=True)
class AttemptError:
    """One unsuccessful attempt of a task, kept so that a result explains every retry."""

    attempt: int
    status: str  #: "failed", "timeout", "device_lost", ...
    error: str
    device_id: str


@dataclass(frozen=True)
class TaskResult:
    """The outcome of a finished task.

    ``result_data`` is the handler's return value when ``status`` is SUCCESS (else None);
    ``error_message`` explains FAILED and TIMEOUT. Times are Unix seconds;
    ``execution_time`` is the last attempt's run time in seconds.
    """

    task_id: str
    status: TaskStatus
    result_data: Any = None
    error_message: str = ""
    device_id: str = ""
    attempts: int = 0
    execution_time: float = 0.0
    created_at: float = 0.0
    started_at: float = 0.0
    completed_at: float = 0.0
    attempt_errors: tuple[AttemptError, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the task succeeded."""
        return self.status is TaskStatus.SUCCESS

    @classmethod
    def _from_core(cls, d: dict[str, Any]) -> TaskResult:
        return cls(
            task_id=d["task_id"],
            status=TaskStatus(d["status"]),
            result_data=d["result_data"],
            error_message=d["error_message"],
            device_id=d["device_id"],
            attempts=d["attempts"],
            execution_time=d["execution_time"],
            created_at=d["created_at"],
            started_at=d["started_at"],
            completed_at=d["completed_at"],
            attempt_errors=tuple(AttemptError(**e) for e in d["attempt_errors"]),
        )
