"""Kept for callers written before the outbox: sending merchants' requests is `bridge.outbox` now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.outbox import OutboxResult, process_outbox
from bridge.storage.db import SessionFactory

if TYPE_CHECKING:
    from bridge.amazon.client import AmazonClient

__all__ = ["OutboxResult", "process_outbox", "send_actions"]


def send_actions(session_factory: SessionFactory, store_id: int, amazon: AmazonClient, **kwargs: Any) -> OutboxResult:
    """One non-blocking outbox pass (it no longer waits for Amazon's processing reports)."""
    kwargs.pop("wait", None), kwargs.pop("poll_seconds", None), kwargs.pop("timeout", None)
    return process_outbox(session_factory, store_id, amazon, **kwargs)
