"""When an Amazon order becomes a Commerce order (ASC guide §4), in one place.

- MFN: created at Unshipped, PartiallyShipped or Shipped.
- FBA (AFN): created only at Shipped, and only when the store imports FBA orders.
- Never for Pending, PendingAvailability, Canceled (or Unfulfillable).
- Orders placed before the store's *import from* date are listed but never created.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.domain import AmazonOrder, AmazonStatus
from bridge.order_settings import OrderSettings
from bridge.storage.models import ImportState

MFN_IMPORTABLE = frozenset({AmazonStatus.UNSHIPPED, AmazonStatus.PARTIALLY_SHIPPED, AmazonStatus.SHIPPED})
NEVER_IMPORTED = frozenset({AmazonStatus.CANCELED, AmazonStatus.UNFULFILLABLE})


@dataclass(frozen=True)
class Decision:
    state: ImportState
    note: str


def decide(order: AmazonOrder, settings: OrderSettings, current: ImportState | None = None) -> Decision:
    """The import state an order should be in now. An imported order stays imported."""
    if current is ImportState.IMPORTED:
        return Decision(ImportState.IMPORTED, f"Status updated to {order.status.value}")
    if settings.import_from is not None and order.purchase_date < settings.import_from:
        return Decision(
            ImportState.SKIPPED,
            "Placed before the store was connected (import from "
            f"{settings.import_from:%Y-%m-%d %H:%M} UTC); listed only, never imported.",
        )
    if order.status in NEVER_IMPORTED:
        return Decision(ImportState.SKIPPED, f"Status updated to {order.status.value}")
    if order.is_fba:
        if not settings.import_fba:
            return Decision(ImportState.SKIPPED, "FBA order; the store does not import FBA orders.")
        if order.status is AmazonStatus.SHIPPED:
            return _queued_or_error(order, current)
        return Decision(ImportState.WAITING, f"Status updated to {order.status.value}")
    if order.status in MFN_IMPORTABLE:
        return _queued_or_error(order, current)
    return Decision(ImportState.WAITING, f"Status updated to {order.status.value}")


def _queued_or_error(order: AmazonOrder, current: ImportState | None) -> Decision:
    # An order in error stays in error (with its message) until a retry succeeds.
    if current is ImportState.ERROR:
        return Decision(ImportState.ERROR, "")
    return Decision(ImportState.QUEUED, f"Status updated to {order.status.value}")
