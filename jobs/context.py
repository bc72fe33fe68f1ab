"""The Runtime a job runs with, built once per work-horse from the config the worker was started with.

RQ forks a work-horse per job; building the Runtime lazily inside the horse means no database pool or
socket is ever shared across a fork.
"""

from __future__ import annotations

import os

from bridge.runtime import Runtime

_runtime: Runtime | None = None
_pid: int | None = None


def runtime() -> Runtime:
    global _runtime, _pid
    if _runtime is None or _pid != os.getpid():
        _runtime = Runtime.from_config(os.environ.get("AMAZON_BRIDGE_CONFIG"))
        _pid = os.getpid()
    return _runtime
