"""What `pip install .` puts in place: the four binaries beside the interpreter's scripts,
the python_eval sandbox where the installed worker looks for it, and the seed's
command-line block run with them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sysconfig
from pathlib import Path

import pytest

import retire_cluster
from harness import Proc, binary, unused_port, wait_until
from seed_snippets import snippet

BINARIES = ["retire-cluster-main", "retire-cluster-worker", "retire-cluster-status",
            "retire-cluster-submit"]


@pytest.mark.parametrize("name", BINARIES)
def test_the_binaries_are_installed_as_scripts(name: str) -> None:
    path = Path(sysconfig.get_path("scripts")) / name
    assert path.is_file() and os.access(path, os.X_OK), f"{path} missing: pip install ."


def test_the_sandbox_is_where_the_installed_worker_looks() -> None:
    scripts = Path(sysconfig.get_path("scripts"))
    assert (scripts.parent / "share" / "retire-cluster" / "rc_eval.py").is_file()
    package = Path(retire_cluster.__file__).parent
    assert (package / "_sandbox" / "rc_eval.py").is_file()


def test_the_cli_block_of_the_seed_runs(tmp_path: Path) -> None:
    """The block as written, with its port and address changed to a free local port."""
    port = str(unused_port())
    commands = [
        shlex.split(line.replace("8080", port).replace("192.168.1.100", "127.0.0.1"))
        for line in snippet("cli_integration").code.splitlines()
        if line and not line.startswith("#")
    ]
    assert [c[0] for c in commands] == BINARIES[:3]
    procs = [Proc([binary(c[0]), *c[1:]], tmp_path / f"{c[0]}.log") for c in commands[:2]]
    try:
        main, worker = procs
        assert wait_until(lambda: "listening on" in main.output(), 10), main.output()

        def status() -> str:
            r = subprocess.run([binary(commands[2][0]), *commands[2][1:]], capture_output=True,
                               text=True, timeout=30)
            return r.stdout if r.returncode == 0 else ""

        out = wait_until(lambda: (s := status()) and "1 online" in s and s, 20)
        assert out, status()
        assert re.search(r"^Devices\s+1 online / 1 total\s+\(compute 1\)", out, re.MULTILINE)
        assert "retire-cluster-worker" in worker.output()
    finally:
        for p in reversed(procs):
            p.stop()
