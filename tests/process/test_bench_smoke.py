"""scripts/bench still runs end to end: a smoke run of two scenarios writes valid JSON.

No timing assertions: the numbers belong to docs/performance.md, not to CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BIN

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(60)
def test_bench_smoke_run_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench-results.json"
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench"), "--quick", "--smoke", "--no-build",
         "--only", "latency,scheduler", "--output", str(out)],
        env={**os.environ, "RC_BIN_DIR": str(BIN)}, capture_output=True, text=True, timeout=55,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert {"latency", "scheduler"} <= set(report["scenarios"])
    for name in ("latency", "scheduler"):
        assert "error" not in report["scenarios"][name], report["scenarios"][name]
    assert {"machine", "ratios", "targets"} <= set(report)
