"""Process-wide wiring done once, on import: the C++ log bridge, and a clean exit.

At interpreter exit every embedded broker and worker still running is stopped and joined,
and the log bridge is removed, before Python finalizes: C++ threads must never call into
a finalizing interpreter.
"""

from __future__ import annotations

import atexit

from retire_cluster import _core, logs

_installed = False


def _shutdown() -> None:
    _core.stop_all()
    _core.remove_log_sink()


def install() -> None:
    """Connects the C++ log lines to Python logging and registers the exit hook."""
    global _installed
    if _installed:
        return
    _installed = True
    _core.set_log_sink(logs.forward)
    atexit.register(_shutdown)
