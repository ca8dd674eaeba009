"""The exceptions of retire_cluster: one root, a shallow tree.

Every failure the package expects raises a subclass of :class:`RetireClusterError`. Several
also derive from the built-in exception a caller would reach for first, so that
``except TimeoutError`` or ``except ValueError`` keeps working::

    RetireClusterError
    ├── BrokerUnreachableError  (ConnectionError)  no reply from the broker in time
    ├── TaskTimeoutError        (TimeoutError)     a wait for a result ran out
    ├── InvalidTaskError        (ValueError)       refused by validation, here or by the broker
    ├── UnknownTaskError        (KeyError)         the broker does not know the task id
    ├── UnknownDeviceError      (KeyError)         the broker does not know the device id
    └── BrokerError                                any other refusal; ``.code`` says which

``code`` is the protocol's error word (``"invalid_requirements"``, ``"queue_full"``, ...;
see docs/protocol.md section 7.1), or ``None`` when the failure did not come from the broker.
"""

from __future__ import annotations

from retire_cluster import _core

__all__ = [
    "BrokerError",
    "BrokerUnreachableError",
    "InvalidTaskError",
    "RetireClusterError",
    "TaskTimeoutError",
    "UnknownDeviceError",
    "UnknownTaskError",
]


class RetireClusterError(Exception):
    """The root of every exception this package raises on purpose."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class BrokerUnreachableError(RetireClusterError, ConnectionError):
    """The broker did not answer within the client's timeout."""


class TaskTimeoutError(RetireClusterError, TimeoutError):
    """A wait for a task's result ran out before the task finished."""


class InvalidTaskError(RetireClusterError, ValueError):
    """A task or its requirements failed validation (before sending, or at the broker)."""


class UnknownTaskError(RetireClusterError, KeyError):
    """The broker has never seen the task id, or no longer retains the task."""


class UnknownDeviceError(RetireClusterError, KeyError):
    """The broker has never seen the device id."""


class BrokerError(RetireClusterError):
    """The broker refused a request for another reason; ``code`` names it."""


# Broker error words -> the class raised. Words not listed raise BrokerError.
_BY_CODE: dict[str, type[RetireClusterError]] = {
    "invalid_task": InvalidTaskError,
    "invalid_requirements": InvalidTaskError,
    "duplicate_task": InvalidTaskError,
    "unknown_task_type": InvalidTaskError,
    "unknown_task": UnknownTaskError,
    "unknown_device": UnknownDeviceError,
}


def from_core(error: _core.CoreError) -> RetireClusterError:
    """The public exception for a CoreError(kind, code, message) raised by the C++ core."""
    kind, code, message = error.args
    if kind == "unreachable":
        return BrokerUnreachableError(f"broker unreachable: {message}")
    if kind == "invalid":
        return InvalidTaskError(message, code or None)
    if kind == "broker":
        return _BY_CODE.get(code, BrokerError)(f"{code}: {message}", code)
    if kind == "protocol":
        return BrokerError(f"unexpected reply from the broker: {message}", "protocol")
    return RetireClusterError(message, code or None)
