"""Magento 2.4 REST twin: `create_app(MagentoTwinConfig(...))`, or `testing.start_magento_twin()` on a socket."""

from __future__ import annotations

from .app import create_app
from .config import FaultSettings, MagentoTwinConfig, StoreView

__all__ = ["FaultSettings", "MagentoTwinConfig", "StoreView", "create_app"]
