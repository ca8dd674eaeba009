"""LocalCluster: a whole cluster in this process that leaves nothing running behind it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness import Proc, binary, child_pids, thread_count, wait_until
from retire_cluster import LocalCluster, RetireClusterError
from retire_cluster.tasks import Task, TaskRequirements, TaskStatus


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello from 127.0.0.1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def http_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hello"
    finally:
        server.shutdown()
        server.server_close()
        t.join(10)


def test_a_local_cluster_leaves_no_thread_or_process_behind() -> None:
    threads, children = thread_count(), child_pids()
    with LocalCluster(workers=2, allowed_programs=["echo"]) as cluster:
        assert thread_count() > threads
        s = cluster.scheduler
        ids = s.submit_tasks([Task("python_eval", {"expression": "2 + 2"}),
                              Task("command", {"command": ["echo", "hi"]}),
                              Task("sleep", {"duration": 0.1})])
        results = s.wait_for_results(ids, timeout=30)
        assert [r.status for r in results] == [TaskStatus.SUCCESS] * 3
        assert results[0].result_data == 4
        assert results[1].result_data["stdout"] == "hi\n"
        # One more that is still running when the cluster closes.
        s.submit_task(Task("sleep", {"duration": 60}))
    assert wait_until(lambda: thread_count() == threads, 10), (thread_count(), threads)
    assert child_pids() == children


def test_close_is_idempotent_and_the_client_goes_with_it() -> None:
    cluster = LocalCluster(workers=1)
    address = cluster.address
    cluster.close()
    cluster.close()
    with pytest.raises(RetireClusterError, match="closed"):
        cluster.scheduler.get_online_devices()
    r = subprocess.run([binary("retire-cluster-status"), address, "--timeout-ms", "300"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1  # the port is closed too


def test_other_processes_can_use_the_local_cluster() -> None:
    handlers = {"whoami": lambda payload: payload["ask"] + ": a Python handler"}
    with LocalCluster(workers=2, roles=["compute", "mobile"], tags=["lab"],
                      handlers=handlers) as cluster:
        r = subprocess.run([binary("retire-cluster-status"), cluster.address, "--devices",
                            "--json"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        devices = {d["device_id"]: d for d in json.loads(r.stdout)}
        assert devices["local-1"]["role"] == "compute"
        assert devices["local-2"]["role"] == "mobile"
        assert devices["local-2"]["capabilities"]["tags"] == ["lab"]
        code = (
            "import sys, retire_cluster\n"
            "from retire_cluster.tasks import Task, TaskRequirements\n"
            "s = retire_cluster.connect(sys.argv[1])\n"
            "t = Task('whoami', {'ask': 'who'}, "
            "requirements=TaskRequirements(required_role='mobile'))\n"
            "r = s.wait_for_result(s.submit_task(t), timeout=30)\n"
            "print(r.device_id, r.result_data, sep='|')\n"
        )
        r = subprocess.run([sys.executable, "-c", code, cluster.address], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "local-2|who: a Python handler"


def test_http_request_reaches_a_local_server_when_allowed(http_url: str) -> None:
    with LocalCluster(workers=1, allow_private_network=True) as cluster:
        s = cluster.scheduler
        result = s.wait_for_result(s.submit_task(Task("http_request", {"url": http_url})), 30)
    assert result.status is TaskStatus.SUCCESS, result.error_message
    assert result.result_data["status_code"] == 200
    assert result.result_data["body"] == "hello from 127.0.0.1\n"


def test_http_request_to_loopback_is_refused_by_default(http_url: str) -> None:
    with LocalCluster(workers=1) as cluster:
        s = cluster.scheduler
        task = Task("http_request", {"url": http_url}, requirements=TaskRequirements(max_retries=0))
        result = s.wait_for_result(s.submit_task(task), 30)
    assert result.status is TaskStatus.FAILED
    assert "refused" in result.error_message or "not allowed" in result.error_message


WAITER_SCRIPT = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
import retire_cluster
from retire_cluster.tasks import Task
with retire_cluster.LocalCluster(workers=1) as cluster:
    task_id = cluster.scheduler.submit_task(Task("sleep", {"duration": 60}))
    print("waiting", flush=True)
    started = time.monotonic()
    try:
        cluster.scheduler.wait_for_result(task_id)
    except KeyboardInterrupt:
        print(f"interrupted after {time.monotonic() - started:.1f} s", flush=True)
print("closed", flush=True)
"""


def test_ctrl_c_interrupts_a_wait_and_the_cluster_still_closes(tmp_path: Path) -> None:
    proc = Proc([sys.executable, "-c", WAITER_SCRIPT], tmp_path / "waiter.log")
    try:
        assert wait_until(lambda: "waiting" in proc.output(), 20), proc.output()
        proc.signal(signal.SIGINT)
        assert proc.popen.wait(20) == 0, proc.output()
    finally:
        proc.stop()
    out = proc.output()
    assert re.search(r"^interrupted after \d+\.\d s$", out, re.MULTILINE), out
    assert out.endswith("closed\n"), out


def test_zero_workers_is_a_broker_alone() -> None:
    with LocalCluster(workers=0) as cluster:
        assert cluster.workers == []
        assert cluster.scheduler.get_online_devices() == []
        info = cluster.scheduler.get_task_info(cluster.scheduler.submit_task(Task("echo")))
        assert info["status"] is TaskStatus.QUEUED
        assert "no online devices" in info["reason"]
