"""The order state machine: Magento's `Order::can*()` rules and `StateResolver`, over order documents.

Quantities and money are computed with Decimal; documents keep JSON numbers, as Magento's API shows them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

NEW, PENDING_PAYMENT, PROCESSING, COMPLETE, CLOSED, CANCELED, HOLDED, PAYMENT_REVIEW = (
    "new", "pending_payment", "processing", "complete", "closed", "canceled", "holded", "payment_review",
)
# sales_order_status_state defaults of a clean install
DEFAULT_STATUS = {
    NEW: "pending",
    PENDING_PAYMENT: "pending_payment",
    PROCESSING: "processing",
    COMPLETE: "complete",
    CLOSED: "closed",
    CANCELED: "canceled",
    HOLDED: "holded",
    PAYMENT_REVIEW: "payment_review",
}
STATUS_LABELS = {
    "pending": "Pending",
    "pending_payment": "Pending Payment",
    "processing": "Processing",
    "complete": "Complete",
    "closed": "Closed",
    "canceled": "Canceled",
    "holded": "On Hold",
    "payment_review": "Payment Review",
    "fraud": "Suspected Fraud",
}

ZERO = Decimal("0")
CENT = Decimal("0.01")


def D(value: Any) -> Decimal:
    """Decimal from a JSON number/string/None (None and junk count as 0, like PHP's float cast)."""
    if value is None or isinstance(value, bool):
        return Decimal(int(bool(value)))
    try:
        out = Decimal(str(value))
    except ArithmeticError:
        return ZERO
    return out if out.is_finite() else ZERO


def money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def num(value: Decimal) -> float | int:
    """A quantity as JSON: integral values stay ints like Magento's decimal(12,4) rendered by PHP floats."""
    return int(value) if value == value.to_integral_value() else float(value)


def is_dummy(item: dict[str, Any]) -> bool:
    return item.get("parent_item_id") is not None


def qty_to_invoice(item: dict[str, Any]) -> Decimal:
    return max(D(item.get("qty_ordered")) - D(item.get("qty_invoiced")) - D(item.get("qty_canceled")), ZERO)


def qty_to_ship(item: dict[str, Any]) -> Decimal:
    if item.get("is_virtual"):
        return ZERO
    q = D(item.get("qty_ordered")) - D(item.get("qty_shipped"))
    q = q - D(item.get("qty_refunded")) - D(item.get("qty_canceled"))
    return max(q, ZERO)


def qty_to_refund(item: dict[str, Any]) -> Decimal:
    return max(D(item.get("qty_invoiced")) - D(item.get("qty_refunded")), ZERO)


def qty_to_cancel(item: dict[str, Any]) -> Decimal:
    return min(qty_to_invoice(item), qty_to_ship(item))


def _items(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in order.get("items") or [] if isinstance(i, dict)]


def can_unhold(order: dict[str, Any]) -> bool:
    return order.get("state") == HOLDED


def is_payment_review(order: dict[str, Any]) -> bool:
    return order.get("state") == PAYMENT_REVIEW


def is_canceled(order: dict[str, Any]) -> bool:
    return order.get("state") == CANCELED


def can_cancel(order: dict[str, Any]) -> bool:
    if can_unhold(order) or is_payment_review(order):
        return False
    if all(qty_to_invoice(i) == 0 for i in _items(order)):
        return False
    return order.get("state") not in (CANCELED, COMPLETE, CLOSED)


def can_invoice(order: dict[str, Any]) -> bool:
    if can_unhold(order) or is_payment_review(order):
        return False
    if order.get("state") in (CANCELED, COMPLETE, CLOSED):
        return False
    return any(qty_to_invoice(i) > 0 and not i.get("locked_do_invoice") for i in _items(order))


def can_ship(order: dict[str, Any]) -> bool:
    if can_unhold(order) or is_payment_review(order):
        return False
    if order.get("is_virtual") or is_canceled(order):
        return False
    return any(
        qty_to_ship(i) > 0 and not i.get("is_virtual") and not i.get("locked_do_ship")
        and D(i.get("qty_refunded")) != D(i.get("qty_ordered"))
        for i in _items(order)
    )


def can_creditmemo(order: dict[str, Any]) -> bool:
    if can_unhold(order) or is_payment_review(order) or is_canceled(order) or order.get("state") == CLOSED:
        return False
    return abs(D(order.get("total_paid")) - D(order.get("total_refunded"))) >= Decimal("0.0001")


def can_hold(order: dict[str, Any]) -> bool:
    return order.get("state") not in (CANCELED, PAYMENT_REVIEW, COMPLETE, CLOSED, HOLDED)


def resolve_state(order: dict[str, Any], in_progress: bool = False, forced_creditmemo: bool = False) -> str:
    """StateResolver::getStateForOrder: complete/closed once nothing is left to invoice or ship."""
    state = PROCESSING if order.get("state") == PROCESSING else NEW
    if not is_canceled(order) and not can_unhold(order) and not can_invoice(order) and not can_ship(order):
        if D(order.get("base_grand_total")) == 0 or can_creditmemo(order):
            state = COMPLETE
        elif D(order.get("total_refunded")) != 0 or forced_creditmemo:
            state = CLOSED
    if order.get("state") == NEW and in_progress:
        state = PROCESSING
    return state


def apply_resolved_state(order: dict[str, Any], in_progress: bool = False) -> None:
    """What InvoiceOrder/ShipOrder/RefundOrder do after saving the document: resolved state, its default status."""
    new_state = resolve_state(order, in_progress=in_progress)
    order["state"] = new_state
    order["status"] = DEFAULT_STATUS[new_state]
