"""Log set-up for every process: plain text or JSON lines, and the Amazon order id on every line about an
order.

The order id comes from `order_context()` (the import job and the backfill set it around one order), or,
failing that, from the message itself when it names exactly one Amazon order id. Buyer names, e-mails
and addresses are never logged at INFO by the bridge; the JSON formatter adds no fields of its own that
could carry them.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime

AMAZON_ORDER_ID = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
_current_order: contextvars.ContextVar[str | None] = contextvars.ContextVar("amazon_order_id", default=None)


@contextlib.contextmanager
def order_context(amazon_order_id: str) -> Iterator[None]:
    """Every log line inside is about this order."""
    token = _current_order.set(amazon_order_id)
    try:
        yield
    finally:
        _current_order.reset(token)


class OrderIdFilter(logging.Filter):
    """Sets `record.amazon_order_id` (or "")."""

    def filter(self, record: logging.LogRecord) -> bool:
        order_id = _current_order.get()
        if order_id is None:
            found = set(AMAZON_ORDER_ID.findall(record.getMessage()))
            order_id = found.pop() if len(found) == 1 else ""
        record.amazon_order_id = order_id
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        order_id = getattr(record, "amazon_order_id", "")
        if order_id and order_id not in record.getMessage():
            text += f" [amazon_order_id={order_id}]"
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, amazon_order_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        order_id = getattr(record, "amazon_order_id", "")  # set through `extra=`, so not a declared attribute
        if order_id:
            entry["amazon_order_id"] = str(order_id)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "info", fmt: str | None = None) -> None:
    """Root logging for a bridge process; `fmt` "json" or "text" (default: AMAZON_BRIDGE_LOG_FORMAT, text)."""
    fmt = (fmt or os.environ.get("AMAZON_BRIDGE_LOG_FORMAT") or "text").lower()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(OrderIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("spapi").setLevel(logging.WARNING)
