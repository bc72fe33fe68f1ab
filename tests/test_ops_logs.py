"""Logs: JSON lines on request, the Amazon order id on every line about an order, no buyer data at INFO."""

from __future__ import annotations

import io
import json
import logging

from bridge.logs import JsonFormatter, OrderIdFilter, TextFormatter, order_context
from bridge.service import make_importer
from tests.harness import line, v2026_order

BUYER = "Zelda Quuxington"


def _capture(formatter) -> tuple[io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(OrderIdFilter())
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return stream, handler


def test_json_lines_carry_the_order_id_and_no_buyer_data(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    ok = v2026_order("111-0000001-0000001", buyer_name=BUYER, items=[line("SKU-1", "Thing", "1", "10.00")])
    bad = v2026_order("111-0000002-0000002", buyer_name=BUYER, items=[line("NOPE", "Unknown", "1", "10.00")])
    bridge.seed_amazon([ok, bad])
    stream, handler = _capture(JsonFormatter())
    try:
        importer = make_importer(bridge.runtime)

        def in_context(ids):  # as the import job does (jobs/tasks.py)
            for amazon_order_id in ids:
                with order_context(amazon_order_id):
                    logging.getLogger("bridge.test").info("importing")
                    importer.import_order(bridge.store_id, amazon_order_id)

        from bridge.service import sync_store

        sync_store(bridge.runtime, bridge.store_id, dispatch=in_context, importer=importer)
    finally:
        logging.getLogger().removeHandler(handler)
    entries = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert entries, "nothing was logged"
    about_orders = [e for e in entries if "111-000000" in e["message"] or e["message"] == "importing"]
    assert len([e for e in about_orders if e["message"] == "importing"]) == 2
    assert all(e.get("amazon_order_id", "").startswith("111-000000") for e in about_orders), about_orders
    everything = stream.getvalue()
    assert BUYER not in everything
    assert "@marketplace.amazon.com" not in everything
    assert "Westlake" not in everything


def test_text_lines_name_the_order_from_the_context():
    stream, handler = _capture(TextFormatter())
    try:
        with order_context("111-0000003-0000003"):
            logging.getLogger("bridge.test").info("Magento answered 500; will retry")
    finally:
        logging.getLogger().removeHandler(handler)
    assert stream.getvalue().rstrip().endswith("Magento answered 500; will retry [amazon_order_id=111-0000003-0000003]")
