"""The exception tree: one root, built-in bases where callers expect them, codes kept."""

from __future__ import annotations

import pytest

from retire_cluster import (
    BrokerError,
    BrokerUnreachableError,
    InvalidTaskError,
    RetireClusterError,
    TaskTimeoutError,
    UnknownDeviceError,
    UnknownTaskError,
    _core,
)
from retire_cluster.errors import from_core


@pytest.mark.parametrize(
    ("kind", "code", "cls"),
    [
        ("unreachable", "", BrokerUnreachableError),
        ("invalid", "invalid_requirements", InvalidTaskError),
        ("broker", "invalid_task", InvalidTaskError),
        ("broker", "invalid_requirements", InvalidTaskError),
        ("broker", "duplicate_task", InvalidTaskError),
        ("broker", "unknown_task_type", InvalidTaskError),
        ("broker", "unknown_task", UnknownTaskError),
        ("broker", "unknown_device", UnknownDeviceError),
        ("broker", "queue_full", BrokerError),
        ("broker", "shutting_down", BrokerError),
        ("protocol", "", BrokerError),
        ("state", "", RetireClusterError),
    ],
)
def test_core_errors_map_onto_the_tree(kind: str, code: str,
                                       cls: type[RetireClusterError]) -> None:
    e = from_core(_core.CoreError(kind, code, "what happened"))
    assert type(e) is cls
    assert "what happened" in str(e)
    if kind == "broker":
        assert e.code == code and str(e) == f"{code}: what happened"


def test_built_in_bases() -> None:
    assert issubclass(BrokerUnreachableError, ConnectionError)
    assert issubclass(TaskTimeoutError, TimeoutError)
    assert issubclass(InvalidTaskError, ValueError)
    assert issubclass(UnknownTaskError, KeyError)
    assert issubclass(UnknownDeviceError, KeyError)
    for cls in (BrokerUnreachableError, TaskTimeoutError, InvalidTaskError, UnknownTaskError,
                UnknownDeviceError, BrokerError):
        assert issubclass(cls, RetireClusterError)


def test_a_key_error_subclass_reads_as_its_message() -> None:
    assert str(UnknownTaskError("unknown task 'x'", "unknown_task")) == "unknown task 'x'"
