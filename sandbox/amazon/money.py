"""Money as Amazon writes it: Decimal amounts rendered as strings, in the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "CLP"}


def exponent(currency: str) -> Decimal:
    return Decimal("1") if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(exponent(currency), rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """v2026 Money: {"amount": "12.34", "currencyCode": "USD"}."""
    return {"amount": str(quantize(amount, currency)), "currencyCode": currency}


def money_v0(amount: Decimal, currency: str) -> dict[str, str]:
    """v0 Money: {"CurrencyCode": "USD", "Amount": "12.34"}."""
    return {"CurrencyCode": currency, "Amount": str(quantize(amount, currency))}


def amount(value: dict | None) -> Decimal:
    return Decimal(value["amount"]) if value else Decimal("0")
