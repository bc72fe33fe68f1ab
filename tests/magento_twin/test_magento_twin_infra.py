"""Twin machinery: seeded faults, reset, stats, concurrency, SQLite persistence, the admin order view, CLI."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from click.testing import CliRunner

from sandbox.magento.config import load_toml
from sandbox.magento.testing import start_magento_twin
from tests.magento_twin.payloads import Api, create, criteria, order


@pytest.fixture
def api(twin):
    twin.reset()
    requests.post(twin.url + "/_sandbox/faults", json={"seed": None, "rate_500": 0, "rate_timeout": 0,
                                                       "rate_drop": 0, "timeout_seconds": 5,
                                                       "rate_save_late": 0}, timeout=10)
    return Api(twin)


def set_faults(twin, **settings):
    resp = requests.post(twin.url + "/_sandbox/faults", json=settings, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


# --- faults ---------------------------------------------------------------------------------------------

def statuses(api, n=30):
    return [api.get("/orders", params=criteria([])).status_code for _ in range(n)]


def test_faults_500_are_reproducible_with_a_seed(twin, api):
    set_faults(twin, seed=42, rate_500=0.4)
    first = statuses(api)
    set_faults(twin, seed=42, rate_500=0.4)
    second = statuses(api)
    assert first == second
    assert set(first) == {200, 500}
    set_faults(twin, seed=7, rate_500=0.4)
    assert statuses(api) != first


def test_fault_500_body_is_magentos_masked_error(twin, api):
    set_faults(twin, seed=1, rate_500=1)
    resp = api.get("/orders", params=criteria([]))
    assert resp.status_code == 500
    assert resp.json()["message"].startswith("Internal Error. Details are available in Magento log file. Report ID:")
    assert "Traceback" not in resp.text


def test_fault_500_happens_before_the_write(twin, api):
    set_faults(twin, seed=1, rate_500=1)
    assert api.put("/orders/create", {"entity": order()}).status_code == 500
    set_faults(twin, rate_500=0)
    assert api.ok(api.get("/orders", params=criteria([])))["total_count"] == 0


def test_dropped_connection_after_committed_write(twin, api):
    set_faults(twin, seed=3, rate_drop=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.put("/orders/create", {"entity": order("100000001")})
    set_faults(twin, rate_drop=0)
    found = api.ok(api.get("/orders", params=criteria([[("increment_id", "100000001", "eq")]])))
    assert found["total_count"] == 1  # saved, though the client never saw the answer


def test_reads_are_never_dropped(twin, api):
    set_faults(twin, seed=3, rate_drop=1)
    assert api.get("/orders", params=criteria([])).status_code == 200


def test_slow_responses_time_out_the_client(twin, api):
    set_faults(twin, seed=5, rate_timeout=1, timeout_seconds=0.6)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.session.get(api.base + "/orders", params=criteria([]), timeout=0.2)
    set_faults(twin, rate_timeout=0)


def test_a_create_saved_late_appears_after_the_client_gave_up(twin, api):
    requests.delete(twin.url + "/_sandbox/stats", timeout=10)
    set_faults(twin, seed=1, rate_save_late=1, save_late_seconds=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.session.put(api.base + "/orders/create", json={"entity": order("100000007")}, timeout=0.3)
    set_faults(twin, rate_save_late=0)
    assert api.ok(api.get("/orders", params=criteria([])))["total_count"] == 0  # still being saved
    resp = api.put("/orders/create", {"entity": order("100000007")})  # the client's second try is saved first
    assert resp.status_code == 200
    deadline = time.monotonic() + 30
    while twin.stats()["routes"].get("(create held: handled)", 0) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    found = api.ok(api.get("/orders", params=criteria([[("increment_id", "100000007", "eq")]])))
    assert found["total_count"] == 1  # the late save hit Magento's unique increment id and was refused


def test_a_duplicate_increment_id_is_refused_as_magento_does(twin, api):
    assert api.put("/orders/create", {"entity": order("100000008")}).status_code == 200
    resp = api.put("/orders/create", {"entity": order("100000008")})
    assert (resp.status_code, resp.json()["message"]) == (400, "Unique constraint violation found")


def test_fault_settings_are_validated(twin):
    assert requests.post(twin.url + "/_sandbox/faults", json={"rate_save_late": 1.5}, timeout=10).status_code == 400
    assert requests.post(twin.url + "/_sandbox/faults", json={"save_late_seconds": -1}, timeout=10).status_code == 400
    assert requests.post(twin.url + "/_sandbox/faults", json={"rate_500": 2}, timeout=10).status_code == 400
    assert requests.post(twin.url + "/_sandbox/faults", json={"rate_oops": 0.1}, timeout=10).status_code == 400
    assert requests.post(twin.url + "/_sandbox/faults", data="x", timeout=10).status_code == 400
    assert requests.get(twin.url + "/_sandbox/faults", timeout=10).json()["rate_500"] == 0


# --- reset, stats ---------------------------------------------------------------------------------------

def test_reset_empties_data_and_restarts_sequences(twin, api):
    create(api, order())
    twin.reset()
    assert api.ok(api.get("/orders", params=criteria([])))["total_count"] == 0
    assert create(api, order())["increment_id"] == "000000001"


def test_stats_count_calls_per_route(twin, api):
    requests.delete(twin.url + "/_sandbox/stats", timeout=10)
    eid = create(api, order())["entity_id"]
    api.get(f"/orders/{eid}")
    api.get(f"/orders/{eid}")
    api.get("/nope")
    stats = requests.get(twin.url + "/_sandbox/stats", timeout=10).json()
    assert stats["routes"]["PUT /V1/orders/create"] == 1
    assert stats["routes"]["GET /V1/orders/:id"] == 2
    assert stats["routes"]["GET (no route)"] == 1
    assert stats["total"] == 4


# --- concurrency ----------------------------------------------------------------------------------------

def test_concurrent_creates_get_distinct_ids(twin, api):
    results: list[dict] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker():
        try:
            local = Api(twin)
            for _ in range(5):
                created = create(local, order())
                with lock:
                    results.append(created)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({r["entity_id"] for r in results}) == 80
    assert len({r["increment_id"] for r in results}) == 80
    assert len({i["item_id"] for r in results for i in r["items"]}) == 80
    assert api.ok(api.get("/orders", params=criteria([])))["total_count"] == 80


def test_concurrent_invoices_on_one_order_invoice_once(twin, api):
    eid = create(api, order(state="new", status="pending"))["entity_id"]
    codes: list[int] = []

    def worker():
        codes.append(Api(twin).post(f"/order/{eid}/invoice", {}).status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] + [400] * 7
    assert api.ok(api.get(f"/orders/{eid}"))["total_invoiced"] == 20


# --- persistence ----------------------------------------------------------------------------------------

def test_sqlite_file_survives_restart(tmp_path):
    path = str(tmp_path / "magento.sqlite3")
    first = start_magento_twin(data_path=path)
    try:
        eid = create(Api(first), order("100000009"))["entity_id"]
    finally:
        first.stop()
    second = start_magento_twin(data_path=path)
    try:
        api = Api(second)
        assert api.ok(api.get(f"/orders/{eid}"))["increment_id"] == "100000009"
        assert create(api, order())["entity_id"] == eid + 1
    finally:
        second.stop()


# --- admin order view -----------------------------------------------------------------------------------

def view(twin, eid):
    resp = requests.get(f"{twin.url}/admin/sales/order/view/order_id/{eid}", timeout=10)
    assert resp.status_code == 200
    return resp.text


def test_order_view_payment_and_shipping_section(twin, api):
    o = order("100000001", payment_method="purchaseorder")
    o["payment"]["po_number"] = "PO-7781"
    o["payment"]["additional_information"] = ["Amazon order 111-2223334-5556667"]
    eid = create(api, o)["entity_id"]
    page = view(twin, eid)
    assert "Payment &amp; Shipping Method" in page
    assert "Purchase Order</div>" in page
    assert "Purchase Order Number:</th><td class=\"purchase-order-number\">PO-7781</td>" in page
    assert "Amazon order 111-2223334-5556667" in page
    assert "Flat Rate - Fixed" in page
    assert "flatrate_flatrate" in page
    assert "Product simple" in page
    assert "Shipping Address" in page and "Street" in page and "City, California, 12345" in page


@pytest.mark.parametrize(("code", "title"), [
    ("checkmo", "Check / Money order"), ("cashondelivery", "Cash On Delivery"),
    ("free", "No Payment Information Required"), ("amazon_marketplace", "amazon_marketplace"),
])
def test_order_view_payment_titles(twin, api, code, title):
    page = view(twin, create(api, order(payment_method=code))["entity_id"])
    assert f'<div class="order-payment-method-name">{title}</div>' in page
    assert "Purchase Order Number" not in page


def test_order_view_comments_escaped_like_magento_admin(twin, api):
    eid = create(api, order())["entity_id"]
    comment = ('Imported from <a href="https://sellercentral.amazon.com/orders-v3/order/111-1" target="_blank" '
               'onclick="steal()">Amazon order 111-1</a> <b>bold</b><br>line <script>alert(1)</script> '
               '<a href="javascript:alert(2)">bad link</a> <img src=x onerror=alert(3)> <i>it</i> <u>u</u> '
               '<strong>s</strong> <em>em</em>')
    api.ok(api.post(f"/orders/{eid}/comments", {"statusHistory": {"comment": comment, "status": "processing"}}))
    page = view(twin, eid)
    assert '<a href="https://sellercentral.amazon.com/orders-v3/order/111-1">Amazon order 111-1</a>' in page
    assert "<b>bold</b><br/>line" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert '<a href="#">bad link</a>' in page
    assert "javascript:" not in page and "onclick" not in page and "onerror=alert(3)>" not in page
    assert "&lt;img src=x onerror=alert(3)&gt;" in page
    assert "<i>it</i> <u>u</u> <strong>s</strong> &lt;em&gt;em&lt;/em&gt;" in page
    assert "Processing" in page


def test_order_view_unknown_order_is_404(twin):
    assert requests.get(f"{twin.url}/admin/sales/order/view/order_id/999", timeout=10).status_code == 404


# --- CLI and config file --------------------------------------------------------------------------------

def test_config_toml(tmp_path):
    path = tmp_path / "twin.toml"
    path.write_text(
        'consumer_key = "ck"\nacl = ["Magento_Sales::create"]\nenable_integration_as_bearer = true\n'
        '[admin_users]\nadmin = "pw"\n[faults]\nseed = 3\nrate_500 = 0.1\n'
        '[[store_views]]\ncode = "default"\nid = 1\nname = "Default Store View"\n'
        '[[store_views]]\ncode = "uk"\nid = 2\nname = "UK"\ncurrency = "GBP"\nwebsite_id = 2\nwebsite_code = "uk"\n'
    )
    kwargs = load_toml(str(path))
    assert kwargs["consumer_key"] == "ck"
    assert kwargs["acl_resources"] == frozenset({"Magento_Sales::create"})
    assert kwargs["admin_users"] == {"admin": "pw"}
    assert kwargs["faults"].rate_500 == 0.1
    assert [v.code for v in kwargs["store_views"]] == ["default", "uk"]
    t = start_magento_twin(**kwargs)
    try:
        assert Api(t, "/rest/uk/V1").get("/orders", params=criteria([])).status_code == 401  # ACL lacks view
    finally:
        t.stop()


def test_cli_help_lists_flags():
    from sandbox.magento.cli import magento

    result = CliRunner().invoke(magento, ["--help"])
    assert result.exit_code == 0
    for flag in ("--host", "--port", "--data", "--config", "--acl", "--enable-integration-as-bearer",
                 "--fault-rate-500", "--fault-rate-drop", "--consumer-key"):
        assert flag in result.output


def test_cli_store_view_spec():
    import click

    from sandbox.magento.cli import parse_store_view

    view = parse_store_view("uk:2:gbp")
    assert (view.code, view.id, view.currency, view.website_code) == ("uk", 2, "GBP", "uk")
    with pytest.raises(click.BadParameter):
        parse_store_view("uk-GBP")


def test_flat_fault_config_and_helpers():
    from sandbox.magento import FaultSettings, MagentoTwinConfig

    cfg = MagentoTwinConfig(rate_500=0.25, seed=9)
    assert cfg.faults == FaultSettings(seed=9, rate_500=0.25)
    assert MagentoTwinConfig(faults=FaultSettings(rate_drop=0.5)).rate_drop == 0.5
    t = start_magento_twin(rate_500=1, seed=2)
    try:
        assert Api(t).get("/orders", params=criteria([])).status_code == 500
        assert t.set_faults(rate_500=0)["rate_500"] == 0
        assert Api(t).get("/orders", params=criteria([])).status_code == 200
        assert t.stats()["faults"] == {"500": 1}
    finally:
        t.stop()


def test_order_view_url_variants(twin, api):
    eid = create(api, order())["entity_id"]
    for suffix in ("", "/", "/key/0123456789abcdef/"):
        resp = requests.get(f"{twin.url}/admin/sales/order/view/order_id/{eid}{suffix}", timeout=10)
        assert resp.status_code == 200, suffix
        assert "Comments History" in resp.text
