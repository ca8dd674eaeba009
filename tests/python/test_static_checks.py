"""Typing and lint: mypy --strict accepts the seed document's blocks as a reader would write
them, and the package, examples and tests; ruff is clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness import ROOT
from seed_snippets import SNIPPETS

# What the seed document's blocks assume their reader already has. The document's custom
# handler is an unannotated function, so that one check is relaxed for this file.
SEED_PRELUDE = '''\
# mypy: allow-untyped-defs
from __future__ import annotations

from typing import Any

import retire_cluster
from retire_cluster import ClusterClient, TaskExecutor, TaskQueue, get_logger
from retire_cluster.tasks import Task, TaskPriority, TaskRequirements, TaskStatus

scheduler: ClusterClient = retire_cluster.connect("127.0.0.1:8080")
cluster_client: ClusterClient = scheduler
executor: TaskExecutor = retire_cluster.Worker("127.0.0.1:8080").executor
task_queue: TaskQueue = scheduler.task_queue


def process_data(data: Any) -> Any:
    return data

'''


def mypy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=110)


def test_mypy_strict_accepts_the_seed_blocks(tmp_path: Path) -> None:
    blocks = [f"# --- {s.name}\n{s.code}" for s in SNIPPETS if s.kind == "python"]
    source = tmp_path / "seed_blocks.py"
    source.write_text(SEED_PRELUDE + "\n".join(blocks))
    r = mypy("--strict", "--warn-unreachable", "--cache-dir",
             str(ROOT / "build" / ".mypy_cache_seed"), source.name, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_accepts_the_package_examples_and_tests() -> None:
    r = mypy(cwd=ROOT)  # pyproject.toml: strict, over bindings/, examples/, tests/python/
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_is_clean() -> None:
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "bindings", "examples",
                        "tests/python"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
