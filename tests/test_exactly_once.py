"""Exactly once when Magento is slow (issue 8): creates in doubt, duplicates, canceled orders, exact stock.

Every fault is reproduced over HTTP by the Magento twin: a create held past the client's timeout and saved
afterwards ("saves late"), 500s, planted duplicates.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bridge.domain import ImportState
from bridge.importer.pipeline import OrderImporter
from bridge.magento.client import MagentoClient
from bridge.service import give_back_stock, make_importer, stock_locks
from bridge.storage.models import AmazonOrderRecord, StockMove, utcnow
from tests.harness import line, make_bridge, v2026_order
from tests.test_import_pipeline import _NoImport, source_quantity

CREATE = "PUT /V1/orders/create"


@pytest.fixture
def bridge(database_url, redis_url, magento_twin, amazon_twin, monkeypatch):
    """On SQLite and again on PostgreSQL."""
    b = make_bridge(database_url=database_url, redis_url=redis_url, magento=magento_twin, amazon=amazon_twin,
                    monkeypatch=monkeypatch)
    yield b
    b.runtime.close()


def impatient_importer(bridge, *, timeout: float = 1.0, now=utcnow) -> OrderImporter:
    """The bridge's importer with a short Magento timeout, so a create held by the twin outlives it."""
    settings = replace(bridge.runtime.settings.magento, timeout_seconds=timeout)
    return OrderImporter(
        bridge.runtime.db.session,
        lambda code: MagentoClient(settings, store_code=code),
        public_base_url=bridge.runtime.settings.admin.public_base_url,
        max_request=timedelta(seconds=bridge.runtime.settings.magento.max_request_seconds),
        stock_locks=stock_locks(bridge.runtime),
        now=now,
    )


def routes(bridge) -> dict[str, int]:
    return bridge.magento.stats()["routes"]


def wait_for_held_creates(bridge, count: int = 1, limit: float = 60) -> None:
    """Until the twin has finished every create it held (saved, or refused): not an assertion on time."""
    deadline = time.monotonic() + limit
    while routes(bridge).get("(create held: handled)", 0) < count:
        assert time.monotonic() < deadline, "the twin never finished the held create"
        time.sleep(0.05)


def hold_next_creates(bridge, seconds: float = 3.0) -> None:
    bridge.magento.set_faults(rate_save_late=1.0, save_late_seconds=seconds, seed=1)


def test_a_create_saved_after_the_client_gave_up_leaves_one_commerce_order(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000801-0000001")])
    importer = impatient_importer(bridge)
    hold_next_creates(bridge)

    bridge.sync(importer)  # the create times out; Magento is still working on it
    bridge.magento.set_faults(rate_save_late=0.0)
    record = bridge.record("111-0000801-0000001")
    assert record.import_state == ImportState.QUEUED.value
    assert record.create_in_doubt_until is not None
    assert any(e.kind == "in_doubt" for e in record.events)

    importer.import_order(bridge.store_id, "111-0000801-0000001")  # a retry while the first create may run
    assert routes(bridge)[CREATE] == 1, "a second create was sent while the first could still be saved"

    wait_for_held_creates(bridge)  # Magento saves the first create now
    bridge.sync(importer)

    [order] = bridge.magento_orders(ext_order_id="111-0000801-0000001")
    record = bridge.record("111-0000801-0000001")
    assert record.import_state == ImportState.IMPORTED.value
    assert record.magento_entity_id == order["entity_id"]
    assert record.create_in_doubt_until is None
    assert bridge.magento_order(order["entity_id"])["state"] == "processing"  # finished: invoiced once
    assert routes(bridge)[CREATE] == 1


def test_an_order_whose_create_never_landed_is_created_once_nothing_can_still_be_running(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000802-0000001")])
    bridge.sync(importer=_NoImport())
    with bridge.runtime.db.session() as session:  # a worker was killed with the create on its way out
        record = session.scalar(select(AmazonOrderRecord).filter_by(amazon_order_id="111-0000802-0000001"))
        record.create_attempts = 1
        record.create_in_doubt_until = utcnow() + timedelta(minutes=10)
        session.commit()

    outcome = impatient_importer(bridge).import_order(bridge.store_id, "111-0000802-0000001")
    assert outcome.state is ImportState.QUEUED and not outcome.created
    assert bridge.magento_orders() == []

    later = impatient_importer(bridge, now=lambda: utcnow() + timedelta(minutes=11))
    outcome = later.import_order(bridge.store_id, "111-0000802-0000001")
    assert outcome.state is ImportState.IMPORTED and outcome.created
    assert len(bridge.magento_orders()) == 1


def test_with_amazons_order_number_magento_refuses_the_late_second_create(bridge):
    bridge.set_settings(order_number_source="amazon", order_number_prefix="AMZ-")
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000803-0000001")])
    importer = impatient_importer(bridge)
    hold_next_creates(bridge)
    with pytest.raises(Exception, match="V1/orders/create"):  # timed out: retried soon, no waiting needed
        bridge.sync(importer)
    bridge.magento.set_faults(rate_save_late=0.0)

    outcome = importer.import_order(bridge.store_id, "111-0000803-0000001")  # created again at once
    assert outcome.state is ImportState.IMPORTED
    wait_for_held_creates(bridge)  # the held create reaches the database: the order number exists

    [order] = bridge.magento_orders(ext_order_id="111-0000803-0000001")
    assert order["increment_id"] == "AMZ-111-0000803-0000001"
    assert bridge.record("111-0000803-0000001").magento_entity_id == order["entity_id"]


def _copy_order(bridge, source: dict, ext_order_id: str) -> dict:
    """Create a Commerce order like `source` for another Amazon order, over REST (a planted duplicate)."""
    from sandbox.magento.schema import ORDER_ADDRESS_FIELDS, ORDER_FIELDS, ORDER_ITEM_FIELDS

    entity = {k: v for k, v in source.items() if k in ORDER_FIELDS
              and k not in ("entity_id", "increment_id", "status_histories", "protect_code", "created_at",
                            "updated_at", "billing_address_id", "shipping_address_id", "extension_attributes")}
    entity["ext_order_id"] = ext_order_id
    entity["items"] = [{k: v for k, v in i.items() if k in ORDER_ITEM_FIELDS and k not in ("item_id", "order_id")}
                       for i in source["items"]]
    entity["billing_address"] = {k: v for k, v in source["billing_address"].items()
                                 if k in ORDER_ADDRESS_FIELDS and k not in ("entity_id", "parent_id")}
    entity["payment"] = {k: v for k, v in source["payment"].items() if k not in ("entity_id", "parent_id")}
    entity["payment"]["po_number"] = ext_order_id
    response = bridge.magento.session().put(f"{bridge.magento.url}/rest/V1/orders/create",
                                            json={"entity": entity}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_duplicates_planted_in_magento_are_canceled_or_refunded_with_a_comment_naming_the_kept_one(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.set_settings(create_invoice=False)
    bridge.seed_amazon([v2026_order("111-0000804-0000001")])
    bridge.sync()
    [template] = bridge.magento_orders()
    template = bridge.magento_order(template["entity_id"])
    kept = _copy_order(bridge, template, "111-0000804-0000002")  # three Commerce orders for one Amazon order
    plain = _copy_order(bridge, template, "111-0000804-0000002")
    invoiced = _copy_order(bridge, template, "111-0000804-0000002")
    bridge.magento.session().post(f"{bridge.magento.url}/rest/V1/order/{invoiced['entity_id']}/invoice",
                                  json={"capture": False}, timeout=30).raise_for_status()
    bridge.set_settings(create_invoice=True)

    bridge.seed_amazon([v2026_order("111-0000804-0000002")])
    bridge.sync()

    record = bridge.record("111-0000804-0000002")
    assert record.magento_entity_id == kept["entity_id"]
    assert record.import_state == ImportState.IMPORTED.value
    assert bridge.magento_order(kept["entity_id"])["state"] == "processing"
    canceled = bridge.magento_order(plain["entity_id"])
    assert canceled["state"] == "canceled"
    refunded = bridge.magento_order(invoiced["entity_id"])
    assert refunded["state"] == "closed"
    for extra in (canceled, refunded):
        comments = " ".join(h.get("comment") or "" for h in extra["status_histories"])
        assert f"Duplicate of Commerce order #{kept['increment_id']}" in comments
    duplicate_events = [e.message for e in record.events if e.kind == "duplicate"]
    assert len(duplicate_events) == 2
    assert all(f"duplicate of #{kept['increment_id']}" in m for m in duplicate_events)

    bridge.amazon.advance_clock(180)
    bridge.sync()  # settled once: nothing more happens
    assert len([e for e in bridge.record("111-0000804-0000002").events if e.kind == "duplicate"]) == 2


def test_an_in_doubt_order_that_amazon_cancels_is_linked_not_skipped(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000805-0000001")])
    importer = impatient_importer(bridge)
    hold_next_creates(bridge)
    bridge.sync(importer)  # create sent, answer lost
    bridge.magento.set_faults(rate_save_late=0.0)

    bridge.amazon.set_status("111-0000805-0000001", "CANCELLED", cancelledBy="BUYER", reason="Changed my mind")
    bridge.amazon.advance_clock(180)
    bridge.sync(importer)
    assert bridge.record("111-0000805-0000001").import_state != ImportState.SKIPPED.value

    wait_for_held_creates(bridge)  # the Commerce order appears after all
    bridge.amazon.advance_clock(180)
    bridge.sync(importer)

    [order] = bridge.magento_orders(ext_order_id="111-0000805-0000001")
    record = bridge.record("111-0000805-0000001")
    assert record.status == "Canceled"
    assert record.magento_entity_id == order["entity_id"]
    assert record.import_state == ImportState.IMPORTED.value  # linked: it now follows Amazon's status
    commerce = bridge.magento_order(order["entity_id"])
    assert commerce["state"] == "canceled"  # not invoiced on the way, then canceled as Amazon was
    assert any("Canceled on Amazon" in (h.get("comment") or "") for h in commerce["status_histories"])
    assert routes(bridge)[CREATE] == 1


def test_a_canceled_order_whose_create_certainly_never_landed_is_skipped(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000806-0000001")])
    bridge.sync(importer=_NoImport())
    with bridge.runtime.db.session() as session:
        record = session.scalar(select(AmazonOrderRecord).filter_by(amazon_order_id="111-0000806-0000001"))
        record.create_attempts = 1
        record.create_in_doubt_until = utcnow() - timedelta(seconds=1)  # nothing can still be running
        session.commit()
    bridge.amazon.set_status("111-0000806-0000001", "CANCELLED", cancelledBy="BUYER", reason="Changed my mind")
    bridge.amazon.advance_clock(180)
    bridge.sync()
    record = bridge.record("111-0000806-0000001")
    assert record.import_state == ImportState.SKIPPED.value
    assert bridge.magento_orders() == []


def test_four_workers_decrementing_one_sku_for_50_orders_leave_the_quantity_exact(bridge):
    bridge.set_settings(stock_handling="decrement_source", reserve_pending=False)
    bridge.add_products([("SKU-1", "Thing", "10.00")], qty=1000)
    orders = [v2026_order(f"111-0000807-{n:07d}", items=[line("SKU-1", "Thing", str(1 + n % 3), "10.00")])
              for n in range(50)]
    bridge.seed_amazon(orders)
    bridge.sync(importer=_NoImport())  # stored and queued; the workers import
    todo: queue.Queue[str] = queue.Queue()
    for o in orders:
        todo.put(o["orderId"])
    failures: list[BaseException] = []

    def worker():
        importer = make_importer(bridge.runtime)
        while True:
            try:
                amazon_order_id = todo.get_nowait()
            except queue.Empty:
                return
            try:
                importer.import_order(bridge.store_id, amazon_order_id)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    ordered = sum(1 + n % 3 for n in range(50))
    assert source_quantity(bridge, "SKU-1") == 1000 - ordered
    with bridge.runtime.db.session() as session:
        moves = list(session.scalars(select(StockMove)))
    assert len(moves) == 50 and {m.state for m in moves} == {"applied"}
    assert len(bridge.magento_orders()) == 50


def test_a_reservation_whose_write_failed_is_retried_and_never_released(bridge):
    bridge.set_settings(stock_handling="decrement_source", reserve_pending=True)
    bridge.add_products([("SKU-1", "Thing", "10.00")], qty=100)
    bridge.seed_amazon([
        v2026_order("111-0000808-0000001", status="PENDING", items=[line("SKU-1", "Thing", "2", "10.00")]),
        v2026_order("111-0000808-0000002", status="PENDING", items=[line("SKU-1", "Thing", "3", "10.00")]),
    ])
    bridge.magento.set_faults(rate_500=1.0, seed=1)  # Magento fails every call
    bridge.sync()
    bridge.magento.set_faults(rate_500=0.0)
    assert source_quantity(bridge, "SKU-1") == 100
    record = bridge.record("111-0000808-0000001")
    assert not record.stock_applied
    assert any(e.kind == "stock" and "Could not reserve stock" in e.message for e in record.events)

    bridge.amazon.set_status("111-0000808-0000001", "CANCELLED", cancelledBy="BUYER", reason="Changed my mind")
    bridge.amazon.advance_clock(180)
    bridge.sync()  # the canceled order took nothing and gives nothing back; the other one is reserved now

    assert source_quantity(bridge, "SKU-1") == 97
    assert bridge.record("111-0000808-0000002").notes == "Inventory reserved"
    bridge.sync()
    assert source_quantity(bridge, "SKU-1") == 97


def test_a_reservation_given_back_once_after_import_through_the_ledger(bridge):
    """`give_back_stock`, the call the lifecycle uses for orders Amazon cancels after import."""
    bridge.set_settings(stock_handling="decrement_source", reserve_pending=True)
    bridge.add_products([("SKU-1", "Thing", "10.00"), ("SKU-2", "Other", "5.00")], qty=50)
    bridge.seed_amazon([v2026_order("111-0000809-0000001", status="PENDING", items=[
        line("SKU-1", "Thing", "2", "10.00"), line("SKU-2", "Other", "1", "5.00")])])
    bridge.sync()
    bridge.amazon.set_status("111-0000809-0000001", "UNSHIPPED")
    bridge.amazon.advance_clock(180)
    bridge.sync()  # imported; the reservation counts, nothing taken twice
    assert (source_quantity(bridge, "SKU-1"), source_quantity(bridge, "SKU-2")) == (48, 49)

    assert give_back_stock(bridge.runtime, bridge.store_id, "111-0000809-0000001") == {"SKU-1": 2, "SKU-2": 1}
    assert give_back_stock(bridge.runtime, bridge.store_id, "111-0000809-0000001") == {}  # once
    events = [e.message for e in bridge.record("111-0000809-0000001").events if e.kind == "stock"]
    assert "Stock given back (2 x SKU-1, 1 x SKU-2): the order was canceled." in events
    assert (source_quantity(bridge, "SKU-1"), source_quantity(bridge, "SKU-2")) == (Decimal(50), Decimal(50))
