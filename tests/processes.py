"""Killing a worker the way a crash or an OOM killer does: SIGKILL to the whole process tree.

RQ's work-horse calls `setpgrp`, so killing the worker's process group leaves the horse running the job in
flight; its pid is found among the worker's children instead (collected before anything is killed, since
an orphaned horse is re-parented and no longer listed).
"""

from __future__ import annotations

import contextlib

import psutil


def kill_tree(pid: int, timeout: float = 10) -> list[int]:
    """SIGKILL `pid` and every descendant; returns the pids killed, once all are gone."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return []
    procs = [root, *root.children(recursive=True)]
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    gone, alive = psutil.wait_procs(procs, timeout=timeout)
    if alive:
        raise RuntimeError(f"processes survived SIGKILL: {[p.pid for p in alive]}")
    return [p.pid for p in procs]
