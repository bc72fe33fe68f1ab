"""The Runtime a job runs with, built once per work-horse from the config the worker was started with.

RQ forks a work-horse per job; the horse makes its own Runtime, so no database connection or socket is ever
shared across a fork. The worker `prepare()`s one before forking (settings read, engine built, ORM mappers
configured), which each horse takes over with fresh pools (`Runtime.forked`), instead of paying that
start-up again for every job.
"""

from __future__ import annotations

import os

from bridge.runtime import Runtime

_runtime: Runtime | None = None
_pid: int | None = None


def prepare() -> None:
    """In the worker, before it forks work-horses: build the Runtime they will take over."""
    global _runtime, _pid
    _runtime = Runtime.from_config(os.environ.get("AMAZON_BRIDGE_CONFIG"))
    _runtime.prepare_for_forks()
    _pid = os.getpid()


def runtime() -> Runtime:
    global _runtime, _pid
    if _runtime is None:
        _runtime = Runtime.from_config(os.environ.get("AMAZON_BRIDGE_CONFIG"))
    elif _pid != os.getpid():
        _runtime = _runtime.forked()
    _pid = os.getpid()
    return _runtime
