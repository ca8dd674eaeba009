"""Scheduling rules with real processes: matching, priorities, retries, timeouts, loss."""

from __future__ import annotations

import json
import signal

from conftest import Cluster, wait_until


def submit_wait(cluster: Cluster, *args: str) -> list[dict]:
    r = cluster.submit(*args, "--wait", "--json")
    assert r.returncode in (0, 3), r.stderr
    return json.loads(r.stdout)


def test_tasks_land_only_on_matching_devices(cluster: Cluster) -> None:
    cluster.broker()
    cluster.worker("compute-1", "--role", "compute", "--tags", "gpu-capable,fast", slots=4)
    cluster.worker("storage-1", "--role", "storage", "--tags", "disk", slots=1)
    cluster.worker("plain-1", slots=2)
    assert cluster.wait_online({"compute-1", "storage-1", "plain-1"})
    for require, expect in [
        (["--require", "required_role=compute"], {"compute-1"}),
        (["--require", "required_role=storage"], {"storage-1"}),
        (["--require", "required_tags=gpu-capable,fast"], {"compute-1"}),
        (["--require", "required_tags=disk"], {"storage-1"}),
        (["--require", "required_role=worker"], {"plain-1"}),
    ]:
        results = submit_wait(cluster, "--type", "whoami", "--count", "40", *require)
        assert len(results) == 40
        assert {x["status"] for x in results} == {"success"}
        assert {x["result_data"] for x in results} == expect, require
        assert {x["device_id"] for x in results} == expect


def test_a_task_no_device_can_run_stays_queued_with_its_reason(cluster: Cluster) -> None:
    cluster.broker()
    cluster.worker("small")
    assert cluster.wait_online({"small"})
    r = cluster.submit("--type", "echo", "--require", "min_memory_gb=100000")
    assert r.returncode == 0, r.stderr
    task_id = r.stdout.strip()
    r = cluster.cli("retire-cluster-status", "--task", task_id)
    assert r.returncode == 0
    assert "queued" in r.stdout
    assert "no online device has min_memory_gb >= 100000 (largest:" in r.stdout


def test_urgent_tasks_behind_a_low_backlog_finish_first(cluster: Cluster) -> None:
    cluster.broker()
    r = cluster.submit("--type", "sleep", "--payload", '{"duration": 0.02}', "--count", "40",
                       "--priority", "low", "--json")
    assert r.returncode == 0, r.stderr
    low = json.loads(r.stdout)
    r = cluster.submit("--type", "sleep", "--payload", '{"duration": 0.02}', "--count", "5",
                       "--priority", "urgent", "--json")
    urgent = json.loads(r.stdout)
    cluster.worker("only", slots=1)  # joins after the backlog exists
    r = cluster.submit("--type", "echo", "--payload", "{}", "--priority", "low", "--wait", "--json")
    results = {}
    assert wait_until(lambda: cluster.stats()["queue_stats"]["active"] == 0, 60, step=0.1)
    for ids in (low, urgent):
        for tid in ids:
            out = cluster.cli("retire-cluster-status", "--task", tid, "--json")
            results[tid] = json.loads(out.stdout)["result"]
    last_urgent = max(results[t]["completed_at"] for t in urgent)
    lows_before = sum(1 for t in low if results[t]["completed_at"] < last_urgent)
    assert lows_before <= 1, lows_before  # at most the one already running when they arrived


def test_a_handler_that_fails_twice_then_succeeds_ends_success_after_three_attempts(cluster: Cluster) -> None:
    cluster.broker("--retry-backoff-ms", "50")
    cluster.worker("w")
    assert cluster.wait_online({"w"})
    (res,) = submit_wait(cluster, "--type", "flaky", "--payload", '{"fail_times": 2}')
    assert res["status"] == "success"
    assert res["attempts"] == 3
    assert res["result_data"] == {"attempt": 3}
    assert [e["error"] for e in res["attempt_errors"]] == [
        "handler raised: planned failure on attempt 1", "handler raised: planned failure on attempt 2"]


def test_a_task_that_sleeps_past_its_timeout_ends_timeout_after_its_retries(cluster: Cluster) -> None:
    cluster.broker("--retry-backoff-ms", "50")
    cluster.worker("w")
    assert cluster.wait_online({"w"})
    (res,) = submit_wait(cluster, "--type", "sleep", "--payload", '{"duration": 30}', "--timeout", "0.3",
                         "--retries", "1")
    assert res["status"] == "timeout"
    assert res["attempts"] == 2
    assert [e["status"] for e in res["attempt_errors"]] == ["timeout", "timeout"]
    # The worker stopped the sleeping handler: its slots are free again.
    assert wait_until(lambda: cluster.devices()["w"]["running"] == 0, 5)


def test_no_task_is_lost_when_a_worker_is_killed_mid_run(cluster: Cluster) -> None:
    cluster.broker("--retry-backoff-ms", "50")
    victim = cluster.worker("victim", slots=4)
    cluster.worker("survivor", slots=4)
    assert cluster.wait_online({"victim", "survivor"})
    r = cluster.submit("--type", "sleep", "--payload", '{"duration": 0.004}', "--count", "5000", "--json")
    assert r.returncode == 0, r.stderr
    ids = json.loads(r.stdout)
    assert len(ids) == 5000
    assert wait_until(lambda: cluster.stats()["scheduler_stats"]["succeeded"] >= 1000, 60, step=0.05)
    victim.signal(signal.SIGKILL)
    assert wait_until(lambda: cluster.stats()["queue_stats"]["active"] == 0, 120, step=0.2)
    stats = cluster.stats()
    by_status = stats["queue_stats"]["by_status"]
    terminal = sum(by_status[s] for s in ("success", "failed", "timeout", "cancelled"))
    assert terminal == 5000
    assert by_status["success"] == 5000
    assert stats["scheduler_stats"]["submitted"] == 5000
    assert cluster.devices()["victim"]["status"] == "offline"
