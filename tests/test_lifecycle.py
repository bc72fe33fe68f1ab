"""Amazon -> Commerce after import, end to end: both twins over HTTP, the real Redis, the bridge's sync.

An order canceled on Amazon after import is canceled or credit-memoed in Commerce (stock back where the
bridge took it); one shipped in Seller Central gets a Commerce shipment with Amazon's tracking and completes;
an FBA one completes without a shipment. Re-running any step, or crashing in the middle, leaves one shipment
and one credit memo.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bridge.commerce_changes import poll_commerce
from bridge.lifecycle import LifecycleDeferred, OrderLifecycle
from bridge.service import make_lifecycle, sync_store
from bridge.storage.models import AmazonOrderRecord, OutboundAction
from sandbox.amazon.testing import SpClient, shipment
from tests.harness import US, line, v2026_order

PRODUCTS = [("SKU-1", "Thing", "10.00"), ("SKU-2", "Other thing", "5.00")]


@pytest.fixture
def bridge(database_url, redis_url, magento_twin, amazon_twin, monkeypatch):
    """The shared harness, on SQLite and again on PostgreSQL (the due-changes query and the migration)."""
    from tests.harness import make_bridge

    b = make_bridge(database_url=database_url, redis_url=redis_url, magento=magento_twin, amazon=amazon_twin,
                    monkeypatch=monkeypatch)
    yield b
    b.runtime.close()


def _get(bridge, path: str, **params) -> dict:
    response = bridge.magento.session().get(f"{bridge.magento.url}/rest/V1/{path}", params=params, timeout=30)
    response.raise_for_status()
    return response.json()


def documents(bridge, kind: str, entity_id: int) -> list[dict]:
    """Shipments / credit memos of one Commerce order, as Magento lists them."""
    return _get(bridge, kind, **{
        "searchCriteria[filter_groups][0][filters][0][field]": "order_id",
        "searchCriteria[filter_groups][0][filters][0][value]": entity_id,
    })["items"]


def source_qty(bridge, sku: str) -> float:
    items = _get(bridge, "inventory/source-items", **{
        "searchCriteria[filter_groups][0][filters][0][field]": "sku",
        "searchCriteria[filter_groups][0][filters][0][value]": sku,
    })["items"]
    return next(i["quantity"] for i in items if i["source_code"] == "default")


def comments(magento_order: dict) -> list[str]:
    return [h.get("comment") or "" for h in magento_order.get("status_histories") or []]


def imported(bridge, order: dict):
    """Seed one Amazon order and sync it into Commerce."""
    bridge.seed_amazon([order])
    bridge.sync()
    record = bridge.record(order["orderId"])
    assert record.import_state == "imported", record.last_error
    return record


def mfn_order(order_id: str, **kwargs) -> dict:
    return v2026_order(order_id, items=[line("SKU-1", "Thing", "2", "10.00", tax="1.65", shipping="4.99",
                                             item_id="10000000000001"),
                                        line("SKU-2", "Other thing", "1", "5.00", item_id="10000000000002")],
                       **kwargs)


class CrashAfter:
    """A Magento client whose `method` reaches Magento and then the worker dies before anything is saved."""

    def __init__(self, client, method: str):
        self._client, self._method = client, method

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if name != self._method:
            return attr

        def crash(*args, **kwargs):
            attr(*args, **kwargs)
            raise SystemExit("worker killed")

        return crash


def expire_leases(bridge) -> None:
    """What time does to a killed worker's lease."""
    with bridge.runtime.db.session() as session:
        session.execute(update(AmazonOrderRecord).values(claim_token=None, claim_expires_at=None))
        session.commit()


def crashing_lifecycle(bridge, method: str) -> OrderLifecycle:
    return OrderLifecycle(bridge.runtime.db.session,
                          lambda code: CrashAfter(bridge.runtime.magento_client(code), method))


# -- canceled on Amazon after import ------------------------------------------------------------------------


def test_invoiced_order_canceled_on_amazon_is_fully_credit_memoed_and_stock_returned(bridge):
    bridge.add_products(PRODUCTS, qty=50)
    bridge.set_settings(stock_handling="decrement_source")
    record = imported(bridge, mfn_order("111-0000001-0000001"))
    assert source_qty(bridge, "SKU-1") == 48 and record.stock_applied

    bridge.amazon.set_status(record.amazon_order_id, "CANCELLED", cancelledBy="BUYER", reason="BuyerCanceled")
    bridge.amazon.advance_clock(180)
    bridge.sync()

    after = bridge.magento_order(record.magento_entity_id)
    assert after["state"] == "closed"  # invoiced: Magento cannot cancel it, so everything is refunded
    memos = documents(bridge, "creditmemos", record.magento_entity_id)
    assert len(memos) == 1
    assert memos[0]["grand_total"] == after["grand_total"]
    assert any("Canceled on Amazon" in c and "BuyerCanceled" in c for c in comments(after))
    assert source_qty(bridge, "SKU-1") == 50 and source_qty(bridge, "SKU-2") == 50
    record = bridge.record(record.amazon_order_id)
    assert record.commerce_synced_status == "refunded"
    kinds = [e.kind for e in record.events]
    assert "commerce_refunded" in kinds and kinds.count("stock") == 2  # taken at import, returned now

    bridge.amazon.advance_clock(180)
    bridge.sync()  # the next sync finds nothing left to do
    assert len(documents(bridge, "creditmemos", record.magento_entity_id)) == 1
    assert source_qty(bridge, "SKU-1") == 50
    assert sum("Canceled on Amazon" in c for c in comments(bridge.magento_order(record.magento_entity_id))) == 1


def test_uninvoiced_order_canceled_on_amazon_is_canceled_in_commerce(bridge):
    bridge.add_products(PRODUCTS)
    bridge.set_settings(create_invoice=False)
    record = imported(bridge, mfn_order("111-0000002-0000001"))

    bridge.amazon.set_status(record.amazon_order_id, "CANCELLED", cancelledBy="MERCHANT", reason="NoInventory")
    bridge.amazon.advance_clock(180)
    bridge.sync()

    after = bridge.magento_order(record.magento_entity_id)
    assert after["state"] == "canceled"
    assert documents(bridge, "creditmemos", record.magento_entity_id) == []
    assert any("Canceled on Amazon" in c for c in comments(after))
    record = bridge.record(record.amazon_order_id)
    assert record.commerce_synced_status == "canceled"
    assert source_qty(bridge, "SKU-1") == 100  # the bridge took no stock (stock handling none): none given back


def test_worker_killed_after_the_credit_memo_leaves_one_credit_memo(bridge):
    bridge.add_products(PRODUCTS, qty=50)
    bridge.set_settings(stock_handling="decrement_source")
    record = imported(bridge, mfn_order("111-0000003-0000001"))
    bridge.amazon.set_status(record.amazon_order_id, "CANCELLED", cancelledBy="BUYER", reason="BuyerCanceled")
    bridge.amazon.advance_clock(180)

    def crash_dispatch(ids):
        for amazon_order_id in ids:
            with pytest.raises(SystemExit):
                crashing_lifecycle(bridge, "refund_order").follow(bridge.store_id, amazon_order_id)

    sync_store(bridge.runtime, bridge.store_id, dispatch=lambda ids: None, dispatch_changes=crash_dispatch)
    assert len(documents(bridge, "creditmemos", record.magento_entity_id)) == 1
    assert bridge.record(record.amazon_order_id).commerce_synced_status is None  # the crash lost our bookkeeping

    # The dead worker's lease expires; the next sync re-dispatches the order, which is still due.
    expire_leases(bridge)
    bridge.sync()
    assert len(documents(bridge, "creditmemos", record.magento_entity_id)) == 1
    record = bridge.record(record.amazon_order_id)
    assert record.commerce_synced_status == "refunded"
    assert source_qty(bridge, "SKU-1") == 50


def test_credit_memo_whose_answer_is_lost_is_not_made_twice(bridge):
    """Magento saves the credit memo and the connection drops before the answer: the job is retried later and
    finds the order refunded."""
    bridge.add_products(PRODUCTS)
    record = imported(bridge, mfn_order("111-0000009-0000001"))
    bridge.amazon.set_status(record.amazon_order_id, "CANCELLED", cancelledBy="BUYER", reason="BuyerCanceled")
    bridge.amazon.advance_clock(180)
    bridge.magento.set_faults(rate_drop=1.0)  # every write is saved, then its connection drops
    sync_store(bridge.runtime, bridge.store_id, dispatch=lambda ids: None, dispatch_changes=lambda ids: None)
    with pytest.raises(LifecycleDeferred):
        make_lifecycle(bridge.runtime).follow(bridge.store_id, record.amazon_order_id)
    assert len(documents(bridge, "creditmemos", record.magento_entity_id)) == 1
    assert "will retry" in bridge.record(record.amazon_order_id).events[-1].message

    bridge.magento.set_faults(rate_drop=0.0)
    outcome = make_lifecycle(bridge.runtime).follow(bridge.store_id, record.amazon_order_id)  # RQ's retry
    assert outcome.action == "nothing"
    assert len(documents(bridge, "creditmemos", record.magento_entity_id)) == 1
    assert bridge.record(record.amazon_order_id).commerce_synced_status == "refunded"


# -- shipped outside Commerce ---------------------------------------------------------------------------------


def ship_in_seller_central(bridge, order: dict, tracking: str = "1Z999AA10123456784") -> None:
    """What Seller Central does: a confirmed shipment of every item, UPS tracking."""
    lines = [{"orderItemId": i["orderItemId"], "quantity": i["quantityOrdered"]} for i in order["orderItems"]]
    response = SpClient(bridge.amazon).post(f"/orders/v0/orders/{order['orderId']}/shipmentConfirmation",
                                            shipment(lines, marketplace=US, tracking=tracking))
    assert response.status_code == 204, response.text
    bridge.amazon.advance_clock(180)


def test_mfn_order_shipped_in_seller_central_gets_a_shipment_with_tracking_and_completes(bridge):
    bridge.add_products(PRODUCTS)
    order = mfn_order("111-0000004-0000001")
    record = imported(bridge, order)

    ship_in_seller_central(bridge, order)
    bridge.sync()

    after = bridge.magento_order(record.magento_entity_id)
    shipments = documents(bridge, "shipments", record.magento_entity_id)
    assert len(shipments) == 1
    assert [(t["carrier_code"], t["track_number"]) for t in shipments[0]["tracks"]] == [("ups", "1Z999AA10123456784")]
    assert sorted(i["qty"] for i in shipments[0]["items"]) == [1, 2]
    assert after["state"] == "complete"
    record = bridge.record(record.amazon_order_id)
    assert record.status == "Completed" and record.commerce_synced_status == "complete"

    assert any("[amazon-bridge:from-amazon]" in c["comment"] for c in shipments[0]["comments"])  # not sent back

    bridge.amazon.set_status(record.amazon_order_id, "SHIPPED")  # Amazon touches the order again: a newer copy
    bridge.amazon.advance_clock(180)
    bridge.sync()
    assert len(documents(bridge, "shipments", record.magento_entity_id)) == 1
    record = bridge.record(record.amazon_order_id)
    assert record.status == "Completed"
    assert not [e for e in record.events if e.kind == "status_changed" and "Completed" in e.message]


def test_shipped_order_whose_stock_the_bridge_took_completes_without_a_second_deduction(bridge):
    bridge.add_products(PRODUCTS, qty=50)
    bridge.set_settings(stock_handling="decrement_source")
    order = mfn_order("111-0000010-0000001")
    record = imported(bridge, order)
    assert source_qty(bridge, "SKU-1") == 48

    ship_in_seller_central(bridge, order, tracking="1ZSTOCK")
    bridge.sync()

    after = bridge.magento_order(record.magento_entity_id)
    assert after["state"] == "complete"
    assert documents(bridge, "shipments", record.magento_entity_id) == []  # MSI would deduct a second time
    assert any("Shipped on Amazon" in c and "1ZSTOCK" in c for c in comments(after))
    assert source_qty(bridge, "SKU-1") == 48
    assert bridge.record(record.amazon_order_id).status == "Completed"


def test_shipment_refused_by_msi_still_completes_with_the_tracking_in_a_comment(bridge):
    bridge.add_products(PRODUCTS, qty=5)
    order = mfn_order("111-0000011-0000001")
    record = imported(bridge, order)
    bridge.add_products([("SKU-1", "Thing", "10.00")], qty=0)  # sold elsewhere meanwhile: the source is empty
    ship_in_seller_central(bridge, order, tracking="1ZEMPTY")
    bridge.sync()

    after = bridge.magento_order(record.magento_entity_id)
    assert after["state"] == "complete"
    assert documents(bridge, "shipments", record.magento_entity_id) == []
    assert any("1ZEMPTY" in c for c in comments(after))
    record = bridge.record(record.amazon_order_id)
    refusal = [e.message for e in record.events if e.kind == "commerce_error"]
    assert refusal and "Not all of your products are available in the requested quantity." in refusal[0]
    assert record.status == "Completed"


def test_partial_shipments_in_seller_central_become_commerce_shipments_with_their_own_tracking(bridge):
    bridge.add_products(PRODUCTS)
    order = mfn_order("111-0000012-0000001")
    record = imported(bridge, order)
    first, second = order["orderItems"]
    client = SpClient(bridge.amazon)

    def confirm(item, ref, tracking):
        body = shipment([{"orderItemId": item["orderItemId"], "quantity": item["quantityOrdered"]}],
                        marketplace=US, ref=ref, tracking=tracking)
        assert client.post(f"/orders/v0/orders/{order['orderId']}/shipmentConfirmation", body).status_code == 204
        bridge.amazon.advance_clock(180)

    confirm(first, "1", "1ZFIRST")
    bridge.sync()
    shipments = documents(bridge, "shipments", record.magento_entity_id)
    assert [[t["track_number"] for t in s["tracks"]] for s in shipments] == [["1ZFIRST"]]
    assert [i["qty"] for i in shipments[0]["items"]] == [2]
    assert bridge.magento_order(record.magento_entity_id)["state"] == "processing"
    assert bridge.record(record.amazon_order_id).status == "PartiallyShipped"
    bridge.sync()  # nothing new on Amazon: nothing new in Commerce
    assert len(documents(bridge, "shipments", record.magento_entity_id)) == 1
    # The Commerce -> Amazon poll sees that shipment but never confirms Amazon's own packages back to Amazon.
    poll_commerce(bridge.runtime.db.sessionmaker, bridge.store_id, bridge.runtime.magento_client())
    with bridge.runtime.db.session() as session:
        assert session.scalars(select(OutboundAction).where(OutboundAction.kind == "shipment")).all() == []

    confirm(second, "2", "1ZSECOND")
    bridge.sync()
    shipments = documents(bridge, "shipments", record.magento_entity_id)
    assert [[t["track_number"] for t in s["tracks"]] for s in shipments] == [["1ZFIRST"], ["1ZSECOND"]]
    assert bridge.magento_order(record.magento_entity_id)["state"] == "complete"
    assert bridge.record(record.amazon_order_id).status == "Completed"


def test_shipment_job_delivered_twice_or_killed_after_shipping_leaves_one_shipment(bridge):
    bridge.add_products(PRODUCTS)
    order = mfn_order("111-0000005-0000001")
    record = imported(bridge, order)
    ship_in_seller_central(bridge, order)
    sync_store(bridge.runtime, bridge.store_id, dispatch=lambda ids: None, dispatch_changes=lambda ids: None)

    with pytest.raises(SystemExit):
        crashing_lifecycle(bridge, "ship").follow(bridge.store_id, record.amazon_order_id)
    assert len(documents(bridge, "shipments", record.magento_entity_id)) == 1
    expire_leases(bridge)
    lifecycle = make_lifecycle(bridge.runtime)
    first = lifecycle.follow(bridge.store_id, record.amazon_order_id)
    second = lifecycle.follow(bridge.store_id, record.amazon_order_id)  # the same job delivered again
    assert first.action == "completed" and second.action == "nothing"
    assert len(documents(bridge, "shipments", record.magento_entity_id)) == 1
    assert bridge.magento_order(record.magento_entity_id)["state"] == "complete"


def test_fba_order_completes_without_a_shipment_and_keeps_the_tracking_in_a_comment(bridge):
    bridge.add_products(PRODUCTS, qty=10)
    order = v2026_order("111-0000006-0000001", status="SHIPPED", fulfilled_by="AMAZON",
                        items=[line("SKU-1", "Thing", "1", "10.00", item_id="10000000000061")])
    order["packages"] = [{"packageReferenceId": "1", "packageStatus": {"status": "SHIPPED"}, "carrier": "AMZN_US",
                          "trackingNumber": "TBA123456789000", "shipTime": order["createdTime"],
                          "packageItems": [{"orderItemId": "10000000000061", "quantity": 1}]}]
    record = imported(bridge, order)  # the same pass imports it and then follows Amazon

    after = bridge.magento_order(record.magento_entity_id)
    assert after["state"] == "complete"
    assert documents(bridge, "shipments", record.magento_entity_id) == []
    assert any("Shipped on Amazon by Amazon (FBA)" in c and "TBA123456789000" in c for c in comments(after))
    assert source_qty(bridge, "SKU-1") == 10  # FBA stock is Amazon's: the merchant's source is untouched
    record = bridge.record(record.amazon_order_id)
    assert record.status == "Completed"


def test_magento_refusal_is_recorded_once_with_magentos_words(bridge):
    bridge.add_products(PRODUCTS)
    record = imported(bridge, mfn_order("111-0000007-0000001"))
    hold = bridge.magento.session().post(f"{bridge.magento.url}/rest/V1/orders/{record.magento_entity_id}/hold",
                                         json={}, timeout=30)
    assert hold.status_code == 200
    bridge.amazon.set_status(record.amazon_order_id, "CANCELLED", cancelledBy="BUYER", reason="BuyerCanceled")
    bridge.amazon.advance_clock(180)
    bridge.sync()
    record = bridge.record(record.amazon_order_id)
    assert "A creditmemo can not be created when an order has a status of" in record.commerce_error
    lifecycle = make_lifecycle(bridge.runtime)
    lifecycle.follow(bridge.store_id, record.amazon_order_id)  # tried again: the same words, no new history row
    record = bridge.record(record.amazon_order_id)
    assert [e.kind for e in record.events].count("commerce_error") == 1
    assert documents(bridge, "creditmemos", record.magento_entity_id) == []

    from tests.admin_support import AdminHarness
    admin = AdminHarness(bridge.runtime.settings.database.url, bridge.runtime.settings.redis.url,
                         settings=bridge.runtime.settings)
    try:  # the merchant sees Magento's words on Amazon Order Details
        page = admin.client("viewer").get(f"/orders/{record.amazon_order_id}?store=us").get_data(as_text=True)
        assert 'id="commerce-error"' in page and "A creditmemo can not be created" in page
    finally:
        admin.close()


# -- the buyer asked to cancel ---------------------------------------------------------------------------------


def test_buyer_cancellation_request_shows_on_details_and_lists_and_one_click_queues_buyer_canceled(bridge):
    from rq import Queue
    from sqlalchemy import select

    from bridge.storage.models import OutboundAction
    from tests.admin_support import AdminHarness

    bridge.add_products(PRODUCTS)
    asked = imported(bridge, mfn_order("111-0000008-0000001"))
    other = imported(bridge, mfn_order("111-0000008-0000002"))
    bridge.amazon.set_status(asked.amazon_order_id, buyerCancelRequest="Ordered the wrong size <b>")
    bridge.amazon.advance_clock(180)
    bridge.sync()
    record = bridge.record(asked.amazon_order_id)
    assert record.buyer_cancel_requested and record.buyer_cancel_reason == "Ordered the wrong size <b>"
    assert not bridge.record(other.amazon_order_id).buyer_cancel_requested
    assert [e.kind for e in record.events].count("cancel_request") == 1

    admin = AdminHarness(bridge.runtime.settings.database.url, bridge.runtime.settings.redis.url,
                         settings=bridge.runtime.settings)
    try:
        detail = f"/orders/{asked.amazon_order_id}?store=us"
        viewer = admin.client("viewer")
        page = viewer.get(detail).get_data(as_text=True)
        assert "The buyer asked to cancel this order" in page
        assert "Ordered the wrong size &lt;b&gt;" in page  # Amazon's text, escaped
        assert "Confirm buyer's cancellation" not in page
        assert viewer.post(f"/orders/{asked.amazon_order_id}/confirm-buyer-cancel", {"store": "us"}).status_code == 403

        listing = viewer.get("/orders?store=us&cancel_requested=1").get_data(as_text=True)
        assert asked.amazon_order_id in listing and other.amazon_order_id not in listing
        assert "Cancel requested</span>" in listing
        assert "Cancel requested</span>" not in viewer.get("/orders?store=us&order_number=111-0000008-0000002") \
            .get_data(as_text=True)

        operator = admin.client("operator", username="opal")
        assert "Confirm buyer's cancellation" in operator.get(detail).get_data(as_text=True)
        response = operator.post(f"/orders/{asked.amazon_order_id}/confirm-buyer-cancel", {"store": "us"})
        assert response.status_code == 302
        with bridge.runtime.db.session() as session:
            queued = [(a.order.amazon_order_id, a.kind, a.reason, a.state, a.requested_by)
                      for a in session.scalars(select(OutboundAction))]
        assert queued == [(asked.amazon_order_id, "cancel", "BuyerCanceled", "queued", "opal")]
        assert Queue("actions", connection=bridge.runtime.redis).job_ids == [f"outbox-store-{bridge.store_id}"]
        page = operator.get(detail).get_data(as_text=True)
        assert "Queued, not sent to Amazon yet" in page and "Confirm buyer's cancellation" not in page
        again = operator.post(f"/orders/{asked.amazon_order_id}/confirm-buyer-cancel", {"store": "us"},
                              follow_redirects=True)
        assert "exists already" in again.get_data(as_text=True)
        with bridge.runtime.db.session() as session:
            assert len(list(session.scalars(select(OutboundAction)))) == 1
    finally:
        admin.close()
