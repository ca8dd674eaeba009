#!/usr/bin/env python3
"""Retire-Cluster's task execution framework, end to end.

Runs every built-in task type, tasks with requirements and priorities, and a custom task
type handled by Python code, then shows status, results and cluster statistics.

    python examples/task_execution_example.py                      # a cluster in this process
    python examples/task_execution_example.py --cluster HOST:PORT  # an existing cluster
    python examples/task_execution_example.py --verbose            # with the core's log lines

The local cluster is one broker and two workers ("local-1" with role compute, "local-2"
with role worker) inside this process, allowed to reach 127.0.0.1 (http_request) and to
run `ls` and `echo` (command). A Python worker, "python-worker", joins it with a custom
task type. Against an existing cluster, the http_request and command tasks are skipped:
they depend on how its workers were started.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import retire_cluster
from retire_cluster import ClusterClient, LocalCluster, Worker
from retire_cluster.tasks import Task, TaskPriority, TaskRequirements, TaskResult, TaskStatus


# ---------------------------------------------------------------------------- helpers
class _Api(BaseHTTPRequestHandler):
    """A tiny local API for the http_request task."""

    def do_GET(self) -> None:
        body = json.dumps({"service": "inventory", "devices": 3}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the example prints its own output."""


@contextmanager
def local_http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/status"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def section(title: str) -> None:
    print(f"\n== {title}")


def short(value: Any, width: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def describe(name: str, r: TaskResult, data: Any = None) -> None:
    where = f"on {r.device_id} in {r.execution_time:.3f} s"
    if r.status is TaskStatus.SUCCESS:
        shown = short(r.result_data if data is None else data)
        print(f"  {name:<13} {r.status.value:<8} {where}: {shown}")
    else:
        print(f"  {name:<13} {r.status.value:<8} {where}: {r.error_message.splitlines()[0]}")


# ---------------------------------------------------------------------------- custom handlers
def word_count(payload: dict[str, Any]) -> dict[str, Any]:
    """A custom task type: counts the words of a text."""
    words = payload["text"].split()
    return {"words": len(words), "longest": max(words, key=len) if words else ""}


def parse_reading(payload: dict[str, Any]) -> float:
    """A custom task type that fails on bad input: the error comes back with the result."""
    return float(payload["reading"])


def hold(payload: dict[str, Any]) -> str:
    """Keeps its slot busy for a moment."""
    time.sleep(payload["seconds"])
    return "held"


_steps = itertools.count(1)


def step(payload: dict[str, Any]) -> dict[str, Any]:
    """Notes the order in which tasks reach the worker."""
    return {"name": payload["name"], "position": next(_steps)}


# ---------------------------------------------------------------------------- the tour
def show_cluster(scheduler: ClusterClient) -> None:
    section(f"Cluster at {scheduler.address}")
    for device_id in sorted(scheduler.get_online_devices()):
        caps = scheduler.get_device_capabilities(device_id)
        print(f"  {device_id:<14} role {caps['role']:<8} {caps['slots']} slot(s), "
              f"{caps['cpu_cores']} cores, {caps['memory_gb']:.1f} GB, "
              f"runs {', '.join(caps['handlers'])}")


def builtin_types(scheduler: ClusterClient, url: str | None, local: bool) -> None:
    section("Built-in task types")
    tasks = {
        "echo": Task(task_type="echo", payload={"message": "Hello World!"}),
        "sleep": Task(task_type="sleep", payload={"duration": 0.5}),
        "system_info": Task(task_type="system_info", payload={}),
        "python_eval": Task(task_type="python_eval",
                            payload={"expression": "sum(range(1000000))"}),
    }
    if url is not None:
        tasks["http_request"] = Task(task_type="http_request",
                                     payload={"url": url, "method": "GET", "timeout": 10})
    if local:
        tasks["command"] = Task(task_type="command", payload={"command": "ls -la",
                                                              "timeout": 10})
    ids = scheduler.submit_tasks(tasks.values())
    results = scheduler.wait_for_results(ids, timeout=120)
    for (name, _task), r in zip(tasks.items(), results):
        data: Any = None
        if name == "system_info" and r.ok:
            data = {k: r.result_data[k] for k in ("platform", "cpu_cores", "memory_gb")}
        elif name == "http_request" and r.ok:
            data = {"status_code": r.result_data["status_code"], "body": r.result_data["body"]}
        elif name == "command" and r.ok:
            data = {"exit_code": r.result_data["exit_code"],
                    "first line": r.result_data["stdout"].splitlines()[0]}
        describe(name, r, data)
    if not local:
        print("  (http_request and command skipped: they depend on the workers' options)")


def requirements(scheduler: ClusterClient) -> None:
    section("Requirements")
    roles = {d["capabilities"]["role"] for d in scheduler.get_devices()
             if "system_info" in d["handlers"]}
    role = "compute" if "compute" in roles else min(roles)
    pinned = Task(task_type="system_info",
                  requirements=TaskRequirements(required_role=role, timeout_seconds=60))
    r = scheduler.wait_for_result(scheduler.submit_task(pinned), timeout=60)
    describe(f"role {role}", r, {"role": r.result_data["role"]} if r.ok else None)

    huge = Task(task_type="echo", requirements=TaskRequirements(min_memory_gb=4096))
    task_id = scheduler.submit_task(huge)
    info = scheduler.get_task_info(task_id)
    print(f"  4096 GB task  {info['status'].value:<8} because: {info['reason']}")
    scheduler.cancel_task(task_id)
    print(f"  ...cancelled: {scheduler.get_task_status(task_id).value}")

    try:
        scheduler.submit_task(Task(task_type="echo",
                                   requirements=TaskRequirements(required_platform="beos")))
    except retire_cluster.InvalidTaskError as e:
        print(f"  refused before sending: {e}")


def priorities(scheduler: ClusterClient) -> None:
    section("Priorities: python-worker has one slot; four tasks wait for it")
    # One batch: a task that holds the slot, then four tasks submitted LOW first. Only
    # python-worker runs these types, so they queue and leave in priority order.
    batch = [Task(task_type="hold", payload={"seconds": 0.3}, priority=TaskPriority.URGENT)]
    batch += [Task(task_type="step", payload={"name": p.name}, priority=p)
              for p in (TaskPriority.LOW, TaskPriority.NORMAL, TaskPriority.HIGH,
                        TaskPriority.URGENT)]
    results = scheduler.wait_for_results(scheduler.submit_tasks(batch), timeout=60)
    ran = sorted(results[1:], key=lambda r: r.result_data["position"])
    print("  submitted: " + ", ".join(t.payload["name"] for t in batch[1:]))
    print("  ran:       " + ", ".join(r.result_data["name"] for r in ran))


def custom_handlers(scheduler: ClusterClient) -> None:
    section("A custom task type, handled by Python code on python-worker")
    ok = scheduler.submit_task(Task(task_type="word_count",
                                    payload={"text": "old phones make a fine cluster"}))
    bad = scheduler.submit_task(Task(task_type="parse_reading", payload={"reading": "n/a"},
                                     requirements=TaskRequirements(max_retries=0)))
    describe("word_count", scheduler.wait_for_result(ok, timeout=60))
    describe("parse_reading", scheduler.wait_for_result(bad, timeout=60))


def status_and_statistics(scheduler: ClusterClient) -> None:
    section("Status, results and statistics")
    task_id = scheduler.submit_task(Task(task_type="echo", payload={"message": "tracked"}))
    print(f"  task {task_id} status: {scheduler.get_task_status(task_id).value}")
    result = scheduler.wait_for_result(task_id, timeout=60)
    print(f"  task {task_id} status: {result.status.value}, "
          f"result: {result.result_data}, attempts: {result.attempts}")
    stats = scheduler.get_cluster_statistics()
    print(f"  Online devices: {stats['cluster_stats']['online_devices']}")
    print(f"  Queue size: {stats['queue_stats']['total_tasks']}")
    s = stats["scheduler_stats"]
    print(f"  Submitted {s['submitted']}, succeeded {s['succeeded']}, failed {s['failed']}, "
          f"cancelled {s['cancelled']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster", metavar="HOST:PORT",
                        help="use this cluster instead of starting one in this process")
    parser.add_argument("--verbose", action="store_true", help="show the core's log lines")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR,
                        format="  [log] %(name)s %(levelname)s: %(message)s")

    with ExitStack() as stack:
        local = args.cluster is None
        url: str | None = None
        if local:
            url = stack.enter_context(local_http_server())
            cluster = stack.enter_context(LocalCluster(
                workers=2, roles=["compute", "worker"], tags=["example"],
                allow_private_network=True, allowed_programs=["ls", "echo"]))
            address = cluster.address
            scheduler = cluster.scheduler
        else:
            address = args.cluster
            scheduler = stack.enter_context(retire_cluster.connect(address))
        worker = Worker(address, device_id="python-worker", check_internet=False,
                        builtin_handlers=False, slots=1)
        for name, handler in [("word_count", word_count), ("parse_reading", parse_reading),
                              ("hold", hold), ("step", step)]:
            worker.executor.register_handler(name, handler)
        stack.enter_context(worker)
        if not worker.wait_until_registered(timeout=15):
            print(f"python-worker could not join {address}", file=sys.stderr)
            return 1

        show_cluster(scheduler)
        builtin_types(scheduler, url, local)
        requirements(scheduler)
        custom_handlers(scheduler)
        priorities(scheduler)
        status_and_statistics(scheduler)
    print("\nDone: " + ("the local cluster and python-worker have stopped."
                        if args.cluster is None else "python-worker has left the cluster."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
