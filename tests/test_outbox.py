"""Commerce -> Amazon through the outbox, over HTTP against both twins: cancels, shipments, refunds.

The Amazon twin runs at real-world feed speed (a feed is processed ~90 s after it is created, on the
twin's clock), so every test moves the twin's clock to let Amazon finish: nothing here waits for a feed.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from bridge.amazon.client import AmazonClient
from bridge.commerce_changes import poll_commerce
from bridge.outbox import process_outbox
from bridge.storage.models import ActionState, AmazonOrderRecord, OutboundAction, Store
from tests.harness import line, v2026_order


@pytest.fixture
def shop(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00"), ("SKU-2", "Other thing", "5.00")])
    return bridge


def amazon_client(bridge) -> AmazonClient:
    with bridge.runtime.db.session() as session:
        return bridge.runtime.amazon_client(session.get(Store, bridge.store_id))


def process(bridge, amazon=None):
    return process_outbox(bridge.runtime.db.sessionmaker, bridge.store_id, amazon or amazon_client(bridge),
                          rate_scale=bridge.runtime.amazon_rate_scale, redis=bridge.runtime.redis)


def settle(bridge, *, rounds: int = 50):
    """Let Amazon finish its feeds (the twin's clock) and run the outbox until nothing is pending."""
    for _ in range(rounds):
        bridge.amazon.advance_clock(200)
        result = process(bridge)
        if not pending(bridge):
            return result
        time.sleep(0.1)  # the next look at a feed is due CHECK_DELAY (scaled) after the last one
    raise AssertionError("the outbox did not settle")


def pending(bridge) -> list[OutboundAction]:
    with bridge.runtime.db.session() as session:
        return list(session.scalars(select(OutboundAction).where(
            OutboundAction.state.in_([ActionState.QUEUED.value, ActionState.SUBMITTED.value]))))


def actions(bridge, kind: str | None = None) -> list[OutboundAction]:
    with bridge.runtime.db.session() as session:
        query = select(OutboundAction).order_by(OutboundAction.id)
        if kind:
            query = query.where(OutboundAction.kind == kind)
        return list(session.scalars(query))


def request_cancel(bridge, amazon_order_id: str, reason: str = "NoInventory") -> int:
    with bridge.runtime.db.session() as session:
        record = session.scalar(select(AmazonOrderRecord).where(AmazonOrderRecord.amazon_order_id == amazon_order_id))
        action = OutboundAction(order_id=record.id, kind="cancel", dedupe_key="cancel", reason=reason,
                                requested_by="alice")
        session.add(action)
        session.flush()
        return action.id


def feeds(bridge) -> list[dict]:
    return bridge.amazon._http.get(f"{bridge.amazon.url}/_sandbox/feeds", timeout=10).json()["feeds"]


def poll(bridge):
    return poll_commerce(bridge.runtime.db.sessionmaker, bridge.store_id, bridge.runtime.magento_client())


def imported(bridge, order: dict) -> AmazonOrderRecord:
    bridge.seed_amazon([order])
    bridge.sync()
    record = bridge.record(order["orderId"])
    assert record.magento_entity_id, record.last_error
    return record


def magento_post(bridge, path: str, body: dict):
    response = bridge.magento.session().post(f"{bridge.magento.url}/rest/V1/{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def magento_items(bridge, record) -> dict[str, int]:
    """Amazon OrderItemId -> Magento order item id."""
    order = bridge.magento_order(record.magento_entity_id)
    return {item["ext_order_item_id"]: item["item_id"] for item in order["items"]}


# ---------------------------------------------------------------------------------------------- cancels


def test_a_cancel_is_submitted_in_one_run_and_settled_by_a_later_one(shop):
    imported(shop, v2026_order("111-0000070-0000001"))
    action_id = request_cancel(shop, "111-0000070-0000001", "BuyerCanceled")

    first = process(shop)

    assert (first.submitted, first.accepted) == (1, 0)  # the run ended without waiting for Amazon
    assert actions(shop, "cancel")[0].state == ActionState.SUBMITTED.value
    settle(shop)
    done = actions(shop, "cancel")[0]
    assert done.id == action_id and done.state == ActionState.ACCEPTED.value
    assert shop.amazon.get_order("111-0000070-0000001")["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    kinds = [e.kind for e in shop.record("111-0000070-0000001").events]
    assert kinds.index("cancel_submitted") < kinds.index("cancel_accepted")
    assert len(feeds(shop)) == 1


def test_a_cancel_of_an_order_that_shipped_meanwhile_is_rejected_with_amazons_words(shop):
    imported(shop, v2026_order("111-0000070-0000002"))
    request_cancel(shop, "111-0000070-0000002")
    shop.amazon.set_status("111-0000070-0000002", "SHIPPED")  # shipped in Seller Central meanwhile

    settle(shop)

    rejected = actions(shop, "cancel")[0]
    assert rejected.state == ActionState.REJECTED.value
    assert "cannot be cancelled because its status is SHIPPED" in rejected.result
    history = shop.record("111-0000070-0000002").events
    assert history[-1].kind == "cancel_rejected" and "SHIPPED" in history[-1].message


def test_a_request_that_cannot_be_built_gives_up_without_blocking_the_others(shop):
    imported(shop, v2026_order("111-0000070-0000003"))
    imported(shop, v2026_order("111-0000070-0000004"))
    request_cancel(shop, "111-0000070-0000003", reason="BecauseISaidSo")
    request_cancel(shop, "111-0000070-0000004")

    settle(shop)

    bad, good = actions(shop, "cancel")
    assert bad.state == ActionState.GIVING_UP.value and "unknown cancel reason" in bad.result
    assert good.state == ActionState.ACCEPTED.value


def test_a_run_killed_after_the_feed_was_created_never_sends_it_again(shop):
    imported(shop, v2026_order("111-0000070-0000005"))
    request_cancel(shop, "111-0000070-0000005")
    amazon = amazon_client(shop)
    real_create = amazon.create_feed

    def create_then_die(*args, **kwargs):
        real_create(*args, **kwargs)
        raise SystemExit("killed before the feed id was saved")

    amazon.create_feed = create_then_die
    with pytest.raises(SystemExit):
        process(shop, amazon)
    shop.runtime.redis.delete(f"amazon-bridge:outbox-lock:{shop.store_id}")  # the dead run's lease ran out
    intent = actions(shop, "cancel")[0]
    assert intent.state == ActionState.QUEUED.value and intent.feed_document_id and not intent.feed_id

    result = settle(shop)

    assert len(feeds(shop)) == 1
    assert actions(shop, "cancel")[0].state == ActionState.ACCEPTED.value
    assert actions(shop, "cancel")[0].feed_id == feeds(shop)[0]["feedId"]
    assert result is not None


def test_a_run_killed_before_the_feed_was_created_sends_it_once_afterwards(shop):
    imported(shop, v2026_order("111-0000070-0000006"))
    request_cancel(shop, "111-0000070-0000006")
    amazon = amazon_client(shop)

    def die(*args, **kwargs):
        raise SystemExit("killed while uploading")

    amazon.upload_feed_document = die
    with pytest.raises(SystemExit):
        process(shop, amazon)
    shop.runtime.redis.delete(f"amazon-bridge:outbox-lock:{shop.store_id}")
    assert feeds(shop) == []

    settle(shop)

    assert len(feeds(shop)) == 1
    assert actions(shop, "cancel")[0].state == ActionState.ACCEPTED.value


# -------------------------------------------------------------------------------------------- shipments


def test_a_commerce_shipment_with_ups_tracking_ships_the_amazon_order(shop):
    record = imported(shop, v2026_order("111-0000071-0000001"))
    magento_post(shop, f"order/{record.magento_entity_id}/ship",
                 {"tracks": [{"carrier_code": "ups", "title": "United Parcel Service", "track_number": "1Z999"}]})

    polled = poll(shop)
    settle(shop)

    assert polled.queued == 1
    amazon_order = shop.amazon.get_order("111-0000071-0000001")
    assert amazon_order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    package = amazon_order["packages"][0]
    assert (package["carrier"], package["trackingNumber"]) == ("UPS", "1Z999")
    assert actions(shop, "shipment")[0].state == ActionState.ACCEPTED.value
    assert poll(shop).queued == 0  # read again through the overlap: nothing is queued twice


def test_a_partial_shipment_then_the_rest_gives_amazon_exactly_the_shipped_quantities(shop):
    order = v2026_order("111-0000071-0000002", items=[line("SKU-1", "Thing", "3", "10.00"),
                                                      line("SKU-2", "Other thing", "2", "5.00")])
    record = imported(shop, order)
    ids = magento_items(shop, record)
    first, second = (i["orderItemId"] for i in order["orderItems"])
    magento_post(shop, f"order/{record.magento_entity_id}/ship", {
        "items": [{"order_item_id": ids[first], "qty": 1}],
        "tracks": [{"carrier_code": "custom", "title": "Speedy Couriers", "track_number": "SC-1"}]})
    poll(shop)
    settle(shop)
    assert shop.amazon.get_order(order["orderId"])["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"

    magento_post(shop, f"order/{record.magento_entity_id}/ship",
                 {"tracks": [{"carrier_code": "fedex", "title": "Federal Express", "track_number": "FX-2"}]})
    poll(shop)
    settle(shop)

    amazon_order = shop.amazon.get_order(order["orderId"])
    assert amazon_order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    shipped = {}
    for package in amazon_order["packages"]:
        for item in package["packageItems"]:
            shipped[item["orderItemId"]] = shipped.get(item["orderItemId"], 0) + item["quantity"]
    assert shipped == {first: 3, second: 2}
    assert [p["carrier"] for p in amazon_order["packages"]] == ["Speedy Couriers", "FedEx"]


def test_a_shipment_without_tracking_is_held_and_sent_once_a_tracking_number_is_added(shop):
    record = imported(shop, v2026_order("111-0000071-0000003"))
    shipment_id = magento_post(shop, f"order/{record.magento_entity_id}/ship", {})

    assert poll(shop).held == 1
    settle(shop)
    assert shop.amazon.get_order("111-0000071-0000003")["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert "no tracking number" in shop.record("111-0000071-0000003").events[-1].message

    magento_post(shop, "shipment/track", {"entity": {"parent_id": shipment_id, "order_id": record.magento_entity_id,
                                                     "carrier_code": "usps", "title": "USPS",
                                                     "track_number": "9400"}})
    assert poll(shop).queued == 1
    settle(shop)
    package = shop.amazon.get_order("111-0000071-0000003")["packages"][0]
    assert (package["carrier"], package["trackingNumber"]) == ("USPS", "9400")


def test_send_without_tracking_uses_the_shipment_number(shop):
    shop.set_settings(no_tracking_policy="send")
    record = imported(shop, v2026_order("111-0000071-0000004"))
    magento_post(shop, f"order/{record.magento_entity_id}/ship", {})

    poll(shop)
    settle(shop)

    package = shop.amazon.get_order("111-0000071-0000004")["packages"][0]
    assert package["carrier"] == "Other" and package["trackingNumber"]


# ------------------------------------------------------------------------------------------ credit memos


def test_a_credit_memo_on_a_shipped_order_sends_the_refunded_amounts(shop):
    order = v2026_order("111-0000072-0000001", items=[line("SKU-1", "Thing", "2", "10.00", tax="1.60",
                                                           shipping="4.00")])
    record = imported(shop, order)
    magento_post(shop, f"order/{record.magento_entity_id}/ship",
                 {"tracks": [{"carrier_code": "ups", "title": "UPS", "track_number": "1Z1"}]})
    poll(shop)
    settle(shop)
    shop.amazon.advance_clock(180)
    shop.sync()  # the bridge learns that the order is Shipped
    ids = magento_items(shop, record)
    magento_post(shop, f"order/{record.magento_entity_id}/refund", {
        "items": [{"order_item_id": ids[order["orderItems"][0]["orderItemId"]], "qty": 1}],
        "arguments": {"shipping_amount": 0}})

    poll(shop)
    settle(shop)

    adjustments = shop.amazon.adjustments()
    assert len(adjustments) == 1
    components = {c["type"]: Decimal(c["amount"]) for c in adjustments[0]["components"]}
    assert components == {"Principal": Decimal("10.00"), "Tax": Decimal("0.80")}
    assert adjustments[0]["adjustmentReason"] == "CustomerReturn"
    assert actions(shop, "refund")[0].state == ActionState.ACCEPTED.value


def test_a_credit_memo_on_an_unshipped_order_cancels_it_on_amazon(shop):
    record = imported(shop, v2026_order("111-0000072-0000002"))
    magento_post(shop, f"order/{record.magento_entity_id}/refund", {})

    poll(shop)
    settle(shop)

    assert shop.amazon.get_order("111-0000072-0000002")["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    assert shop.amazon.adjustments() == []
    assert actions(shop, "cancel")[0].reason == "GeneralAdjustment"


def test_a_commerce_cancel_cancels_the_amazon_order_with_the_stores_reason(shop):
    shop.set_settings(create_invoice=False, commerce_cancel_reason="NoInventory")
    record = imported(shop, v2026_order("111-0000073-0000001"))
    response = shop.magento.session().post(
        f"{shop.magento.url}/rest/V1/orders/{record.magento_entity_id}/cancel", timeout=30)
    assert response.json() is True

    poll(shop)
    settle(shop)

    amazon_order = shop.amazon.get_order("111-0000073-0000001")
    assert amazon_order["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    reasons = {i["cancellation"]["cancellationExecution"]["cancelReason"] for i in amazon_order["orderItems"]}
    assert reasons == {"NoInventory"}
    assert actions(shop, "cancel")[0].requested_by == "commerce"


def test_documents_of_orders_the_bridge_did_not_create_are_ignored(shop):
    imported(shop, v2026_order("111-0000073-0000002"))
    other = shop.magento_orders()[0]["entity_id"]
    with shop.runtime.db.session() as session:  # the bridge forgets its link: the order is not ours
        session.scalar(select(AmazonOrderRecord)).magento_entity_id = None
    magento_post(shop, f"order/{other}/ship", {"tracks": [{"carrier_code": "ups", "title": "UPS",
                                                           "track_number": "1Z"}]})

    assert poll(shop).queued == 0
    assert actions(shop) == []


def test_an_order_failing_the_same_way_keeps_one_history_row_with_a_count(shop):
    from bridge.storage.orders import add_event

    imported(shop, v2026_order("111-0000074-0000001"))
    with shop.runtime.db.session() as session:
        record = session.scalar(select(AmazonOrderRecord))
        before = len(record.events)
        for _ in range(11):
            add_event(record, "error", "Magento answered 503.")
        add_event(record, "retry", "Retried by alice.")
        add_event(record, "error", "Magento answered 503.")
    events = shop.record("111-0000074-0000001").events[before:]
    assert [(e.kind, e.count) for e in events] == [("error", 11), ("retry", 1), ("error", 1)]
    assert events[0].last_at >= events[0].at


def test_a_credit_memo_for_part_of_an_unshipped_order_cancels_nothing_and_says_why(shop):
    order = v2026_order("111-0000072-0000003", items=[line("SKU-1", "Thing", "2", "10.00")])
    record = imported(shop, order)
    ids = magento_items(shop, record)
    magento_post(shop, f"order/{record.magento_entity_id}/refund", {
        "items": [{"order_item_id": ids[order["orderItems"][0]["orderItemId"]], "qty": 1}],
        "arguments": {"shipping_amount": 0}})

    assert poll(shop).queued == 0

    assert shop.amazon.get_order("111-0000072-0000003")["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert actions(shop) == []
    assert "Amazon cancels whole orders only" in shop.record("111-0000072-0000003").events[-1].message


def test_shipments_and_cancels_on_sqlite_and_postgresql(database_url, redis_url, magento_twin, amazon_twin,
                                                        monkeypatch):
    from tests.harness import make_bridge

    b = make_bridge(database_url=database_url, redis_url=redis_url, magento=magento_twin, amazon=amazon_twin,
                    monkeypatch=monkeypatch)
    try:
        b.add_products([("SKU-1", "Thing", "10.00")])
        shipped = imported(b, v2026_order("111-0000076-0000001"))
        imported(b, v2026_order("111-0000076-0000002"))
        magento_post(b, f"order/{shipped.magento_entity_id}/ship",
                     {"tracks": [{"carrier_code": "dhl", "title": "DHL", "track_number": "JD01"}]})
        request_cancel(b, "111-0000076-0000002", "CustomerExchange")

        poll(b)
        settle(b)

        assert b.amazon.get_order("111-0000076-0000001")["packages"][0]["carrier"] == "DHL"
        assert b.amazon.get_order("111-0000076-0000002")["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
        assert {a.kind: a.state for a in actions(b)} == {"shipment": "accepted", "cancel": "accepted"}
    finally:
        b.runtime.close()


def test_a_refund_never_asks_amazon_for_more_than_it_charged(shop):
    order = v2026_order("111-0000072-0000004", status="SHIPPED",
                        items=[line("SKU-1", "Thing", "2", "10.00", tax="1.60")])
    record = imported(shop, order)
    item_id = order["orderItems"][0]["orderItemId"]
    with shop.runtime.db.session() as session:  # refunded on Amazon before: 15.00 of the 20.00 principal
        session.add(OutboundAction(order_id=record.id, kind="refund", dedupe_key="earlier", requested_by="alice",
                                   state="accepted", payload={"items": [{"order_item_id": item_id,
                                                                         "components": {"Principal": "15.00"}}]}))
    ids = magento_items(shop, record)
    magento_post(shop, f"order/{record.magento_entity_id}/refund", {
        "items": [{"order_item_id": ids[item_id], "qty": 1}], "arguments": {"shipping_amount": 0}})

    poll(shop)

    refund = [a for a in actions(shop, "refund") if a.dedupe_key != "earlier"][0]
    assert refund.payload["items"][0]["components"] == {"Principal": "5.00", "Tax": "0.80"}


def test_amazon_down_retries_with_one_history_row_then_gives_up(shop):
    from bridge.outbox import MAX_ATTEMPTS

    imported(shop, v2026_order("111-0000070-0000007"))
    request_cancel(shop, "111-0000070-0000007")
    shop.amazon.set_faults(rate_503=1.0)
    try:
        for _ in range(MAX_ATTEMPTS):
            process(shop)
            with shop.runtime.db.session() as session:  # the back-off has passed
                session.scalars(select(OutboundAction)).one().next_attempt_at = None
    finally:
        shop.amazon.set_faults(rate_503=0.0)

    action = actions(shop, "cancel")[0]
    assert action.state == ActionState.GIVING_UP.value and "not sent after 8 attempts" in action.result
    retries = [e for e in shop.record("111-0000070-0000007").events if e.kind == "cancel_retry"]
    # one row per distinct answer (503, then 429 once the bucket is spent), counted, not one row per attempt
    assert sum(e.count for e in retries) == MAX_ATTEMPTS - 1
    assert len(retries) == len({e.message for e in retries}) < MAX_ATTEMPTS - 1
    assert feeds(shop) == []


def test_a_hostile_processing_report_is_refused_and_the_cancel_stays_submitted_until_a_good_one(shop, caplog):
    from tests.test_processing_reports import BILLION_LAUGHS

    imported(shop, v2026_order("111-0000090-0000001"))
    request_cancel(shop, "111-0000090-0000001", "NoInventory")
    process(shop)
    shop.amazon.advance_clock(200)  # Amazon has processed the feed
    with shop.runtime.db.session() as session:  # and the report is due for a look now
        for action in session.scalars(select(OutboundAction)):
            action.next_attempt_at = None
    hostile = amazon_client(shop)
    hostile.get_feed_document = lambda _document_id: BILLION_LAUGHS  # what a tampered report would be

    result = process(shop, hostile)

    assert result.pending == 1 and result.accepted == 0  # no exception: the job ends normally
    action = actions(shop, "cancel")[0]
    assert action.state == ActionState.SUBMITTED.value and action.feed_id  # nothing settled, nothing lost
    assert "processing report refused: it declares a DTD" in caplog.text
    assert any("could not be read" in e.message and "stays submitted" in e.message
               for e in shop.record("111-0000090-0000001").events)
    settle(shop)  # the real report, read later, settles it
    assert actions(shop, "cancel")[0].state == ActionState.ACCEPTED.value
