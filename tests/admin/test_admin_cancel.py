"""Amazon Order Cancellation: only Unshipped orders, checked again with Amazon, recorded and queued (not done)."""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from bridge.amazon.errors import AmazonServerError
from bridge.domain import CANCEL_REASONS, AmazonStatus
from bridge.storage.models import OutboundAction
from tests.admin_support import AdminHarness, make_settings

ORDER = "111-2222222-3333333"


class FakeAmazon:
    """Stands in for `AmazonClient` where a test needs Amazon to say something the twin can't (an outage)."""

    def __init__(self, status: AmazonStatus | None = AmazonStatus.UNSHIPPED, error: Exception | None = None):
        self.status = status
        self.error = error
        self.calls: list[str] = []

    def get_order(self, order_id: str):
        self.calls.append(order_id)
        if self.error is not None:
            raise self.error
        return SimpleNamespace(amazon_order_id=order_id, status=self.status)


@pytest.fixture
def h(sqlite_url, redis_url):
    harness = AdminHarness(sqlite_url, redis_url)
    store = harness.add_store()
    harness.store_id = store.id
    harness.add_order(store.id, ORDER, status="Unshipped")
    harness.amazon = FakeAmazon()
    harness.runtime.amazon_clients["us"] = harness.amazon
    yield harness
    harness.close()


def actions(h) -> list[OutboundAction]:
    with h.runtime.db.session() as session:
        return list(session.scalars(select(OutboundAction)))


def test_cancel_page_has_asc_fields_reasons_and_note(h):
    html = h.client("operator").get(f"/orders/{ORDER}/cancel").get_data(as_text=True)
    assert "Amazon Order Cancellation" in html
    assert re.search(r'<label class="label" for="amazon_order_number">Amazon Order Number</label>', html)
    assert f'value="{ORDER}" readonly' in html
    assert "Reason For Cancellation" in html
    assert "The selected reason will be sent to Amazon and the buyer." in html
    assert ">Back</a>" in html and ">Cancel order</button>" in html
    values = re.findall(r'<option value="([A-Za-z]+)">', html)
    assert values == [value for value, _ in CANCEL_REASONS]
    assert values[0] == "NoInventory" and values[-1] == "MerchandiseNotReceived"
    for value, label in CANCEL_REASONS:
        assert f'<option value="{value}">{label}</option>' in html


def test_cancel_unshipped_order_is_recorded_and_queued_not_done(h):
    client = h.client("operator", username="opal")
    response = client.post(f"/orders/{ORDER}/cancel", {"reason": "BuyerCanceled", "store": "us"})
    assert response.status_code == 302
    assert response.location.startswith(f"/orders/{ORDER}")
    assert h.amazon.calls == [ORDER]  # checked again with Amazon
    [action] = actions(h)
    assert (action.kind, action.dedupe_key, action.reason, action.requested_by, action.state) == (
        "cancel",
        "cancel",
        "BuyerCanceled",
        "opal",
        "queued",
    )
    assert action.payload["order_item_ids"] == ["00000000000001"]
    record = h.record(ORDER)
    assert record.status == "Unshipped"  # not cancelled until Amazon says so
    event = [e for e in record.events if e.kind == "cancel_requested"]
    assert event and event[0].actor == "opal" and "Buyer Canceled" in event[0].message
    assert Queue("actions", connection=h.runtime.redis).job_ids == [f"outbox-store-{h.store_id}"]
    page = client.get(response.location).get_data(as_text=True)
    assert "Queued, not sent to Amazon yet" in page
    assert "Cancel Order</a>" not in page  # no second cancel button
    assert "BuyerCanceled" in page and "opal" in page


def test_second_cancel_is_not_recorded_twice(h):
    client = h.client("operator")
    client.post(f"/orders/{ORDER}/cancel", {"reason": "NoInventory"})
    response = client.post(f"/orders/{ORDER}/cancel", {"reason": "CustomerExchange"}, follow_redirects=True)
    assert "A cancel request for this order exists already" in response.get_data(as_text=True)
    assert [a.reason for a in actions(h)] == ["NoInventory"]


@pytest.mark.parametrize("status", ["Shipped", "PartiallyShipped", "Pending", "Canceled"])
def test_cancel_refused_unless_unshipped_in_our_copy(h, status):
    h.add_order(h.store_id, "111-0000000-0000000", status=status)
    client = h.client("operator")
    page = client.get("/orders/111-0000000-0000000/cancel").get_data(as_text=True)
    assert "Only Unshipped orders can be cancelled here" in page
    response = client.post("/orders/111-0000000-0000000/cancel", {"reason": "NoInventory"})
    assert response.status_code == 409
    assert f"Not cancelled: the order is {status}" in response.get_data(as_text=True)
    assert actions(h) == []
    assert h.amazon.calls == []


def test_cancel_refused_when_amazon_says_shipped_now(h):
    h.amazon.status = AmazonStatus.SHIPPED
    client = h.client("operator", username="opal")
    response = client.post(f"/orders/{ORDER}/cancel", {"reason": "NoInventory"})
    assert response.status_code == 409
    assert "Amazon reports the order as Shipped now" in response.get_data(as_text=True)
    assert actions(h) == []
    record = h.record(ORDER)
    assert record.status == "Shipped"  # our copy follows Amazon
    assert any(e.kind == "status_changed" and "Shipped" in e.message for e in record.events)
    assert Queue("actions", connection=h.runtime.redis).job_ids == []


def test_cancel_refused_when_amazon_cannot_be_asked(h):
    h.amazon.error = AmazonServerError("503 from Amazon")
    response = h.client("operator").post(f"/orders/{ORDER}/cancel", {"reason": "NoInventory"})
    assert response.status_code == 409
    assert "could not check the order&#39;s status with Amazon" in response.get_data(as_text=True)
    assert actions(h) == []


@pytest.mark.parametrize("reason", ["", "Whatever", "<script>"])
def test_cancel_needs_one_of_the_ten_reasons(h, reason):
    response = h.client("operator").post(f"/orders/{ORDER}/cancel", {"reason": reason})
    assert response.status_code == 400
    assert actions(h) == []
    assert h.amazon.calls == []


def test_viewer_cannot_cancel(h):
    client = h.client("viewer")
    assert client.get(f"/orders/{ORDER}/cancel").status_code == 403
    assert client.post(f"/orders/{ORDER}/cancel", {"reason": "NoInventory"}).status_code == 403
    assert actions(h) == []


def test_cancel_still_recorded_when_the_queue_is_down(h):
    h.runtime.__dict__["redis"] = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    response = h.client("operator").post(f"/orders/{ORDER}/cancel", {"reason": "NoInventory"}, follow_redirects=True)
    assert "will be sent to Amazon with the next sync" in response.get_data(as_text=True)
    assert [a.state for a in actions(h)] == ["queued"]


# -- against the Amazon twin ----------------------------------------------------------------------------------


def test_cancel_checks_the_status_with_the_amazon_twin(sqlite_url, redis_url, amazon_twin, monkeypatch):
    """The status check goes to Amazon (here the twin) through the bridge's real SP-API client."""
    from tests.harness import v2026_order

    base = make_settings(sqlite_url, redis_url)
    settings = replace(
        base,
        amazon=replace(
            base.amazon,
            endpoint=amazon_twin.url,
            oauth_endpoint=amazon_twin.lwa_url,
            client_id=amazon_twin.config.client_id,
            client_secret=amazon_twin.config.client_secret,
        ),
    )
    monkeypatch.setenv("AMAZON_REFRESH_TOKEN_TWIN", amazon_twin.refresh_token)
    harness = AdminHarness(sqlite_url, redis_url, settings=settings)
    try:
        store = harness.add_store(
            "us", "US store", seller_id=amazon_twin.seller_id, refresh_token_env="AMAZON_REFRESH_TOKEN_TWIN"
        )
        for order_id in ("113-0000001-0000001", "113-0000002-0000002"):
            amazon_twin.seed_orders([v2026_order(order_id, status="UNSHIPPED")])
            harness.add_order(store.id, order_id, status="Unshipped")
        amazon_twin.set_status("113-0000002-0000002", "SHIPPED")
        client = harness.client("operator")

        ok = client.post("/orders/113-0000001-0000001/cancel", {"reason": "NoInventory"})
        assert ok.status_code == 302
        refused = client.post("/orders/113-0000002-0000002/cancel", {"reason": "NoInventory"})
        assert refused.status_code == 409
        assert "Amazon reports the order as Shipped now" in refused.get_data(as_text=True)

        with harness.runtime.db.session() as session:
            recorded = [(a.order.amazon_order_id, a.state) for a in session.scalars(select(OutboundAction))]
        assert recorded == [("113-0000001-0000001", "queued")]
        assert harness.record("113-0000002-0000002").status == "Shipped"
    finally:
        harness.close()


def test_a_shipped_orders_cancel_page_says_why_and_links_to_seller_central_instead_of_a_form(h):
    h.add_order(h.store_id, "111-0000000-0000009", status="Shipped")
    page = h.client("operator").get("/orders/111-0000000-0000009/cancel").get_data(as_text=True)
    assert "a shipped order can no longer be canceled" in page
    assert "/orders-v3/order/111-0000000-0000009" in page  # Seller Central
    assert 'name="reason"' not in page and "Reason For Cancellation" not in page


def test_amazons_answer_to_a_cancel_and_repeated_errors_show_on_the_order_page(h):
    from bridge.storage.orders import add_event

    client = h.client("operator")
    client.post(f"/orders/{ORDER}/cancel", {"reason": "NoInventory"})
    with h.runtime.db.session() as session:
        action = session.scalars(select(OutboundAction)).one()
        action.state = "rejected"
        action.result = ("Cancellation rejected by Amazon (feed 7): Order 111-2222222-3333333 cannot be cancelled "
                         "because its status is SHIPPED.")
        for _ in range(11):
            add_event(action.order, "error", "Magento did not answer.")
    page = client.get(f"/orders/{ORDER}").get_data(as_text=True)
    assert "Rejected by Amazon" in page and "because its status is SHIPPED" in page
    assert page.count("Magento did not answer.") == 1
    assert "(×11, last at" in page
    again = client.get(f"/orders/{ORDER}/cancel", follow_redirects=True).get_data(as_text=True)
    assert "exists already (rejected" in again and "because its status is SHIPPED" in again
