"""The bridge from the C++ core's log lines to Python logging, and get_logger()."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

import retire_cluster
from harness import wait_until
from retire_cluster import LocalCluster, _core, get_logger


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def find(self, logger: str, text: str) -> logging.LogRecord | None:
        return next((r for r in list(self.records)
                     if r.name == logger and text in r.getMessage()), None)


@pytest.fixture
def collected() -> Iterator[Collect]:
    handler = Collect()
    root = logging.getLogger("retire_cluster")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.mark.parametrize(("levelno", "name"), [(10, "DEBUG"), (20, "INFO"), (30, "WARNING"),
                                               (40, "ERROR")])
def test_a_core_line_arrives_at_its_level(collected: Collect, levelno: int, name: str) -> None:
    _core.set_log_level(logging.DEBUG)
    _core.log(levelno, "bridge", f"a {name} line")
    record = collected.find("retire_cluster.bridge", f"a {name} line")
    assert record is not None
    assert record.levelno == levelno and record.levelname == name


def test_lines_from_core_threads_arrive_with_their_component(collected: Collect) -> None:
    with LocalCluster(workers=1) as cluster:
        assert cluster.scheduler.get_online_devices() == ["local-1"]
    listening = collected.find("retire_cluster.broker", "listening on tcp://127.0.0.1:")
    assert listening is not None and listening.levelno == logging.INFO
    registered = wait_until(
        lambda: collected.find("retire_cluster.worker", "registered with broker"), 5)
    assert registered is not None and registered.levelno == logging.INFO
    assert registered.thread != threading.main_thread().ident  # the worker's own thread


def test_the_core_level_filters_before_python_sees_a_line(collected: Collect) -> None:
    _core.set_log_level(logging.INFO)
    _core.log(logging.DEBUG, "bridge", "not produced")
    assert collected.find("retire_cluster.bridge", "not produced") is None


def test_get_logger_returns_a_standard_logger_and_lowers_the_core_level() -> None:
    _core.set_log_level(logging.INFO)
    logger = get_logger("scheduler", level="DEBUG")
    assert isinstance(logger, logging.Logger)
    assert logger.name == "retire_cluster.scheduler"
    assert logger.level == logging.DEBUG
    assert _core.log_level() == logging.DEBUG
    assert get_logger("retire_cluster.worker").name == "retire_cluster.worker"
    assert get_logger().name == "retire_cluster"


def test_get_logger_never_raises_the_core_level() -> None:
    _core.set_log_level(logging.DEBUG)
    get_logger("quiet", level="ERROR")
    assert _core.log_level() == logging.DEBUG


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)


def test_importing_the_package_configures_no_handler() -> None:
    r = run_python("import logging, retire_cluster\n"
                   "print(logging.getLogger().handlers, logging.getLogger('retire_cluster')"
                   ".handlers, logging.getLogger('retire_cluster').level)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[] [] 0"


def test_the_seed_debug_snippet_makes_debug_lines_visible() -> None:
    r = run_python("from retire_cluster import get_logger, _core\n"
                   "logger = get_logger('scheduler', level='DEBUG')\n"
                   "logger.debug('python debug line')\n"
                   "_core.log(10, 'scheduler', 'core debug line')\n")
    assert r.returncode == 0, r.stderr
    assert "DEBUG   retire_cluster.scheduler: python debug line" in r.stderr
    assert "DEBUG   retire_cluster.scheduler: core debug line" in r.stderr


def test_get_logger_adds_no_handler_when_logging_is_configured() -> None:
    r = run_python("import logging; logging.basicConfig()\n"
                   "import retire_cluster\n"
                   "retire_cluster.get_logger('scheduler', level='DEBUG')\n"
                   "print(len(logging.getLogger('retire_cluster').handlers))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0"


def test_an_interpreter_exits_cleanly_with_a_cluster_still_running() -> None:
    r = run_python("import logging, retire_cluster\n"
                   "logging.basicConfig(level=logging.INFO)\n"
                   "c = retire_cluster.LocalCluster(workers=2)\n"
                   "w = retire_cluster.Worker(c.address, device_id='extra', "
                   "check_internet=False)\n"
                   "w.start()\n"
                   "print('leaving without closing', flush=True)\n")
    assert r.returncode == 0, r.stderr
    assert "leaving without closing" in r.stdout
    assert "retire_cluster.broker:stopped" in r.stderr.replace("INFO:", "")
    assert retire_cluster.__version__
