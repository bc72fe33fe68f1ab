"""Kept for callers written before the outbox: sending merchants' requests is `bridge.outbox` now."""

from __future__ import annotations

from bridge.outbox import OutboxResult, process_outbox

__all__ = ["OutboxResult", "process_outbox", "send_actions"]


def send_actions(session_factory, store_id: int, amazon, **kwargs) -> OutboxResult:
    """One non-blocking outbox pass (it no longer waits for Amazon's processing reports)."""
    kwargs.pop("wait", None), kwargs.pop("poll_seconds", None), kwargs.pop("timeout", None)
    return process_outbox(session_factory, store_id, amazon, **kwargs)
