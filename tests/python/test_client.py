"""ClusterClient against a real broker (in this process): every call and every error."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import retire_cluster
from harness import unused_port, wait_until
from retire_cluster import (
    BrokerUnreachableError,
    ClusterClient,
    InvalidTaskError,
    LocalCluster,
    RetireClusterError,
    TaskTimeoutError,
    UnknownDeviceError,
    UnknownTaskError,
    _core,
)
from retire_cluster.tasks import Task, TaskPriority, TaskRequirements, TaskStatus


@pytest.fixture
def scheduler(local: LocalCluster) -> ClusterClient:
    return local.scheduler


def test_a_payload_comes_back_from_echo_unchanged(scheduler: ClusterClient) -> None:
    payload = {"message": "Hello World!", "n": 2**64 - 1, "neg": -(2**63), "f": 2.5,
               "none": None, "bin": b"\x00\xff", "list": [1, [2, {"k": True}]], 7: "int key"}
    task = Task(task_type="echo", payload=payload)
    task_id = scheduler.submit_task(task)
    assert task_id == task.task_id
    result = scheduler.wait_for_result(task_id, timeout=30)
    assert result.status is TaskStatus.SUCCESS and result.ok
    assert result.result_data == payload
    assert result.error_message == ""
    assert result.device_id in {"local-1", "local-2"}
    assert result.attempts == 1
    assert result.created_at <= result.started_at <= result.completed_at
    assert result.execution_time >= 0
    assert result.attempt_errors == ()


def test_a_batch_is_one_submission_and_ids_keep_their_order(scheduler: ClusterClient) -> None:
    tasks = [Task(task_type="echo", payload={"i": i}) for i in range(50)]
    ids = scheduler.submit_tasks(tasks)
    assert ids == [t.task_id for t in tasks]
    results = scheduler.wait_for_results(ids, timeout=30)
    assert [r.result_data for r in results] == [{"i": i} for i in range(50)]
    assert scheduler.submit_tasks([]) == []


def test_status_info_and_result_while_running_and_after(scheduler: ClusterClient) -> None:
    task_id = scheduler.submit_task(Task(task_type="sleep", payload={"duration": 0.5},
                                         priority=TaskPriority.HIGH))
    assert scheduler.get_task_status(task_id) in {
        TaskStatus.QUEUED, TaskStatus.ASSIGNED, TaskStatus.RUNNING}
    assert scheduler.get_task_result(task_id) is None
    info = scheduler.get_task_info(task_id)
    assert info["task_type"] == "sleep"
    assert info["priority"] is TaskPriority.HIGH
    result = scheduler.wait_for_result(task_id, timeout=30)
    assert result.result_data == {"slept": 0.5}
    assert result.execution_time >= 0.5
    assert scheduler.get_task_status(task_id) is TaskStatus.SUCCESS
    fetched = scheduler.get_task_result(task_id)
    assert fetched is not None and fetched.result_data == {"slept": 0.5}


def test_a_task_no_device_can_run_waits_with_the_reason(scheduler: ClusterClient) -> None:
    task_id = scheduler.submit_task(
        Task(task_type="echo", requirements=TaskRequirements(min_memory_gb=4096)))
    info = scheduler.get_task_info(task_id)
    assert info["status"] is TaskStatus.QUEUED
    assert "min_memory_gb" in info["reason"]
    assert scheduler.cancel_task(task_id) is True
    assert scheduler.cancel_task(task_id) is False
    result = scheduler.wait_for_result(task_id, timeout=5)
    assert result.status is TaskStatus.CANCELLED


def test_cancelling_a_running_task(scheduler: ClusterClient) -> None:
    task_id = scheduler.submit_task(Task(task_type="sleep", payload={"duration": 60}))
    assert wait_until(lambda: scheduler.get_task_status(task_id) is TaskStatus.RUNNING, 10)
    assert scheduler.cancel_task(task_id) is True
    assert scheduler.wait_for_result(task_id, timeout=10).status is TaskStatus.CANCELLED


def test_waiting_too_long_raises_task_timeout_error(scheduler: ClusterClient) -> None:
    task_id = scheduler.submit_task(Task(task_type="sleep", payload={"duration": 30}))
    started = time.monotonic()
    with pytest.raises(TaskTimeoutError, match="not finished after 0.3 s") as info:
        scheduler.wait_for_result(task_id, timeout=0.3)
    assert time.monotonic() - started < 3
    assert isinstance(info.value, TimeoutError)
    scheduler.cancel_task(task_id)


def test_unknown_ids_raise_unknown_errors(scheduler: ClusterClient) -> None:
    for call in (scheduler.get_task_status, scheduler.get_task_result, scheduler.cancel_task,
                 scheduler.wait_for_result, scheduler.get_task_info):
        with pytest.raises(UnknownTaskError) as info:
            call("no-such-task")
        assert isinstance(info.value, KeyError)
        assert info.value.code == "unknown_task"
    with pytest.raises(UnknownDeviceError):
        scheduler.get_device_capabilities("no-such-device")


def test_the_broker_refuses_a_duplicate_id(scheduler: ClusterClient) -> None:
    task = Task(task_type="echo")
    scheduler.submit_task(task)
    with pytest.raises(InvalidTaskError, match="duplicate_task") as info:
        scheduler.submit_task(task)
    assert info.value.code == "duplicate_task"
    assert isinstance(info.value.__cause__, _core.CoreError)


def test_strict_submission_refuses_a_type_nobody_runs(scheduler: ClusterClient) -> None:
    with pytest.raises(InvalidTaskError) as info:
        scheduler.submit_tasks([Task(task_type="nobody_runs_this")], strict=True)
    assert info.value.code == "unknown_task_type"


def test_a_batch_with_one_bad_task_is_refused_whole_naming_it(scheduler: ClusterClient) -> None:
    bad = Task(task_type="echo", requirements=TaskRequirements(required_role="boss"))
    good = Task(task_type="echo")
    with pytest.raises(InvalidTaskError, match=r"tasks\[1\]: required_role"):
        scheduler.submit_tasks([good, bad])
    with pytest.raises(UnknownTaskError):
        scheduler.get_task_status(good.task_id)


def test_invalid_requirements_are_refused_before_anything_is_sent() -> None:
    client = retire_cluster.connect(f"127.0.0.1:{unused_port()}", timeout=5)
    started = time.monotonic()
    with pytest.raises(InvalidTaskError) as info:
        client.submit_task(Task(task_type="echo", requirements=TaskRequirements(max_retries=-1)))
    assert info.value.code == "invalid_requirements"
    assert time.monotonic() - started < 1
    client.close()


def test_an_unreachable_broker_raises_quickly() -> None:
    client = retire_cluster.connect(f"127.0.0.1:{unused_port()}", timeout=0.3)
    started = time.monotonic()
    with pytest.raises(BrokerUnreachableError, match="no reply") as info:
        client.get_cluster_statistics()
    assert time.monotonic() - started < 2
    assert isinstance(info.value, ConnectionError)
    assert isinstance(info.value.__cause__, _core.CoreError)
    client.close()


def test_a_bad_address_is_a_value_error_at_once() -> None:
    with pytest.raises(ValueError, match="bad address"):
        retire_cluster.connect("host:notaport")
    with pytest.raises(ValueError, match="bad address"):
        retire_cluster.Worker("host:99999", check_internet=False)


def test_a_closed_client_refuses_calls(local: LocalCluster) -> None:
    client = retire_cluster.connect(local.address)
    assert client.get_online_devices()
    with client:
        pass
    with pytest.raises(RetireClusterError, match="closed"):
        client.get_online_devices()


def test_statistics_devices_and_capabilities(scheduler: ClusterClient) -> None:
    stats = scheduler.get_cluster_statistics()
    assert stats["cluster_stats"]["online_devices"] == 2
    assert stats["queue_stats"]["total_tasks"] >= 0
    assert scheduler.task_queue.get_queue_statistics().keys() == stats["queue_stats"].keys()
    assert sorted(scheduler.get_online_devices()) == ["local-1", "local-2"]
    caps = scheduler.get_device_capabilities("local-1")
    assert caps["cpu_cores"] >= 1 and caps["platform"] == "linux"
    assert "echo" in caps["handlers"] and caps["slots"] == 2
    assert scheduler.get_device("local-2")["status"] == "online"
    assert [d["device_id"] for d in scheduler.get_devices(role="mobile")] == []


def test_threads_may_share_one_client(scheduler: ClusterClient) -> None:
    errors: list[BaseException] = []
    seen: list[Any] = []

    def work(n: int) -> None:
        try:
            ids = scheduler.submit_tasks([Task("echo", {"t": n, "i": i}) for i in range(20)])
            seen.extend(r.result_data for r in scheduler.wait_for_results(ids, timeout=30))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(seen) == 80


def test_retries_are_reported_attempt_by_attempt() -> None:
    calls: list[int] = []

    def flaky(payload: Any) -> Any:
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError(f"planned failure {len(calls)}")
        return "third time lucky"

    with LocalCluster(workers=1, retry_backoff=0.05, handlers={"flaky": flaky}) as cluster:
        s = cluster.scheduler
        result = s.wait_for_result(s.submit_task(Task("flaky")), timeout=30)
    assert result.status is TaskStatus.SUCCESS
    assert result.result_data == "third time lucky"
    assert result.attempts == 3
    assert [e.attempt for e in result.attempt_errors] == [1, 2]
    assert "RuntimeError: planned failure 1" in result.attempt_errors[0].error
    assert result.attempt_errors[0].device_id == "local-1"
