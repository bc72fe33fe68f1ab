"""The Amazon Order Details page's view of what Amazon said beyond lines and totals (tax Amazon remits,
business buyer, gifts, delivery windows, replacement), read by the importer's own rules
(`bridge.importer.order_notes`), so the page and the Commerce order comment say the same."""

from __future__ import annotations

from bridge.amazon.errors import AmazonDataError
from bridge.amazon.mapping import order_from_v2026
from bridge.importer.order_notes import OrderFacts, order_facts
from bridge.storage.models import AmazonOrderRecord


def facts_for(record: AmazonOrderRecord) -> OrderFacts | None:
    """None when the snapshot is not a v2026 order or cannot be read (the page then shows what it has)."""
    snapshot = record.snapshot or {}
    if "orderId" not in snapshot:
        return None
    try:
        return order_facts(order_from_v2026(snapshot))
    except AmazonDataError:
        return None
