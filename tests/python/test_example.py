"""examples/task_execution_example.py runs to the end, on its own cluster and on another."""

from __future__ import annotations

import subprocess
import sys

from harness import ROOT, ProcessCluster

EXAMPLE = ROOT / "examples" / "task_execution_example.py"


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True, text=True,
                          timeout=100)


def test_the_example_runs_on_a_local_cluster() -> None:
    r = run_example()
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    for line in [
        "== Built-in task types",
        "  echo          success  on local-",
        "  sleep         success  on local-",
        "  system_info   success  on local-",
        "  python_eval   success  on local-",
        "  http_request  success  on local-",
        "  command       success  on local-",
        "  role compute  success  on local-1",
        "because: no online device has min_memory_gb >= 4096",
        "  word_count    success  on python-worker",
        "  parse_reading failed   on python-worker",
        "  ran:       URGENT, HIGH, NORMAL, LOW",
        "  Online devices: 3",
        "Done: the local cluster and python-worker have stopped.",
    ]:
        assert line in out, f"missing {line!r} in:\n{out}"
    assert "Traceback" not in r.stderr


def test_the_example_runs_against_another_cluster(processes: ProcessCluster) -> None:
    processes.broker()
    processes.worker("remote-1")
    r = run_example("--cluster", processes.address)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "  echo          success  on remote-1" in r.stdout
    assert "(http_request and command skipped" in r.stdout
    assert "  ran:       URGENT, HIGH, NORMAL, LOW" in r.stdout
    assert "Done: python-worker has left the cluster." in r.stdout
