"""Tasks: what a client submits and what it gets back.

    from retire_cluster.tasks import Task, TaskRequirements, TaskPriority, TaskStatus

The integrations with other frameworks (``retire_cluster.tasks.integrations``) are not part
of this release.
"""

from __future__ import annotations

from retire_cluster.tasks.model import (
    AttemptError,
    Task,
    TaskPriority,
    TaskRequirements,
    TaskResult,
    TaskStatus,
)

__all__ = ["AttemptError", "Task", "TaskPriority", "TaskRequirements", "TaskResult", "TaskStatus"]
