"""No buyer's name, e-mail or address in the admin's logs at INFO: neither from our own code nor from the
werkzeug access log, whose request lines would carry All Orders' `buyer=` filter."""

from __future__ import annotations

import logging

import pytest
import requests
from redis import Redis

from admin_ui.logs import redact_line, redact_query
from tests.admin.conftest import twin_settings
from tests.admin_support import AdminHarness, sample_snapshot

ORDER = "111-5555555-6666666"
BUYER = "Zelda Quartermaine"


@pytest.fixture
def h(sqlite_url, private_redis, admin_magento):
    Redis.from_url(private_redis.url).flushdb()
    settings = twin_settings(sqlite_url, private_redis.url, admin_magento)
    harness = AdminHarness(sqlite_url, private_redis.url, settings=settings)
    store = harness.add_store()
    snapshot = sample_snapshot(ORDER, BUYER)
    snapshot["buyer"]["buyerEmail"] = "zelda@example.org"
    harness.add_order(store.id, ORDER, buyer_name=BUYER, snapshot=snapshot, import_state="error", last_error="x")
    yield harness
    harness.close()


PII = (BUYER, "Zelda", "Quartermaine", "zelda@example.org", "2201 Westlake", "Tacoma", "98402")


def test_redact_query_keeps_keys_and_harmless_values():
    assert redact_query("store=us&buyer=Zelda+Q&from=2026-01-02&status=Shipped&page=2") == (
        "store=us&buyer=***&from=2026-01-02&status=Shipped&page=2"
    )
    assert redact_query("next=%2Forders%3Fbuyer%3DZelda&buyer=") == "next=***&buyer="
    line = '"GET /orders?buyer=Zelda%20Q&store=us HTTP/1.1" 200 -'
    assert redact_line(line) == '"GET /orders?buyer=***&store=us HTTP/1.1" 200 -'
    assert redact_line('"GET /orders/111-1 HTTP/1.1" 200 -') == '"GET /orders/111-1 HTTP/1.1" 200 -'


def test_the_access_log_of_a_real_server_has_no_buyer_names(h, caplog):
    from sandbox.server import ServerThread

    caplog.set_level(logging.INFO)
    with ServerThread(h.app) as server:
        for path in (f"/orders?buyer={BUYER.replace(' ', '+')}&store=us", f"/login?next=/orders%3Fbuyer%3D{BUYER}"):
            requests.get(server.url + path, timeout=10, allow_redirects=False)
    access = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("GET /orders?buyer=***&store=us" in line for line in access), access
    assert any("GET /login?next=***" in line for line in access), access
    assert not [line for line in access if any(p in line for p in PII)]


def test_using_the_admin_logs_no_buyer_data(h, caplog):
    caplog.set_level(logging.DEBUG)
    client = h.client("operator")
    for url in ("/", "/orders", f"/orders?buyer={BUYER}", f"/orders/{ORDER}", f"/orders/{ORDER}/cancel"):
        assert client.get(url, follow_redirects=True).status_code == 200, url
    form = {
        "name": BUYER,
        "line1": "2201 Westlake Ave",
        "city": "Tacoma",
        "region": "WA",
        "postal_code": "98402",
        "country_code": "US",
        "phone": "",
        "store": "us",
        "then": "retry",
    }
    assert client.post(f"/orders/{ORDER}/address", form).status_code == 302
    assert client.post(f"/orders/{ORDER}/address/reset", {"store": "us"}).status_code == 302
    ours = [r for r in caplog.records if r.name.startswith("admin_ui")]
    assert any("corrected" in r.getMessage() for r in ours)  # the log says what happened...
    leaked = [r.getMessage() for r in caplog.records if any(p in r.getMessage() for p in PII)]
    assert leaked == []  # ...without whose address it was
