"""The shipping address an operator may correct on Amazon Order Details (ASC's editable address fields).

Amazon's values stay in the order's snapshot; the bridge keeps only the fields that differ from them in
`AmazonOrderRecord.address_override`, which the importer applies when it creates the Commerce order. This
module holds the form and the pure rules (what Amazon said, what is shown, what gets saved), so both the
details page and the save route use the same ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import Length, Regexp, ValidationError

from bridge.magento.models import Country

# The importer's EDITABLE_ADDRESS_FIELDS, in its order (a test checks they match).
# field -> (label on the page, short name in the order's history, longest accepted value)
FIELDS: dict[str, tuple[str, str, int]] = {
    "name": ("Ship to", "recipient name", 255),
    "line1": ("Shipping address 1", "address line 1", 255),
    "line2": ("Shipping address 2", "address line 2", 255),
    "line3": ("Shipping address 3", "address line 3", 255),
    "city": ("Shipping city", "city", 128),
    "region": ("Shipping region", "region", 128),
    "postal_code": ("Shipping postal code", "postal code", 32),
    "country_code": ("Shipping country", "country", 2),
    "phone": ("Shipping phone number", "phone number", 64),
}
REQUIRED = ("line1", "city", "country_code")
REQUIRED_MESSAGE = "This is a required field."

# Amazon's keys for each editable field: v2026-01-01 `recipient.deliveryAddress`, and v0 `ShippingAddress`.
V2026_KEYS = {
    "name": "name",
    "line1": "addressLine1",
    "line2": "addressLine2",
    "line3": "addressLine3",
    "city": "city",
    "region": "stateOrRegion",
    "postal_code": "postalCode",
    "country_code": "countryCode",
    "phone": "phone",
}
V0_KEYS = {field: key[0].upper() + key[1:] for field, key in V2026_KEYS.items()}

CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# Digits and the punctuation phone numbers are written with (+1 (206) 555-0100 ext. 12); no letters but x/ext.
PHONE_RE = re.compile(r"^\+?[0-9()./ -]{3,40}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)
# Statuses whose parcel has not left: the corrected address can still reach the label.
OPEN_STATUSES = frozenset({"Pending", "PendingAvailability", "Unshipped", "Error"})


def _strip(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _single_line(form: FlaskForm, field: Field) -> None:
    """Newlines or control characters would become extra street lines or garbage on a shipping label."""
    if CONTROL_CHARS.search(field.data or ""):
        raise ValidationError("Use a single line of text, without line breaks or control characters.")


def _required(form: FlaskForm, field: Field) -> None:
    if not field.data:
        raise ValidationError(REQUIRED_MESSAGE)


def _field(name: str) -> StringField:
    label, _, longest = FIELDS[name]
    validators: list[Any] = [_single_line, Length(max=longest, message=f"Use at most {longest} characters.")]
    if name in REQUIRED:
        validators.insert(0, _required)
    if name == "phone":
        validators.append(_phone)
    if name == "country_code":
        validators.append(Regexp(r"^[A-Z]{2}$", message="Use the two-letter country code, e.g. US, GB or DE."))
        return StringField(label, validators=validators, filters=[lambda v: _strip(v).upper()])
    return StringField(label, validators=validators, filters=[_strip])


def _phone(form: FlaskForm, field: Field) -> None:
    if field.data and not PHONE_RE.match(field.data):
        raise ValidationError("Use digits, spaces and + ( ) - . / only, e.g. +1 206-555-0100.")


class AddressForm(FlaskForm):
    """ASC's editable shipping address, plus the recipient's name and phone; the country and region are
    checked against Magento's directory (`set_directory`), which is also what the page offers to pick from."""

    name = _field("name")
    line1 = _field("line1")
    line2 = _field("line2")
    line3 = _field("line3")
    city = _field("city")
    region = _field("region")
    postal_code = _field("postal_code")
    country_code = _field("country_code")
    phone = _field("phone")

    directory: list[Country] | None = None
    directory_error: str | None = None

    def set_directory(self, directory: list[Country] | None, error: str | None = None) -> None:
        self.directory = directory
        self.directory_error = error

    def country(self) -> Country | None:
        code = (self.country_code.data or "").upper()
        return next((c for c in self.directory or () if c.id.upper() == code), None)

    def validate_country_code(self, field: Field) -> None:
        if not field.data:
            return
        if self.directory is None:
            raise ValidationError(self.directory_error or "Magento's country list could not be read; try again.")
        if self.country() is None:
            raise ValidationError(f"Magento's directory has no country {field.data!r}; pick one from the list.")

    def validate_region(self, field: Field) -> None:
        country = self.country()
        if not field.data or country is None or not country.regions:
            return
        wanted = field.data.casefold()
        if not any(wanted in (r.code.casefold(), r.name.casefold()) for r in country.regions):
            raise ValidationError(
                f"{country.name} has no region {field.data!r} in Magento's directory; pick one from the list."
            )

    def values(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in FIELDS}


def address_locked_reason(record: Any) -> str | None:
    """Why the shipping address can no longer be corrected, or None while a correction can still matter:
    Amazon ships FBA orders itself, and a shipped parcel has left with the label it had."""
    if record.fulfillment_channel == "AFN":
        return "Amazon ships this order (Fulfilled by Amazon); its shipping address can't be corrected here."
    if record.status not in OPEN_STATUSES:
        return (
            f"The order is {STATUS_WORDS.get(record.status, record.status)}; its shipping address can only be "
            "corrected before it ships."
        )
    return None


STATUS_WORDS = {"PartiallyShipped": "Partially Shipped", "Shipped": "Shipped", "Canceled": "Canceled"}


def load_directory(*, fresh: bool = False) -> tuple[list[Country] | None, str | None]:
    """Magento's countries (cached), or None and the sentence saying Magento did not answer; `fresh` asks
    Magento even if it failed a moment ago (saving an address)."""
    from .catalog import CatalogUnavailable, countries

    try:
        return countries(fresh=fresh), None
    except CatalogUnavailable as exc:
        return None, str(exc)


def _normal(name: str, value: Any) -> str:
    text = _strip(value) if isinstance(value, str) else ("" if value is None else str(value).strip())
    return text.upper() if name == "country_code" else text


def amazon_address(snapshot: Mapping[str, Any] | None) -> dict[str, str]:
    """Amazon's values of the editable fields ("" when Amazon sent none, e.g. without the PII role or FBA)."""
    snap = snapshot or {}
    if "AmazonOrderId" in snap:
        raw, keys = snap.get("ShippingAddress"), V0_KEYS
    else:
        recipient = snap.get("recipient")
        raw, keys = (recipient.get("deliveryAddress") if isinstance(recipient, Mapping) else None), V2026_KEYS
    raw = raw if isinstance(raw, Mapping) else {}
    return {name: _normal(name, raw.get(key)) for name, key in keys.items()}


def current_address(amazon: Mapping[str, str], override: Mapping[str, Any] | None) -> dict[str, str]:
    """What the importer will use: Amazon's address with the operator's corrections (a blank clears a field)."""
    override = override or {}
    return {name: _normal(name, override[name]) if name in override else amazon[name] for name in FIELDS}


def override_for(amazon: Mapping[str, str], submitted: Mapping[str, str]) -> dict[str, str]:
    """Only the fields that differ from Amazon's: a field set back to Amazon's value leaves the override."""
    return {name: _normal(name, submitted[name]) for name in FIELDS if _normal(name, submitted[name]) != amazon[name]}


def changed_fields(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    return [name for name in FIELDS if before[name] != after[name]]


def describe(fields: list[str]) -> str:
    """Field names for the order's history and logs; never the values, which are the buyer's PII."""
    return ", ".join(FIELDS[name][1] for name in fields)


@dataclass(frozen=True)
class AddressRow:
    """One line of the address as the page shows it."""

    name: str
    label: str
    value: str
    amazon: str
    corrected: bool


def address_rows(amazon: Mapping[str, str], override: Mapping[str, Any] | None) -> list[AddressRow]:
    current = current_address(amazon, override)
    override = override or {}
    rows = []
    for name in FIELDS:
        corrected = name in override and current[name] != amazon[name]
        rows.append(AddressRow(name, FIELDS[name][0], current[name], amazon[name], corrected))
    return rows
