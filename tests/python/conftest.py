"""Fixtures for the retire_cluster tests: clusters of real processes, in-process clusters,
and logging state restored after each test.

Every process a test starts is stopped at teardown; every wait is bounded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import retire_cluster
from harness import ProcessCluster
from retire_cluster import _core


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[ProcessCluster]:
    """An empty cluster of processes; the test starts the broker and workers it needs."""
    c = ProcessCluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def local() -> Iterator[retire_cluster.LocalCluster]:
    """An in-process cluster shared by one module's tests: two workers with two slots."""
    with retire_cluster.LocalCluster(workers=2, slots=2, retry_backoff=0.05) as cluster:
        yield cluster


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undoes what a test did to the package's loggers and to the C++ log level."""
    names = ["retire_cluster", "retire_cluster.scheduler"]
    saved = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names}
    core_level = _core.log_level()
    yield
    for n, (level, handlers) in saved.items():
        lg = logging.getLogger(n)
        lg.setLevel(level)
        lg.handlers[:] = handlers
    _core.set_log_level(core_level)
