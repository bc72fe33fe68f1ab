"""When an Amazon order becomes a Commerce order (ASC guide §4), in one place.

- MFN: created at Unshipped, PartiallyShipped or Shipped.
- FBA (AFN): created only at Shipped, and only when the store imports FBA orders.
- Never for Pending, PendingAvailability, Canceled (or Unfulfillable).
- Orders placed before the store's *import from* date are listed but never created.
- An order that may already exist in Commerce (a create was sent whose answer is unknown, or it is linked) is
  never skipped or left waiting on those grounds: it is looked up (and linked) first, whatever Amazon says,
  so a Commerce order a slow create left behind is found and then follows Amazon's status.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.domain import AmazonOrder, AmazonStatus, ImportState
from bridge.order_settings import OrderSettings

MFN_IMPORTABLE = frozenset({AmazonStatus.UNSHIPPED, AmazonStatus.PARTIALLY_SHIPPED, AmazonStatus.SHIPPED})
NEVER_IMPORTED = frozenset({AmazonStatus.CANCELED, AmazonStatus.UNFULFILLABLE})


@dataclass(frozen=True)
class Decision:
    state: ImportState
    note: str
    # Queued only to find (and link) the Commerce order a create may have left; never to create one.
    lookup_only: bool = False


def decide(
    order: AmazonOrder, settings: OrderSettings, current: ImportState | None = None, *, may_exist: bool = False
) -> Decision:
    """The import state an order should be in now. An imported order stays imported.

    `may_exist`: a Commerce order may exist for it (see `bridge.storage.orders.may_exist_in_commerce`).
    """
    if current is ImportState.IMPORTED:
        return Decision(ImportState.IMPORTED, f"Status updated to {order.status.value}")
    plain = _decide(order, settings, current)
    if may_exist and plain.state in (ImportState.SKIPPED, ImportState.WAITING):
        return Decision(
            ImportState.QUEUED,
            f"Status updated to {order.status.value}; a create was sent for this order, so the Commerce "
            "order it may have left is looked for first.",
            lookup_only=True,
        )
    return plain


def _decide(order: AmazonOrder, settings: OrderSettings, current: ImportState | None) -> Decision:
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
