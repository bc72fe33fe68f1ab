"""End to end with both twins: an order imported by the real pipeline, its Commerce comment's links into the
admin, and Amazon's hostile values (buyer name, item title) escaped on our pages and in Magento's comment."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import requests
from markupsafe import escape

from admin_ui import create_app
from admin_ui.users import create_user
from tests.admin_support import AdminClient

EVIL_NAME = '<script>alert("buyer")</script><b>Bold</b> O\'Hara & Co'
EVIL_TITLE = '<img src=x onerror=alert(1)><a href="javascript:alert(2)">Diver</a> "Deluxe"'
PASSWORD = "linked test password"


@pytest.fixture
def live(sqlite_url, redis_url, magento_twin, amazon_twin, monkeypatch):
    """The pipeline and the admin on one runtime; Commerce comments link to http://admin.test."""
    from tests.harness import make_bridge

    bridge = make_bridge(
        database_url=sqlite_url, redis_url=redis_url, magento=magento_twin, amazon=amazon_twin, monkeypatch=monkeypatch
    )
    settings = bridge.runtime.settings
    bridge.runtime.settings = replace(
        settings, magento=replace(settings.magento, admin_url=f"{magento_twin.url}/admin")
    )
    app = create_app(bridge.runtime.settings, runtime=bridge.runtime, test_config={"TESTING": True})
    with bridge.runtime.db.session() as session:
        create_user(session, "merchant", "operator", PASSWORD)
    bridge.app = app
    yield bridge
    from admin_ui.extensions import db

    with app.app_context():
        db.engine.dispose()


def test_imported_order_with_hostile_values_is_escaped_here_and_in_magento(live):
    from tests.harness import line, v2026_order

    live.add_products([("DIVER-1", "Diver ornament", "12.00")])
    live.seed_amazon(
        [
            v2026_order(
                "114-6666666-6666666",
                buyer_name=EVIL_NAME,
                items=[line("DIVER-1", EVIL_TITLE, "1", "12.00", tax="0.99")],
            )
        ]
    )
    live.sync()
    record = live.record("114-6666666-6666666")
    assert record.import_state == "imported", record.last_error
    assert record.buyer_name == EVIL_NAME

    # Magento's order view: the comment's links are links, Amazon's text is text.
    view = requests.get(
        f"{live.magento.url}/admin/sales/order/view/order_id/{record.magento_entity_id}", timeout=30
    ).text
    links = dict((text, href) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', view))
    assert links["View or Cancel Amazon Order"] == "http://admin.test/orders/114-6666666-6666666"
    assert links["View all Amazon Orders"] == "http://admin.test/orders"
    for raw in ("<script>alert", "<img src=x", 'href="javascript:'):
        assert raw not in view

    # Our pages: signed in through the link's path, every value escaped.
    client = AdminClient(live.app.test_client())
    first = client.get("/orders/114-6666666-6666666")
    assert first.status_code == 302
    response = client.login("merchant", PASSWORD, next_url="/orders/114-6666666-6666666")
    assert response.location == "/orders/114-6666666-6666666"
    pages = {
        url: client.get(url).get_data(as_text=True)
        for url in ("/", "/orders", "/orders/114-6666666-6666666", "/orders/114-6666666-6666666/cancel")
    }
    for url, page in pages.items():
        for raw in ("<script>alert", "<img src=x", 'href="javascript:', "<b>Bold"):
            assert raw not in page, (url, raw)
        if not url.endswith("/cancel"):
            assert str(escape(EVIL_NAME)) in page, url  # shown, as text
    detail = pages["/orders/114-6666666-6666666"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail
    assert f'/admin/sales/order/view/order_id/{record.magento_entity_id}"' in detail
    assert record.magento_increment_id in detail


def test_cancel_request_for_an_imported_order_goes_to_amazon_twin(live):
    from tests.harness import v2026_order

    live.add_products([("SKU-1", "Thing", "10.00")])
    live.seed_amazon([v2026_order("114-0000001-0000001"), v2026_order("114-0000002-0000002")])
    live.sync()
    live.amazon.set_status("114-0000002-0000002", "SHIPPED")  # shipped since our last sync
    client = AdminClient(live.app.test_client())
    client.login("merchant", PASSWORD)
    assert client.post("/orders/114-0000001-0000001/cancel", {"reason": "NoInventory"}).status_code == 302
    refused = client.post("/orders/114-0000002-0000002/cancel", {"reason": "NoInventory"})
    assert refused.status_code == 409
    assert live.record("114-0000002-0000002").status == "Shipped"
    page = client.get("/orders/114-0000001-0000001").get_data(as_text=True)
    assert "Queued, not sent to Amazon yet" in page
