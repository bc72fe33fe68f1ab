"""Display helpers: money in the order's currency, UTC dates, status colours (Jinja filters)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import Flask

from bridge.domain import CANCEL_REASONS

# code -> (symbol, decimals, symbol after the amount)
CURRENCIES: dict[str, tuple[str, int, bool]] = {
    "USD": ("$", 2, False),
    "CAD": ("CA$", 2, False),
    "MXN": ("MX$", 2, False),
    "BRL": ("R$", 2, False),
    "GBP": ("£", 2, False),
    "EUR": ("€", 2, False),
    "JPY": ("¥", 0, False),
    "AUD": ("A$", 2, False),
    "INR": ("₹", 2, False),
    "SEK": ("kr", 2, True),
    "PLN": ("zł", 2, True),
    "TRY": ("₺", 2, False),
    "AED": ("AED", 2, False),
    "SAR": ("SAR", 2, False),
    "SGD": ("S$", 2, False),
    "EGP": ("E£", 2, False),
    "CNY": ("CN¥", 2, False),
}

STATUS_CLASSES = {
    "Pending": "pending",
    "PendingAvailability": "pending",
    "Unshipped": "unshipped",
    "PartiallyShipped": "partial",
    "Shipped": "shipped",
    "Completed": "shipped",
    "Canceled": "canceled",
    "Unfulfillable": "error",
    "Error": "error",
}

# The Status filter of ASC's All Orders view, in its order, plus Amazon's Unfulfillable.
STATUS_FILTER = (
    "Error",
    "Pending",
    "Shipped",
    "Canceled",
    "Completed",
    "Unshipped",
    "PartiallyShipped",
    "PendingAvailability",
    "Unfulfillable",
)

STATUS_LABELS = {"PartiallyShipped": "Partially Shipped", "PendingAvailability": "Pending Availability"}

IMPORT_STATE_LABELS = {
    "waiting": "Waiting",
    "queued": "Queued",
    "imported": "Imported",
    "error": "Error",
    "skipped": "Not imported",
}


def money(amount: Decimal | int | str | None, currency: str | None) -> str:
    """`amount` with its currency's symbol and decimals, e.g. $1,234.50, ¥1,235, 12.00 kr; never via float."""
    if amount is None:
        return ""
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    code = (currency or "").upper()
    symbol, decimals, after = CURRENCIES.get(code, (code, 2, True))
    quantum = Decimal(1).scaleb(-decimals)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    text = f"{abs(rounded):,.{decimals}f}"
    if not symbol:
        return f"{sign}{text}"
    return f"{sign}{text} {symbol}" if after else f"{sign}{symbol}{text}"


def utc(value: datetime | None, with_time: bool = True) -> str:
    """A UTC date as `2026-11-26 14:05 UTC`; the zone is always shown so no one guesses."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC") if with_time else value.strftime("%Y-%m-%d")


def yes_no(value: object) -> str:
    return "Yes" if value else "No"


def status_class(status: str | None) -> str:
    return STATUS_CLASSES.get(status or "", "other")


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "")


# ASC's words for the fulfilment channel (All Orders' *Fulfillment Channel*, Order Details, the CSV).
CHANNEL_LABELS = {"MFN": "Merchant", "AFN": "Amazon"}
CANCEL_REASON_LABELS = dict(CANCEL_REASONS)
ACTION_KIND_LABELS = {"cancel": "Cancel", "shipment": "Shipment confirmation", "refund": "Refund"}
ACTION_STATE_LABELS = {
    "queued": "Queued, not sent yet",
    "held": "Held: waits for the merchant",
    "submitted": "Sent, waiting for Amazon",
    "accepted": "Accepted by Amazon",
    "rejected": "Rejected by Amazon",
    "giving_up": "Not sent: gave up",
}


def channel_label(channel: str | None) -> str:
    return CHANNEL_LABELS.get(channel or "", channel or "")


def cancel_reason_label(reason: str | None) -> str:
    """ASC's words for a cancel reason ("No Inventory"); Amazon gets the code (`NoInventory`)."""
    return CANCEL_REASON_LABELS.get(reason or "", reason or "")


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money,
        utc=utc,
        yes_no=yes_no,
        status_class=status_class,
        status_label=status_label,
        channel_label=channel_label,
        cancel_reason_label=cancel_reason_label,
        action_kind_label=lambda kind: ACTION_KIND_LABELS.get(kind or "", kind or ""),
        action_state_label=lambda state: ACTION_STATE_LABELS.get(state or "", state or ""),
    )
    app.jinja_env.globals.update(IMPORT_STATE_LABELS=IMPORT_STATE_LABELS)
