"""The task records: the seed's names, fields and defaults, and validation by the C++ rules."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from retire_cluster import InvalidTaskError, RetireClusterError
from retire_cluster.tasks import Task, TaskPriority, TaskRequirements, TaskStatus


def test_task_defaults() -> None:
    t = Task(task_type="echo")
    assert t.payload == {}
    assert t.priority is TaskPriority.NORMAL
    assert t.requirements == TaskRequirements()
    assert t.metadata == {}
    assert uuid.UUID(t.task_id).version == 4
    assert Task(task_type="echo").task_id != t.task_id


def test_requirement_defaults_accept_any_device() -> None:
    r = TaskRequirements()
    assert (r.min_cpu_cores, r.min_memory_gb, r.min_storage_gb) == (0, 0.0, 0.0)
    assert (r.gpu_required, r.internet_required) == (False, False)
    assert (r.required_platform, r.required_role, r.required_tags) == (None, None, [])
    assert (r.timeout_seconds, r.max_retries) == (300.0, 3)


def test_priorities_compare_as_numbers() -> None:
    assert TaskPriority.URGENT > TaskPriority.HIGH > TaskPriority.NORMAL > TaskPriority.LOW
    assert [p.value for p in TaskPriority] == [0, 1, 2, 3]
    assert sorted([TaskPriority.LOW, TaskPriority.URGENT, TaskPriority.NORMAL])[-1] == (
        TaskPriority.URGENT
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [("urgent", TaskPriority.URGENT), ("High", TaskPriority.HIGH), (0, TaskPriority.LOW)],
)
def test_a_priority_may_be_given_by_name_or_value(given: Any, expected: TaskPriority) -> None:
    assert Task(task_type="echo", priority=given).priority is expected


def test_an_unknown_priority_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown priority"):
        Task(task_type="echo", priority="asap")  # type: ignore[arg-type]


def test_status_values_are_the_lowercase_words() -> None:
    assert [s.value for s in TaskStatus] == [
        "pending", "queued", "assigned", "running", "success", "failed", "timeout", "cancelled"
    ]
    assert TaskStatus("success") is TaskStatus.SUCCESS
    assert {s for s in TaskStatus if s.is_terminal} == {
        TaskStatus.SUCCESS, TaskStatus.FAILED, TaskStatus.TIMEOUT, TaskStatus.CANCELLED
    }


@pytest.mark.parametrize(
    ("task", "code", "message"),
    [
        (Task(task_type="bad type!"), "invalid_task", "task_type"),
        (Task(task_type="echo", task_id="has space"), "invalid_task", "task_id"),
        (Task("echo", requirements=TaskRequirements(max_retries=-1)), "invalid_requirements",
         "max_retries"),
        (Task("echo", requirements=TaskRequirements(timeout_seconds=0)), "invalid_requirements",
         "timeout_seconds"),
        (Task("echo", requirements=TaskRequirements(min_memory_gb=-1)), "invalid_requirements",
         "negative"),
        (Task("echo", requirements=TaskRequirements(required_platform="beos")),
         "invalid_requirements", "required_platform"),
        (Task("echo", requirements=TaskRequirements(required_role="boss")),
         "invalid_requirements", "required_role"),
        (Task("echo", requirements=TaskRequirements(required_tags=["no spaces"])),
         "invalid_requirements", "tags"),
    ],
)
def test_validation_follows_the_core_rules(task: Task, code: str, message: str) -> None:
    with pytest.raises(InvalidTaskError, match=message) as info:
        task.validate()
    assert info.value.code == code
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, RetireClusterError)


def test_the_seed_requirement_values_are_valid() -> None:
    Task("python_eval", requirements=TaskRequirements(
        min_cpu_cores=4, min_memory_gb=8, min_storage_gb=100, gpu_required=True,
        internet_required=True, required_platform="linux", required_role="compute",
        required_tags=["gpu-capable"], timeout_seconds=60, max_retries=3)).validate()


@pytest.mark.parametrize(
    ("requirements", "field"),
    [
        (TaskRequirements(min_cpu_cores="4"), "min_cpu_cores"),  # type: ignore[arg-type]
        (TaskRequirements(min_cpu_cores=4.5), "min_cpu_cores"),  # type: ignore[arg-type]
        (TaskRequirements(required_tags="gpu"), "required_tags"),  # type: ignore[arg-type]
        (TaskRequirements(required_role=3), "required_role"),  # type: ignore[arg-type]
    ],
)
def test_wrong_field_types_are_a_type_error_naming_the_field(
    requirements: TaskRequirements, field: str
) -> None:
    with pytest.raises(TypeError, match=field):
        Task("echo", requirements=requirements).validate()


def test_a_payload_that_cannot_travel_fails_validation_with_a_type_error() -> None:
    with pytest.raises(TypeError, match="type set"):
        Task("echo", payload={"s": {1, 2}}).validate()
