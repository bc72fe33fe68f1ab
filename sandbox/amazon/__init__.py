"""Twin of Amazon's Selling Partner API (LWA, Orders v2026-01-01 and v0, Feeds 2021-06-30)."""

from __future__ import annotations

from .app import create_app
from .config import AmazonTwinConfig

__all__ = ["AmazonTwinConfig", "create_app"]
