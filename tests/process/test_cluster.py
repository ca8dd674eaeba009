"""A working cluster of real processes: tasks end to end, device loss, broker restart."""

from __future__ import annotations

import json
import signal
import time

from conftest import Cluster, wait_until


def test_ten_thousand_echo_tasks_through_the_cli(cluster: Cluster) -> None:
    cluster.broker()
    cluster.worker("w1", binary="retire-cluster-worker")
    cluster.worker("w2", binary="retire-cluster-worker")
    assert cluster.wait_online({"w1", "w2"})
    payload = {"message": "Hello World!", "n": 42, "nested": {"list": [1, 2.5, None, True]}}
    r = cluster.submit("--type", "echo", "--payload", json.dumps(payload), "--count", "10000",
                       "--wait", "--json")
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    assert len(results) == 10000
    assert len({x["task_id"] for x in results}) == 10000
    for x in results:
        assert x["status"] == "success"
        assert x["result_data"] == payload
    assert {x["device_id"] for x in results} == {"w1", "w2"}
    stats = cluster.stats()
    assert stats["scheduler_stats"]["succeeded"] == 10000
    assert stats["cluster_stats"]["online_devices"] == 2


def test_a_killed_worker_goes_offline_within_its_liveness_window(cluster: Cluster) -> None:
    cluster.broker("--liveness", "3")  # 100 ms x 3
    victim = cluster.worker("victim")
    cluster.worker("survivor")
    assert cluster.wait_online({"victim", "survivor"})
    victim.signal(signal.SIGKILL)
    killed = time.monotonic()
    assert wait_until(lambda: "victim" not in cluster.online(), 5, step=0.01)
    noticed = time.monotonic() - killed
    dev = cluster.devices()["victim"]
    assert dev["status"] == "offline"
    # A killed process closes its TCP connection, so the broker may notice on its next send
    # (unroutable) before the heartbeats run out; a device that loses power is found by the
    # heartbeat check.
    assert dev["drop_reason"] in ("heartbeat_expired", "unroutable")
    # The window is 300 ms; allow generous scheduling noise on a shared machine.
    assert noticed < 2.0, noticed
    assert cluster.devices()["survivor"]["status"] == "online"


def test_workers_reregister_after_a_broker_restart(cluster: Cluster) -> None:
    broker = cluster.broker(heartbeat_ms=200)
    port = cluster.port
    cluster.worker("a", heartbeat_ms=200)
    cluster.worker("b", heartbeat_ms=200)
    assert cluster.wait_online({"a", "b"})
    first_epoch = cluster.stats()["broker"]["epoch"]
    broker.signal(signal.SIGKILL)
    broker.stop()
    cluster.broker(port=port, heartbeat_ms=200)
    assert cluster.wait_online({"a", "b"}, timeout=10)
    stats = cluster.stats()
    assert stats["broker"]["epoch"] != first_epoch
    # Measured by the broker itself: from its start to each device's registration. The
    # bound is one heartbeat (200 ms) plus 100 ms for process scheduling on a busy machine.
    started = stats["broker"]["started_at"]
    for device in ("a", "b"):
        delay = cluster.devices()[device]["registered_at"] - started
        print(f"{device} re-registered {delay * 1000:.0f} ms after the broker started")
        assert 0 <= delay <= 0.3, (device, delay)
    r = cluster.submit("--type", "echo", "--payload", '{"after": "restart"}', "--wait", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["result_data"] == {"after": "restart"}


def test_bad_input_gets_an_error_and_the_broker_keeps_serving(cluster: Cluster) -> None:
    cluster.broker()
    r = cluster.submit("--type", "bad type!", "--payload", "{}")
    assert r.returncode == 2  # refused before sending
    r = cluster.cli("retire-cluster-status", "--task", "does-not-exist")
    assert r.returncode == 1
    assert "unknown_task" in r.stderr
    assert cluster.stats()["cluster_stats"]["online_devices"] == 0


def test_clean_shutdown_on_sigterm(cluster: Cluster) -> None:
    broker = cluster.broker()
    worker = cluster.worker("w")
    assert cluster.wait_online({"w"})
    worker.signal(signal.SIGTERM)
    assert worker.popen.wait(10) == 0
    assert wait_until(lambda: cluster.devices()["w"]["drop_reason"] == "disconnected", 5)
    broker.signal(signal.SIGINT)
    assert broker.popen.wait(10) == 0
    assert "stopped" in broker.output()


def test_a_frozen_worker_expires_by_heartbeat_and_rejoins_when_it_wakes(cluster: Cluster) -> None:
    cluster.broker("--liveness", "3")
    frozen = cluster.worker("frozen")
    assert cluster.wait_online({"frozen"})
    frozen.signal(signal.SIGSTOP)  # silent but connected: only heartbeats can tell
    try:
        stopped = time.monotonic()
        assert wait_until(lambda: "frozen" not in cluster.online(), 5, step=0.01)
        noticed = time.monotonic() - stopped
        assert cluster.devices()["frozen"]["drop_reason"] == "heartbeat_expired"
        assert noticed < 2.0, noticed
    finally:
        frozen.signal(signal.SIGCONT)
    assert cluster.wait_online({"frozen"}, timeout=10)
