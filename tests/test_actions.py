"""A merchant's cancel reaches Amazon through the order acknowledgement feed, once, with Amazon's answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bridge.actions import send_actions
from bridge.storage.models import ActionState, AmazonOrderRecord, OutboundAction, Store
from sandbox.amazon.testing import start_amazon_twin
from tests.harness import make_bridge, v2026_order


@pytest.fixture
def fast_amazon():
    """Feeds are processed in (scaled) seconds instead of minutes."""
    twin = start_amazon_twin(rate_scale=1000.0)
    yield twin
    twin.stop()


@pytest.fixture
def bridge(sqlite_url, redis_url, magento_twin, fast_amazon, monkeypatch):
    b = make_bridge(database_url=sqlite_url, redis_url=redis_url, magento=magento_twin, amazon=fast_amazon,
                    monkeypatch=monkeypatch)
    b.add_products([("SKU-1", "Thing", "10.00")])
    yield b
    b.runtime.close()


def request_cancel(bridge, amazon_order_id: str, reason: str = "NoInventory") -> int:
    """What the admin's Cancel Order page records."""
    with bridge.runtime.db.session() as session:
        record = session.scalar(select(AmazonOrderRecord).where(AmazonOrderRecord.amazon_order_id == amazon_order_id))
        action = OutboundAction(order_id=record.id, kind="cancel", dedupe_key="cancel", reason=reason,
                                requested_by="alice")
        session.add(action)
        session.flush()
        return action.id


def action(bridge, action_id: int) -> OutboundAction:
    with bridge.runtime.db.session() as session:
        return session.get(OutboundAction, action_id)


def amazon_client(bridge):
    with bridge.runtime.db.session() as session:
        return bridge.runtime.amazon_client(session.get(Store, bridge.store_id))


def send(bridge):
    return send_actions(bridge.runtime.db.sessionmaker, bridge.store_id, amazon_client(bridge), poll_seconds=5,
                        timeout=600)


def test_a_cancel_of_an_unshipped_order_is_applied_by_amazon_and_comes_back_in_the_next_sync(bridge):
    bridge.seed_amazon([v2026_order("111-0000030-0000001")])
    bridge.sync()
    action_id = request_cancel(bridge, "111-0000030-0000001", "BuyerCanceled")

    result = send(bridge)

    assert (result.submitted, result.done, result.failed) == (1, 1, 0)
    done = action(bridge, action_id)
    assert done.state == ActionState.DONE.value
    assert done.feed_id
    assert bridge.amazon.get_order("111-0000030-0000001")["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    bridge.amazon.advance_clock(180)
    bridge.sync()
    record = bridge.record("111-0000030-0000001")
    assert record.status == "Canceled"
    kinds = [e.kind for e in record.events]
    assert kinds.index("cancel_sent") < kinds.index("cancel_done") < kinds.index("status_changed")
    assert kinds[-1] == "commerce_refunded"  # and the invoiced Commerce order follows Amazon (bridge.lifecycle)


def test_amazon_refusing_a_cancel_is_recorded_with_its_reason(bridge):
    bridge.seed_amazon([v2026_order("111-0000031-0000001", status="SHIPPED")])
    bridge.sync()
    action_id = request_cancel(bridge, "111-0000031-0000001")

    result = send(bridge)

    assert (result.done, result.failed) == (0, 1)
    failed = action(bridge, action_id)
    assert failed.state == ActionState.FAILED.value
    assert failed.result.startswith("Amazon refused the cancellation")


def test_a_request_that_cannot_be_sent_fails_clearly_without_blocking_the_others(bridge):
    bridge.seed_amazon([v2026_order("111-0000032-0000001"), v2026_order("111-0000032-0000002")])
    bridge.sync()
    bad = request_cancel(bridge, "111-0000032-0000001", reason="BecauseISaidSo")
    good = request_cancel(bridge, "111-0000032-0000002")

    result = send(bridge)

    assert action(bridge, bad).state == ActionState.FAILED.value
    assert "unknown cancel reason" in action(bridge, bad).result
    assert action(bridge, good).state == ActionState.DONE.value
    assert result.submitted == 1


def test_sending_again_never_submits_a_cancel_twice(bridge):
    bridge.seed_amazon([v2026_order("111-0000033-0000001")])
    bridge.sync()
    request_cancel(bridge, "111-0000033-0000001")
    amazon = amazon_client(bridge)
    # The worker died after submitting: the action is `sent`, its feed not yet read.
    first = send_actions(bridge.runtime.db.sessionmaker, bridge.store_id, amazon, wait=False)
    assert (first.submitted, first.pending) == (1, 1)

    second = send(bridge)  # the next run only settles the feed it already sent

    assert (second.submitted, second.done) == (0, 1)
    feeds = bridge.amazon._http.get(f"{bridge.amazon.url}/_sandbox/feeds", timeout=10).json()
    assert len(feeds.get("feeds", feeds)) == 1
