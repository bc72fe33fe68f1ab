"""Display helpers: money in the order's currency, UTC dates, status colours (Jinja filters)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import Flask

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


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money, utc=utc, yes_no=yes_no, status_class=status_class, status_label=status_label
    )
    app.jinja_env.globals.update(IMPORT_STATE_LABELS=IMPORT_STATE_LABELS)
