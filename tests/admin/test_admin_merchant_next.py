"""What a merchant hit on first use (issue 12) and reaches for next: filters that never fail, one meaning of
"in error", SKU targets checked against Magento's catalog, the address editable only while it matters,
expired forms, Sync now / Retry all, CSV export, ship-by / deliver-by and the outbox on the details page, and
roles scoped per store."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from sqlalchemy import select

from bridge.storage.models import AmazonOrderRecord, OutboundAction, Store, User, UserStore
from tests.admin.conftest import add_products
from tests.admin_support import sample_snapshot

PICKED = ("ADM-MUG-BLUE", "Blue enamel mug")


@pytest.fixture
def h(h):
    h.store_id = h.add_store("us", "US store").id
    add_products(h.magento, PICKED, ("ADM-TOWEL", "Tea towel"))
    return h


def order_numbers(html: str) -> list[str]:
    return re.findall(r'<td class="order-number"><a href="[^"]+">([0-9-]+)</a>', html)


# -- filters ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, message",
    [
        ("to=9999-12-31", None),
        ("from=0001-01-01&to=9999-12-31", None),
        ("ship_by_to=9999-12-31&deliver_by_to=9999-12-31", None),
        ("from=2026-12-01&to=2026-11-01", "Purchase Date: &#39;from&#39; (2026-12-01) is after &#39;to&#39;"),
        ("to=10000-01-01", "Purchase Date to: expected a date as yyyy-mm-dd"),
        ("total_min=1e30", "Total min: 1e30 is out of range"),
        ("total_max=NaN", "Total max: expected a number"),
    ],
)
def test_odd_filter_values_get_a_message_never_a_500(h, query, message):
    h.add_order(h.store_id, "111-0000000-0000001")
    response = h.client("viewer").get(f"/orders?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if message:
        assert message in html
    else:
        assert order_numbers(html) == ["111-0000000-0000001"]


def test_the_error_status_the_banner_and_the_in_error_count_find_the_same_orders(h):
    for n in range(3):
        h.add_order(h.store_id, f"111-0000000-000000{n}", status="Unshipped", import_state="error", last_error="x")
    h.add_order(h.store_id, "111-0000000-0000009", status="Unshipped", import_state="imported")
    client = h.client("viewer")
    recent = client.get("/").get_data(as_text=True)
    link = re.search(r'<a id="in-error-count" href="([^"]+)">3</a>', recent)
    assert link and link.group(1).replace("&amp;", "&") == "/orders?store=us&status=Error"
    assert '<a href="/orders?store=us&amp;status=Error">US store (3)</a>' in recent  # the red banner
    listed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert sorted(order_numbers(listed)) == [f"111-0000000-000000{n}" for n in range(3)]
    both = client.get("/orders?store=us&status=Error&status=Unshipped").get_data(as_text=True)
    assert len(order_numbers(both)) == 4


def test_asc_labels_for_status_and_fulfilment(h):
    h.add_order(h.store_id, "111-0000000-0000001", status="PartiallyShipped", fulfillment_channel="AFN")
    client = h.client("viewer")
    html = client.get("/orders").get_data(as_text=True)
    assert "Partially Shipped" in html and ">PartiallyShipped<" not in html.replace("</span>", "<")
    assert "<td>Amazon" in html
    detail = client.get("/orders/111-0000000-0000001").get_data(as_text=True)
    assert "<dt>Fulfillment channel</dt><dd>Amazon</dd>" in detail


# -- SKU mapping against Magento's catalog --------------------------------------------------------------------


def test_a_mapping_to_a_sku_magento_does_not_have_is_refused_in_magentos_words(h):
    client = h.client("operator")
    response = client.post("/stores/us/sku/new", {"seller_sku": "AMZ-1", "catalog_sku": "NO-SUCH-PRODUCT"})
    assert response.status_code == 400
    assert (
        "Magento&#39;s catalog has no product &#39;NO-SUCH-PRODUCT&#39;: The product that was requested doesn&#39;t "
        "exist. Verify the product and try again." in response.get_data(as_text=True)
    )
    assert 'value="NO-SUCH-PRODUCT"' in response.get_data(as_text=True)  # the input is kept
    ok = client.post("/stores/us/sku/new", {"seller_sku": "AMZ-1", "catalog_sku": PICKED[0]})
    assert ok.status_code == 302


def test_the_product_picker_searches_magentos_catalog(h):
    client = h.client("operator")
    found = client.get("/stores/us/sku/products?q=enamel").get_json()
    assert {"sku": PICKED[0], "name": PICKED[1]} in found["products"]
    assert client.get("/stores/us/sku/products?q=mug-blue").get_json()["products"][0]["sku"] == PICKED[0]
    nothing = client.get("/stores/us/sku/products?q=zzzqqq").get_json()
    assert nothing["products"] == [] and "No product in Magento" in nothing["message"]
    assert client.get("/stores/us/sku/products?q=a").get_json()["message"] == "Type at least two characters."
    assert h.client("viewer").get("/stores/us/sku/products?q=mug").status_code == 403
    form = client.get("/stores/us/sku/new").get_data(as_text=True)
    assert 'data-product-picker="/stores/us/sku/products"' in form


def test_an_order_stuck_on_a_bad_mapping_offers_to_edit_that_mapping(h):
    from bridge.storage.models import SkuMapping

    with h.runtime.db.session() as session:
        session.add(SkuMapping(store_id=h.store_id, seller_sku="GLOFISH", catalog_sku="TYPO-SKU"))
    h.add_order(
        h.store_id,
        "111-0000000-0000001",
        import_state="error",
        last_error='Cannot create sales order: Product "TYPO-SKU" does not exist',
        items=[{"seller_sku": "GLOFISH", "title": "Diver", "qty": 1, "price": "5.00"}],
    )
    client = h.client("operator")
    detail = client.get("/orders/111-0000000-0000001").get_data(as_text=True)
    link = re.search(r'href="([^"]+)">Edit the mapping of seller SKU GLOFISH \(now to catalog SKU TYPO-SKU\)', detail)
    assert link
    edit = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="TYPO-SKU"' in edit and "the mapped catalog SKU has no product" in edit
    # the old "Map seller SKU" link of an already mapped SKU lands on the same edit form, not on "mapped already"
    again = client.get("/stores/us/sku/new?seller_sku=GLOFISH&order=111-0000000-0000001")
    assert again.status_code == 302 and "/edit" in again.location
    mapping_id = re.search(r"/sku/(\d+)/edit", again.location).group(1)
    saved = client.post(
        f"/stores/us/sku/{mapping_id}/edit",
        {"seller_sku": "GLOFISH", "catalog_sku": PICKED[0], "order": "111-0000000-0000001"},
    )
    assert saved.status_code == 200 and "Retry import of 1 order(s)" in saved.get_data(as_text=True)


# -- shipping address --------------------------------------------------------------------------------------------


ADDRESS = {
    "name": "Jane Doe", "line1": "2201 Westlake Ave", "line2": "", "line3": "", "city": "Seattle", "region": "WA",
    "postal_code": "98121", "country_code": "US", "phone": "+1 206-555-0100", "store": "us",
}


@pytest.mark.parametrize(
    "fields, why",
    [
        ({"status": "Shipped"}, "The order is Shipped; its shipping address can only be corrected before it ships."),
        ({"status": "Unshipped", "fulfillment_channel": "AFN"}, "Amazon ships this order (Fulfilled by Amazon)"),
        ({"status": "Shipped", "import_state": "imported", "magento_entity_id": 7}, "The order is Shipped"),
    ],
)
def test_the_address_is_not_editable_once_it_no_longer_matters(h, fields, why):
    h.add_order(h.store_id, "111-0000000-0000001", **fields)
    client = h.client("operator")
    html = client.get("/orders/111-0000000-0000001").get_data(as_text=True)
    assert 'id="address-form"' not in html and "Save Order" not in html
    assert why in html
    response = client.post("/orders/111-0000000-0000001/address", {**ADDRESS, "city": "Tacoma"})
    assert response.status_code == 302
    assert h.record("111-0000000-0000001").address_override is None
    page = client.get(response.location).get_data(as_text=True)
    assert "The address is not saved." in page


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("country_code", "ZZ", "Magento&#39;s directory has no country &#39;ZZ&#39;"),
        ("phone", "javascript:alert(1)", "Use digits, spaces and + ( ) - . / only"),
        ("region", "Atlantis", "United States has no region &#39;Atlantis&#39; in Magento&#39;s directory"),
    ],
)
def test_the_address_is_checked_against_magentos_directory(h, field, value, error):
    h.add_order(h.store_id, "111-0000000-0000001")
    response = h.client("operator").post("/orders/111-0000000-0000001/address", {**ADDRESS, field: value})
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert h.record("111-0000000-0000001").address_override is None


def test_the_details_page_offers_magentos_countries_and_regions(h):
    h.add_order(h.store_id, "111-0000000-0000001")
    html = h.client("operator").get("/orders/111-0000000-0000001").get_data(as_text=True)
    country = re.search(r'<input [^>]*id="country_code"[^>]*>', html).group(0)
    assert 'list="countries"' in country and 'data-saved="US"' in country
    assert 'data-regions-url="/directory/countries/__CODE__/regions"' in country
    assert '<option value="DE">' in html and '<option value="WA">Washington</option>' in html


def test_fields_left_out_of_a_request_are_not_blanked(h):
    h.add_order(h.store_id, "111-0000000-0000001")
    response = h.client("operator").post(
        "/orders/111-0000000-0000001/address", {"store": "us", "city": "Tacoma", "postal_code": "98402"}
    )
    assert response.status_code == 302
    assert h.record("111-0000000-0000001").address_override == {"city": "Tacoma", "postal_code": "98402"}


# -- expired forms -------------------------------------------------------------------------------------------------


def test_an_expired_form_keeps_the_input_and_says_the_page_was_open_too_long(h):
    h.add_order(h.store_id, "111-0000000-0000001")
    client = h.client("operator")
    response = client.post(
        "/orders/111-0000000-0000001/address", {**ADDRESS, "city": "Tacoma <b>"}, csrf=False
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This page was open too long, so its form expired and nothing was saved. Your input is kept below" in html
    assert "CSRF" not in html
    assert '<input type="hidden" name="city" value="Tacoma &lt;b&gt;">' in html
    assert "<dt>Shipping city</dt><dd>Tacoma &lt;b&gt;</dd>" in html
    # sending it again (with the page's fresh token) saves it
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    fields["city"] = "Tacoma"
    fields["csrf_token"] = token
    assert client.post("/orders/111-0000000-0000001/address", fields, csrf=False).status_code == 302
    assert h.record("111-0000000-0000001").address_override == {"city": "Tacoma"}


def test_an_expired_sign_in_page_keeps_the_user_name(h):
    response = h.client().client.post("/login", data={"username": "olga", "password": "secret"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The sign-in page was open too long; enter your password again." in html
    assert 'value="olga"' in html and "secret" not in html


# -- Sync now, Retry all in error -------------------------------------------------------------------------------


def test_sync_now_queues_the_stores_sync_job_once(h):
    client = h.client("operator")
    response = client.post("/stores/us/sync")
    assert response.status_code == 302
    assert Queue("sync", connection=h.runtime.redis).job_ids == [f"sync-store-{h.store_id}"]
    assert "A sync of US store is queued." in client.get(response.location).get_data(as_text=True)
    client.post("/stores/us/sync")
    assert Queue("sync", connection=h.runtime.redis).count == 1
    assert "queued or running already" in client.get("/").get_data(as_text=True)
    assert h.client("viewer").post("/stores/us/sync").status_code == 403


def test_retry_all_in_error_queues_each_order_and_says_how_many(h):
    for n in range(3):
        h.add_order(h.store_id, f"111-0000000-000000{n}", import_state="error", last_error="x")
    h.add_order(h.store_id, "111-0000000-0000009", import_state="imported")
    client = h.client("operator")
    assert "Retry all in error (3)" in client.get("/").get_data(as_text=True)
    response = client.post("/stores/us/retry-errors")
    assert "Import retry queued for 3 order(s) of US store." in client.get(response.location).get_data(as_text=True)
    assert sorted(Queue("orders", connection=h.runtime.redis).job_ids) == [
        f"import-{h.store_id}-111-0000000-000000{n}" for n in range(3)
    ]
    assert [h.record(f"111-0000000-000000{n}").import_state for n in range(3)] == ["queued"] * 3
    assert h.record("111-0000000-0000009").import_state == "imported"
    assert "Retry all in error" not in client.get("/").get_data(as_text=True)
    assert h.client("viewer").post("/stores/us/retry-errors").status_code == 403


# -- CSV export -----------------------------------------------------------------------------------------------------


def test_csv_export_has_every_page_of_the_filtered_list_and_the_columns_shown(h):
    base = datetime(2026, 10, 1, tzinfo=UTC)
    for n in range(60):
        h.add_order(
            h.store_id,
            f"111-{n:07d}-0000000",
            status="Shipped" if n % 2 else "Unshipped",
            buyer_name="=HYPERLINK(\"http://evil\")" if n == 1 else f"Buyer {n}",
            purchase_date=base + timedelta(hours=n),
        )
    client = h.client("viewer")
    response = client.get("/orders/export.csv?status=Shipped&sort=purchase_date&dir=asc")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="amazon-orders-us.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ["Purchase Date", "Order Number", "Status", "Buyer's Name", "Total"]
    assert "Ship By" in rows[0] and "Fulfillment Channel" in rows[0]
    assert len(rows) == 31  # 30 shipped orders, more than a page of 20
    assert [r[1] for r in rows[1:3]] == ["111-0000001-0000000", "111-0000003-0000000"]
    assert rows[1][3] == "'=HYPERLINK(\"http://evil\")"  # a spreadsheet shows it as text, never runs it
    assert rows[1][8] == "Merchant"
    grid = client.get("/orders?status=Shipped").get_data(as_text=True)
    assert re.search(r'href="/orders/export.csv\?[^"]*status=Shipped', grid)


# -- details: ship-by / deliver-by, outbox -------------------------------------------------------------------------


def test_details_show_ship_by_deliver_by_and_the_outbox(h):
    snapshot = sample_snapshot("111-0000000-0000001", "Jane Doe")
    snapshot["fulfillment"]["shipByWindow"] = {
        "earliestDateTime": "2026-11-20T12:00:00Z", "latestDateTime": "2026-11-22T12:00:00Z",
    }
    snapshot["fulfillment"]["deliverByWindow"] = {
        "earliestDateTime": "2026-11-25T08:00:00Z", "latestDateTime": "2026-11-28T20:00:00Z",
    }
    order_id = h.add_order(h.store_id, "111-0000000-0000001", snapshot=snapshot)
    with h.runtime.db.session() as session:
        session.add(OutboundAction(order_id=order_id, kind="cancel", reason="NoInventory", requested_by="olga",
                                   state="rejected", result="Amazon refused: order shipped"))
    html = h.client("viewer").get("/orders/111-0000000-0000001").get_data(as_text=True)
    assert '<dd id="ship-by">2026-11-20 12:00 UTC – 2026-11-22 12:00 UTC</dd>' in html
    assert '<dd id="deliver-by">2026-11-25 08:00 UTC – 2026-11-28 20:00 UTC</dd>' in html
    outbox = html[html.index('id="outbox"'):]
    assert "<td>Cancel</td><td>No Inventory</td><td>olga</td>" in outbox
    assert "Rejected by Amazon" in outbox and "Amazon refused: order shipped" in outbox


def test_the_list_sorts_and_filters_by_ship_by_and_deliver_by(h):
    base = datetime(2026, 11, 1, tzinfo=UTC)
    for n, days in enumerate((5, 1, 3)):
        order_id = h.add_order(h.store_id, f"111-0000000-000000{n}", is_prime=n == 2)
        with h.runtime.db.session() as session:
            record = session.get(AmazonOrderRecord, order_id)
            record.latest_ship_date = base + timedelta(days=days)
            record.latest_delivery_date = base + timedelta(days=days + 4)
    client = h.client("viewer")
    assert order_numbers(client.get("/orders?sort=ship_by&dir=asc").get_data(as_text=True)) == [
        "111-0000000-0000001", "111-0000000-0000002", "111-0000000-0000000",
    ]
    assert order_numbers(client.get("/orders?sort=deliver_by&dir=desc").get_data(as_text=True))[0] == (
        "111-0000000-0000000"
    )
    window = client.get("/orders?ship_by_from=2026-11-03&ship_by_to=2026-11-04").get_data(as_text=True)
    assert order_numbers(window) == ["111-0000000-0000002"]
    assert order_numbers(client.get("/orders?prime=1").get_data(as_text=True)) == ["111-0000000-0000002"]


# -- roles scoped per store ------------------------------------------------------------------------------------


def scoped_client(h, role: str, *stores: Store):
    name = f"{role}-of-{'-'.join(s.code for s in stores)}"
    client = h.client(role, username=name)
    with h.runtime.db.session() as session:
        user_id = session.scalar(select(User.id).where(User.username == name))
        session.add_all(UserStore(user_id=user_id, store_id=s.id) for s in stores)
    return client


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_a_user_of_store_a_sees_nothing_of_store_b(h, role):
    with h.runtime.db.session() as session:
        us = session.get(Store, h.store_id)
    uk = h.add_store("uk", "Secret UK store")
    h.add_order(h.store_id, "111-0000000-0000001")
    h.add_order(uk.id, "202-0000000-0000001", import_state="error", last_error="x", buyer_name="Ukbuyer")
    client = scoped_client(h, role, us)
    for url in ("/", "/orders", "/status", "/stores/us/sku", "/orders/111-0000000-0000001", "/orders/export.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        assert "Secret UK store" not in text and "202-0000000-0000001" not in text and "Ukbuyer" not in text, url
    for url in ("/?store=uk", "/orders?store=uk", "/orders/202-0000000-0000001",
                "/orders/202-0000000-0000001?store=uk", "/stores/uk/sku", "/orders/export.csv?store=uk"):
        assert client.get(url).status_code == 404, url
    if role == "operator":
        assert client.post("/orders/202-0000000-0000001/retry", {"store": "uk"}).status_code == 404
        assert client.post("/stores/uk/sync").status_code == 404
        assert client.post("/stores/uk/retry-errors").status_code == 404
        assert client.get("/orders/202-0000000-0000001/cancel").status_code == 404
        assert h.record("202-0000000-0000001").import_state == "error"
    # an unscoped user of the same role still sees both
    assert h.client(role).get("/orders/202-0000000-0000001").status_code == 200


def test_admins_scope_users_on_the_users_page(h):
    uk = h.add_store("uk", "UK store")
    admin = h.client("admin", username="root")
    response = admin.post(
        "/users", {"username": "vera", "role": "viewer", "password": "a long password", "confirm": "a long password",
                   "stores": str(uk.id)}
    )
    assert response.status_code == 302
    listing = admin.get("/users").get_data(as_text=True)
    assert re.search(r"<td>vera</td>.*?<td class=\"user-stores\">UK store</td>", listing, re.S)
    vera = h.client()
    assert vera.login("vera", "a long password").status_code == 302
    assert vera.get(f"/orders?store={'us'}").status_code == 404
    assert vera.get("/orders?store=uk").status_code == 200


def test_magento_not_answering_is_said_plainly_and_nothing_is_lost(sqlite_url, redis_url):
    from tests.admin_support import AdminHarness

    harness = AdminHarness(sqlite_url, redis_url)  # Magento at http://magento.test: nothing answers there
    try:
        store = harness.add_store("us", "US store")
        harness.add_order(store.id, "111-0000000-0000001")
        client = harness.client("operator")
        page = client.get("/orders/111-0000000-0000001")
        assert page.status_code == 200 and "Magento did not answer" in page.get_data(as_text=True)
        saved = client.post("/orders/111-0000000-0000001/address", {**ADDRESS, "city": "Tacoma"})
        assert saved.status_code == 400
        html = saved.get_data(as_text=True)
        assert "Magento did not answer" in html and "country list could not be checked" in html
        assert 'value="Tacoma"' in html
        mapping = client.post("/stores/us/sku/new", {"seller_sku": "A-1", "catalog_sku": "C-1"})
        assert mapping.status_code == 400 and "catalog SKU could not be checked" in mapping.get_data(as_text=True)
        picker = client.get("/stores/us/sku/products?q=mug")
        assert picker.status_code == 503 and "Magento did not answer" in picker.get_json()["message"]
    finally:
        harness.close()


def test_the_regions_of_another_country_come_from_magentos_directory(h):
    client = h.client("operator")
    canada = client.get("/directory/countries/ca/regions")
    assert canada.status_code == 200
    assert "QC" in [r["code"] for r in canada.get_json()["regions"]]
    assert client.get("/directory/countries/ZZ/regions").status_code == 404
    assert h.client("viewer").get("/directory/countries/CA/regions").status_code == 403


def test_a_store_scoped_user_sees_only_their_stores_failed_jobs(h):
    from rq import SimpleWorker

    with h.runtime.db.session() as session:
        us = session.get(Store, h.store_id)
    uk = h.add_store("uk", "UK store")
    queue = Queue("orders", connection=h.runtime.redis)
    mine, theirs = f"import-{us.id}-111-0000000-0000001", f"import-{uk.id}-202-0000000-0000001"
    for job_id in (mine, theirs):
        queue.enqueue("builtins.int", "not a number", job_id=job_id)
    SimpleWorker([queue], connection=h.runtime.redis).work(burst=True)
    scoped = scoped_client(h, "viewer", us).get("/status").get_data(as_text=True)
    assert mine in scoped and theirs not in scoped
    everyone = h.client("viewer").get("/status").get_data(as_text=True)
    assert mine in everyone and theirs in everyone


def test_a_store_scoped_operator_requeues_only_their_stores_jobs(h):
    from rq import SimpleWorker

    with h.runtime.db.session() as session:
        us = session.get(Store, h.store_id)
    uk = h.add_store("uk", "UK store")
    queue = Queue("orders", connection=h.runtime.redis)
    mine, theirs = f"import-{us.id}-111-0000000-0000001", f"import-{uk.id}-202-0000000-0000001"
    for job_id in (mine, theirs):
        queue.enqueue("builtins.int", "not a number", job_id=job_id)
    SimpleWorker([queue], connection=h.runtime.redis).work(burst=True)
    client = scoped_client(h, "operator", us)
    assert client.post(f"/status/failed/orders/{theirs}/requeue").status_code == 404
    assert client.post("/status/failed/orders/requeue-all").status_code == 302
    assert queue.job_ids == [mine]
    assert queue.failed_job_registry.get_job_ids() == [theirs]
