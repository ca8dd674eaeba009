"""Fixtures for real-process tests: the real binaries on 127.0.0.1 with ephemeral ports.

Every process a test starts is killed at teardown; every wait is a bounded poll on a
condition.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from procs import Proc, free_port, wait_until  # shared with tests/python

__all__ = ["BIN", "Cluster", "Proc", "Redis", "free_port", "wait_until"]
BIN = Path(os.environ.get("RC_BIN_DIR", ROOT / "build" / "bin"))


class Cluster:
    """Starts brokers and workers for one test and cleans them up."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[Proc] = []
        self.port = 0
        self.address = ""
        self._n = 0

    def _start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Proc:
        self._n += 1
        p = Proc(args, self.tmp / f"{self._n:02d}-{name}.log", env=env)
        self.procs.append(p)
        return p

    def broker(self, *extra: str, port: int = 0, heartbeat_ms: int = 100) -> Proc:
        p = self._start("broker", [str(BIN / "retire-cluster-main"), "--bind", "127.0.0.1",
                                   "--port", str(port), "--heartbeat-ms", str(heartbeat_ms), *extra])
        found = wait_until(lambda: re.search(r"listening on tcp://127\.0\.0\.1:(\d+)", p.output()), 10)
        assert found, f"broker did not start:\n{p.output()}"
        self.port = int(found.group(1))
        self.address = f"127.0.0.1:{self.port}"
        return p

    def worker(self, device_id: str, *extra: str, slots: int = 2, heartbeat_ms: int = 100,
               binary: str = "rc-test-worker", env: dict[str, str] | None = None) -> Proc:
        return self._start(device_id, [str(BIN / binary), "--join", self.address, "--device-id", device_id,
                                       "--slots", str(slots), "--heartbeat-ms", str(heartbeat_ms),
                                       "--no-internet-check", "--no-python", *extra], env=env)

    def cli(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / tool), self.address, *args], capture_output=True, text=True,
                              timeout=timeout)

    def stats(self) -> dict[str, Any]:
        r = self.cli("retire-cluster-status", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def devices(self, include_offline: bool = True) -> dict[str, dict[str, Any]]:
        args = ["--devices", "--json"] + (["--all"] if include_offline else [])
        r = self.cli("retire-cluster-status", *args)
        assert r.returncode == 0, r.stderr
        return {d["device_id"]: d for d in json.loads(r.stdout)}

    def online(self) -> set[str]:
        return {k for k, d in self.devices().items() if d["status"] == "online"}

    def wait_online(self, ids: set[str], timeout: float = 10) -> bool:
        return bool(wait_until(lambda: ids <= self.online(), timeout, step=0.05))

    def submit(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.cli("retire-cluster-submit", *args, timeout=timeout)

    def close(self) -> None:
        for p in reversed(self.procs):
            p.kill()
            p.stop()


class Redis:
    """A real redis-server on an ephemeral port, started and stopped by the test."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp / "redis"
        self.dir.mkdir(exist_ok=True)
        self.port = free_port()
        self.proc: Proc | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import shutil

        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = Proc([server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                          "--appendonly", "yes", "--save", "", "--protected-mode", "no"],
                         self.dir / f"redis-{int(time.time() * 1000)}.log")
        assert wait_until(self.ping, 10), self.proc.output()

    def ping(self) -> bool:
        return self.cli("PING").strip() == "PONG"

    def cli(self, *args: str) -> str:
        r = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=30)
        return r.stdout

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
            self.proc = None


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    r = Redis(tmp_path)
    r.start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()
