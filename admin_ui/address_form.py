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
    if name == "country_code":
        validators.append(Regexp(r"^[A-Z]{2}$", message="Use the two-letter country code, e.g. US, GB or DE."))
        return StringField(label, validators=validators, filters=[lambda v: _strip(v).upper()])
    return StringField(label, validators=validators, filters=[_strip])


class AddressForm(FlaskForm):
    """ASC's editable shipping address, plus the recipient's name and phone."""

    name = _field("name")
    line1 = _field("line1")
    line2 = _field("line2")
    line3 = _field("line3")
    city = _field("city")
    region = _field("region")
    postal_code = _field("postal_code")
    country_code = _field("country_code")
    phone = _field("phone")

    def values(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in FIELDS}


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
