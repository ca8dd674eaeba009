"""Logging: the C++ core's log lines flow into Python's ``logging``.

A line the core writes as (level, component, message) goes to the logger
``retire_cluster.<component>`` (``retire_cluster.broker``, ``retire_cluster.worker``) at
the same level: DEBUG, INFO, WARNING or ERROR. Nothing is configured at import time;
configure logging as usual, or call :func:`get_logger`.
"""

from __future__ import annotations

import logging

from retire_cluster import _core

__all__ = ["ROOT_LOGGER", "get_logger"]

#: The parent of every logger of this package.
ROOT_LOGGER = "retire_cluster"
# The "pathname" of records from the C++ core (they have no Python source line).
_CORE_SOURCE = "<retire-cluster core>"


def forward(levelno: int, component: str, message: str) -> None:
    """The bridge's receiving end: called (with the GIL) for each C++ log line."""
    logger = logging.getLogger(f"{ROOT_LOGGER}.{component}")
    if logger.isEnabledFor(levelno):
        logger.handle(logger.makeRecord(logger.name, levelno, _CORE_SOURCE, 0, message, (),
                                        None))


def get_logger(name: str = ROOT_LOGGER, level: int | str | None = None) -> logging.Logger:
    """The standard logger ``retire_cluster.<name>``, optionally set to ``level``.

    ``get_logger("scheduler", level="DEBUG")`` returns ``logging.getLogger(
    "retire_cluster.scheduler")`` at DEBUG. A level below the C++ core's current one
    lowers the core's level too, so that its debug lines are produced at all.

    So that this one call makes output visible, it adds a stderr handler to the
    ``retire_cluster`` logger when no handler would receive the records (no handler on
    the logger or any parent, as when logging was never configured). It never changes
    existing handlers; configure logging yourself for anything more.
    """
    full = name if name == ROOT_LOGGER or name.startswith(ROOT_LOGGER + ".") else (
        f"{ROOT_LOGGER}.{name}"
    )
    logger = logging.getLogger(full)
    if level is not None:
        logger.setLevel(level)
        levelno = logger.level
        if levelno < _core.log_level():
            _core.set_log_level(max(logging.DEBUG, levelno))
        if not logger.hasHandlers():
            handler = logging.StreamHandler()
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
            )
            logging.getLogger(ROOT_LOGGER).addHandler(handler)
    return logger
