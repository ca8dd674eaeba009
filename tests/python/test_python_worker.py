"""Python workers: custom handlers reached from other processes, failures, heartbeats while
a handler runs, and a clean stop on Ctrl-C and SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest

import retire_cluster
from harness import ProcessCluster, wait_until
from retire_cluster import RetireClusterError, Worker
from retire_cluster.tasks import Task, TaskRequirements, TaskStatus


@pytest.fixture
def broker(processes: ProcessCluster) -> ProcessCluster:
    """A broker process with fast heartbeats (100 ms x 3) and quick retries."""
    processes.broker("--retry-backoff-ms", "50")
    return processes


@pytest.fixture
def py_worker(broker: ProcessCluster) -> Iterator[Worker]:
    """An in-process Python worker joined to the broker process; the test registers its
    handlers and starts it."""
    w = Worker(broker.address, device_id="py-worker", check_internet=False, heartbeat=0.1,
               builtin_handlers=False, slots=2)
    try:
        yield w
    finally:
        w.close()


def submit_cli(cluster: ProcessCluster, task_type: str, payload: Any, *extra: str) -> Any:
    r = cluster.cli("retire-cluster-submit", "--type", task_type, "--payload",
                    json.dumps(payload), "--wait", "--json", "--wait-timeout", "60", *extra)
    assert r.returncode in (0, 3), r.stderr
    return json.loads(r.stdout)[0]


def test_a_handler_is_reached_from_the_submit_cli(
    broker: ProcessCluster, py_worker: Worker
) -> None:
    seen: list[Any] = []

    def reverse(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload)
        return {"reversed": payload["text"][::-1], "length": len(payload["text"])}

    py_worker.executor.register_handler("reverse", reverse)
    py_worker.start()
    assert py_worker.wait_until_registered(10)
    result = submit_cli(broker, "reverse", {"text": "retired devices"})
    assert result["status"] == "success"
    assert result["result_data"] == {"reversed": "secived deriter", "length": 15}
    assert result["device_id"] == "py-worker"
    assert seen == [{"text": "retired devices"}]


def test_a_handler_exception_comes_back_as_failed_with_its_message(
    broker: ProcessCluster, py_worker: Worker
) -> None:
    def explode(payload: dict[str, Any]) -> None:
        raise RuntimeError(f"exploded on purpose: {payload['why']}")

    py_worker.executor.register_handler("explode", explode)
    py_worker.start()
    assert py_worker.wait_until_registered(10)
    result = submit_cli(broker, "explode", {"why": "testing"}, "--retries", "1")
    assert result["status"] == "failed"
    error = result["error_message"]
    assert error.startswith("RuntimeError: exploded on purpose: testing\n")
    assert "Traceback (most recent call last):" in error
    assert "in explode" in error
    assert result["attempts"] == 2
    assert all("exploded on purpose" in e["error"] for e in result["attempt_errors"])


def test_a_result_that_cannot_travel_fails_the_task_clearly(
    broker: ProcessCluster, py_worker: Worker
) -> None:
    py_worker.executor.register_handler("sets", lambda payload: {1, 2})
    py_worker.start()
    assert py_worker.wait_until_registered(10)
    result = submit_cli(broker, "sets", {}, "--retries", "0")
    assert result["status"] == "failed"
    assert "result of handler 'sets' cannot be sent" in result["error_message"]


def test_a_busy_python_handler_does_not_stop_heartbeats(
    broker: ProcessCluster, py_worker: Worker
) -> None:
    def spin(payload: dict[str, float]) -> int:
        n, end = 0, time.monotonic() + payload["seconds"]
        while time.monotonic() < end:  # pure Python, holding the GIL between switches
            n += 1
        return n

    py_worker.executor.register_handler("spin", spin)
    py_worker.start()
    assert py_worker.wait_until_registered(10)
    with retire_cluster.connect(broker.address) as client:
        registered_at = client.get_device("py-worker")["registered_at"]
        # 1.5 s of spinning is five times the broker's 300 ms liveness window.
        task_id = client.submit_task(Task("spin", {"seconds": 1.5}))
        result = client.wait_for_result(task_id, timeout=30)
        device = client.get_device("py-worker")
    assert result.status is TaskStatus.SUCCESS and result.attempts == 1
    assert device["status"] == "online"
    assert device["registered_at"] == registered_at  # never dropped and re-registered


def test_stop_from_inside_a_handler_stops_after_it(
    broker: ProcessCluster, py_worker: Worker
) -> None:
    py_worker.executor.register_handler("quit", lambda payload: py_worker.stop())
    py_worker.start()
    assert py_worker.wait_until_registered(10)
    with retire_cluster.connect(broker.address) as client:
        result = client.wait_for_result(client.submit_task(Task("quit")), timeout=30)
    assert result.status is TaskStatus.SUCCESS
    assert wait_until(lambda: not py_worker.is_running, 10)


def test_handlers_are_registered_before_the_worker_starts(py_worker: Worker) -> None:
    py_worker.executor.register_handler("a", lambda payload: payload)
    assert py_worker.executor.task_types == ["a"]
    assert py_worker.executor.get_handler("b") is None
    py_worker.start()
    with pytest.raises(RetireClusterError, match="running"):
        py_worker.executor.register_handler("b", lambda payload: payload)
    py_worker.stop()
    py_worker.executor.register_handler("b", lambda payload: payload)
    py_worker.executor.unregister_handler("a")
    assert py_worker.executor.task_types == ["b"]
    with pytest.raises(ValueError, match="task_type"):
        py_worker.executor.register_handler("bad name!", lambda payload: payload)


def test_a_worker_advertises_builtins_and_its_options(broker: ProcessCluster) -> None:
    with Worker(broker.address, device_id="opts", role="compute", tags=["gpu-capable", "x"],
                slots=3, check_internet=False, allowed_programs=["ls"], heartbeat=0.1) as w:
        assert w.wait_until_registered(10)
        with retire_cluster.connect(broker.address) as client:
            caps = client.get_device_capabilities("opts")
    assert caps["role"] == "compute" and caps["tags"] == ["gpu-capable", "x"]
    assert caps["slots"] == 3
    assert {"echo", "sleep", "system_info", "http_request", "command"} <= set(caps["handlers"])
    assert w.state == "closed"


# Each script starts by handling SIGINT as Python does in a terminal: a parent shell that
# ran the tests in the background may have passed SIGINT down as ignored.
WORKER_SCRIPT = textwrap.dedent("""
    import os, signal, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import retire_cluster

    # While stopping, a worker waits for its running tasks without heartbeating: a 1 s
    # interval (3 s liveness) leaves room for the 0.5 s task below.
    w = retire_cluster.Worker(os.environ["ADDRESS"], device_id="signalled",
                              check_internet=False, heartbeat=1.0)
    w.executor.register_handler("nap", lambda payload: time.sleep(payload["s"]) or "rested")
    print("running", flush=True)
    w.run()
    print("returned cleanly", flush=True)
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_running_worker_cleanly(broker: ProcessCluster, sig: int) -> None:
    proc = broker.python(WORKER_SCRIPT, "py-worker")
    with retire_cluster.connect(broker.address) as client:
        assert wait_until(lambda: "signalled" in client.get_online_devices(), 20), proc.output()
        task_id = client.submit_task(Task("nap", {"s": 0.5},
                                          requirements=TaskRequirements(max_retries=0)))
        assert wait_until(lambda: client.get_task_status(task_id) is TaskStatus.RUNNING, 10)
        proc.signal(sig)
        try:
            code = proc.popen.wait(15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker did not stop:\n{proc.output()}")
        assert code == 0, proc.output()
        assert "returned cleanly" in proc.output()
        # The running handler finished and its result was delivered before the worker left.
        result = client.wait_for_result(task_id, timeout=10)
        assert result.status is TaskStatus.SUCCESS and result.result_data == "rested"
        device = client.get_device("signalled")
    assert device["status"] == "offline"
    assert device["drop_reason"] == "disconnected"
