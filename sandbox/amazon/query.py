"""Order search rules shared by v2026 searchOrders and v0 getOrders: the created/lastUpdated window
(exactly one *After, families exclusive, *Before ≥ *After and ≥ two minutes before now) and opaque,
signed pagination tokens that carry the query so every page reads the same window."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from flask import Response

from .clock import iso, parse_iso
from .spapi import GENERIC_INVALID, invalid_input

TWO_MINUTE_MESSAGE = (
    "The input you have submitted is not valid. Note that the error may be due to a systematic delay in "
    "data retrieval. The most updated data is 2 minutes after an order is created or last updated. If you "
    "set the CreatedBefore or LastUpdatedBefore parameters, please provide a date that is at least 2 "
    "minutes before current time and try again."
)
TOKEN_LIFETIME = timedelta(hours=24)


@dataclass
class Window:
    mode: str  # "created" or "lastUpdated"
    after: datetime
    before: datetime


@dataclass
class SearchQuery:
    """The filters a pagination token pins; `last` is the sort key of the previous page's last order."""

    mode: str
    after: str
    before: str
    filters: dict[str, list[str] | None] = field(default_factory=dict)
    last: list[str] | None = None
    expires: str = ""


def parse_window(get, names: tuple[str, str, str, str], now: datetime) -> Window | Response:
    """`names` = (createdAfter, createdBefore, lastUpdatedAfter, lastUpdatedBefore) as the API spells them."""
    c_after, c_before, u_after, u_before = (get(n) for n in names)
    if c_after and u_after:
        return invalid_input(details=f"Exactly one of {names[0]} and {names[2]} may be provided.")
    if not c_after and not u_after:
        return invalid_input(details=f"Exactly one of {names[0]} and {names[2]} is required.")
    if c_after and u_before:
        return invalid_input(details=f"{names[3]} cannot be set when {names[0]} is set.")
    if u_after and c_before:
        return invalid_input(details=f"{names[1]} cannot be set when {names[2]} is set.")
    mode = "created" if c_after else "lastUpdated"
    after_name, before_name = (names[0], names[1]) if c_after else (names[2], names[3])
    raw_after, raw_before = (c_after, c_before) if c_after else (u_after, u_before)
    bad = []
    try:
        after = parse_iso(raw_after)
    except ValueError:
        bad.append(after_name)
    before = None
    if raw_before:
        try:
            before = parse_iso(raw_before)
        except ValueError:
            bad.append(before_name)
    if bad:
        return invalid_input(GENERIC_INVALID, f"Invalid date-time field(s) [{', '.join(bad)}].")
    latest = now - timedelta(minutes=2)
    if after > latest:  # nothing newer than two minutes is searchable yet
        return invalid_input(TWO_MINUTE_MESSAGE, f"{after_name} must be at least two minutes before now.")
    if before is None:
        before = latest
    else:
        if before < after:
            return invalid_input(details=f"{before_name} must be equal to or after {after_name}.")
        if before > latest:
            return invalid_input(TWO_MINUTE_MESSAGE)
    return Window(mode=mode, after=after, before=before)


def encode_token(query: SearchQuery, secret: bytes, now: datetime) -> str:
    """Each token lives 24 hours from when it is handed out."""
    query.expires = iso(now + TOKEN_LIFETIME)
    raw = json.dumps(asdict(query), separators=(",", ":"), sort_keys=True).encode()
    body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()[:12]
    return body + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def decode_token(token: str, secret: bytes, now: datetime) -> SearchQuery | Response:
    try:
        body, mac_text = token.split(".", 1)
        mac = base64.urlsafe_b64decode(mac_text + "=" * (-len(mac_text) % 4))
        expected = hmac.new(secret, body.encode(), hashlib.sha256).digest()[:12]
        if not hmac.compare_digest(mac, expected):
            raise ValueError("signature")
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        query = SearchQuery(**data)
    except (ValueError, TypeError, KeyError):
        return invalid_input(details="Invalid pagination token.")
    if now >= parse_iso(query.expires):
        return invalid_input(details="The pagination token has expired.")
    return query


def new_query(window: Window, filters: dict[str, list[str] | None], now: datetime) -> SearchQuery:
    return SearchQuery(mode=window.mode, after=iso(window.after), before=iso(window.before),
                       filters=filters, expires=iso(now + TOKEN_LIFETIME))


def same_filters(query: SearchQuery, window: Window | None, filters: dict[str, list[str] | None]) -> bool:
    """With a pagination token, any filter the caller repeats must equal the token's."""
    if window is not None and (window.mode != query.mode or iso(window.after) != query.after):
        return False
    for name, value in filters.items():
        if value is not None and sorted(value) != sorted(query.filters.get(name) or []):
            return False
    return True


def page(orders: list[dict], query: SearchQuery, size: int) -> tuple[list[dict], list[str] | None]:
    """Orders after `query.last` in (time, orderId) order; returns the page and the next cursor."""
    key_field = "createdTime" if query.mode == "created" else "lastUpdatedTime"

    def key(o: dict) -> tuple[str, str]:
        return (iso(parse_iso(o[key_field])), o["orderId"])

    ordered = sorted(orders, key=key)
    if query.last:
        last = (query.last[0], query.last[1])
        ordered = [o for o in ordered if key(o) > last]
    chunk = ordered[:size]
    cursor = list(key(chunk[-1])) if len(ordered) > size else None
    return chunk, cursor


def in_window(order: dict, query: SearchQuery) -> bool:
    field_name = "createdTime" if query.mode == "created" else "lastUpdatedTime"
    value = parse_iso(order[field_name])
    return parse_iso(query.after) <= value <= parse_iso(query.before)


def parse_page_size(raw: str | None, name: str) -> int | Response:
    if raw is None or raw == "":
        return 100
    try:
        size = int(raw)
    except ValueError:
        return invalid_input(details=f"{name} must be an integer between 1 and 100.")
    if not 1 <= size <= 100:
        return invalid_input(details=f"{name} must be between 1 and 100.")
    return size
