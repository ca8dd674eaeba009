"""Helpers for the Python tests: the installed binaries, real processes on 127.0.0.1 with
ephemeral ports, and bounded waits on conditions.

Binaries come from RC_BIN_DIR when it is set, else from the scripts directory that
``pip install .`` filled, else from PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from procs import Proc, free_port, wait_until  # noqa: E402  (shared with tests/process)

__all__ = ["ROOT", "Proc", "ProcessCluster", "binary", "child_pids", "thread_count", "unused_port",
           "wait_until"]


def binary(name: str) -> str:
    """The absolute path of one of the installed retire-cluster binaries."""
    candidates = []
    if os.environ.get("RC_BIN_DIR"):
        candidates.append(Path(os.environ["RC_BIN_DIR"]) / name)
    candidates.append(Path(sysconfig.get_path("scripts")) / name)
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (pip install .)")
    return found


unused_port = free_port


def thread_count() -> int:
    """OS threads of this process, Python's and C++'s alike."""
    return len(os.listdir("/proc/self/task"))


def child_pids() -> set[int]:
    """Live child processes of this process."""
    me = str(os.getpid())
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[1] == me and fields[0] != "Z":
            out.add(int(entry))
    return out


class ProcessCluster:
    """A broker and workers as separate processes (the installed binaries)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[Proc] = []
        self.address = ""
        self._n = 0

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Proc:
        self._n += 1
        p = Proc(args, self.tmp / f"{self._n:02d}-{name}.log", env)
        self.procs.append(p)
        return p

    def broker(self, *extra: str, heartbeat_ms: int = 100) -> Proc:
        p = self.start("broker", [binary("retire-cluster-main"), "--bind", "127.0.0.1",
                                  "--port", "0", "--heartbeat-ms", str(heartbeat_ms), *extra])
        found = wait_until(
            lambda: re.search(r"listening on tcp://127\.0\.0\.1:(\d+)", p.output()), 10
        )
        assert found, f"the broker did not start:\n{p.output()}"
        self.address = f"127.0.0.1:{found.group(1)}"
        return p

    def worker(self, device_id: str, *extra: str, slots: int = 2,
               heartbeat_ms: int = 100) -> Proc:
        return self.start(device_id, [binary("retire-cluster-worker"), "--join", self.address,
                                      "--device-id", device_id, "--slots", str(slots),
                                      "--heartbeat-ms", str(heartbeat_ms),
                                      "--no-internet-check", *extra])

    def cli(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([binary(tool), self.address, *args], capture_output=True,
                              text=True, timeout=timeout)

    def python(self, code: str, log_name: str) -> Proc:
        """A separate Python process running ``code``; ADDRESS holds the broker address."""
        env = dict(os.environ, ADDRESS=self.address, PYTHONUNBUFFERED="1")
        return self.start(log_name, [sys.executable, "-c", code], env)

    def close(self) -> None:
        for p in reversed(self.procs):
            p.stop()
