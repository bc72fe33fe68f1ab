"""The admin in a real browser (Playwright on Debian's Chromium), next to both twins and the real pipeline.

Orders are imported by the pipeline into the Magento twin, whose order view carries the comment with the
links into the admin (served on a real port). The tests sign in, list, filter, follow *View or Cancel Amazon
Order* from Magento, cancel, and see a cancel refused; each page is screenshotted (see SCREENSHOTS).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots go to a temporary folder; `AMAZON_BRIDGE_SCREENSHOTS=docs/screenshots pytest tests/browser`
# refreshes the ones the README shows (a normal run must not rewrite tracked files).
SCREENSHOTS = Path(os.environ["AMAZON_BRIDGE_SCREENSHOTS"]) if os.environ.get("AMAZON_BRIDGE_SCREENSHOTS") else None
PASSWORD = "browser test password"
EVIL_NAME = '<script>alert("buyer")</script><b>Bold</b> Buyer'
EVIL_TITLE = "<img src=x onerror=alert(1)>Diver ornament"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)",
    ),
]

A = "114-1000001-1000001"  # Unshipped, imported: cancelled from the browser
B = "114-1000002-1000002"  # Unshipped here, Shipped at Amazon by the time the merchant cancels
C = "114-1000003-1000003"  # unknown SKU: waits in error
D = "114-1000004-1000004"  # Shipped
E = "114-1000005-1000005"  # hostile buyer name and title


class LateApp:
    """A WSGI app filled in after the server is listening, so the settings can name the server's own URL."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def env(tmp_path_factory, private_redis):
    from redis import Redis

    from admin_ui import create_app
    from admin_ui.users import create_user
    from sandbox.amazon.testing import start_amazon_twin
    from sandbox.magento.testing import start_magento_twin
    from sandbox.server import ServerThread
    from tests.harness import iso, line, make_bridge, v2026_order

    tmp = tmp_path_factory.mktemp("browser")
    redis_url = private_redis.url_for(2)
    Redis.from_url(redis_url).flushdb()
    magento = start_magento_twin()
    amazon = start_amazon_twin()
    monkeypatch = pytest.MonkeyPatch()
    late = LateApp()
    server = ServerThread(late).start()
    try:
        bridge = make_bridge(
            database_url=f"sqlite:///{tmp / 'bridge.sqlite3'}",
            redis_url=redis_url,
            magento=magento,
            amazon=amazon,
            monkeypatch=monkeypatch,
        )
        s = bridge.runtime.settings
        bridge.runtime.settings = replace(
            s,
            admin=replace(s.admin, public_base_url=server.url),
            magento=replace(s.magento, admin_url=f"{magento.url}/admin"),
        )
        late.app = create_app(bridge.runtime.settings, runtime=bridge.runtime)
        with bridge.runtime.db.session() as session:
            create_user(session, "merchant", "admin", PASSWORD)

        bridge.add_products(
            [("SKU-1", "Blue mug", "10.00"), ("SKU-2", "Tea towel", "6.50"), ("DIVER-1", "Diver ornament", "12.00")]
        )
        now = datetime.now(UTC)
        buyers = [
            "Katherine Johnson",
            "Grace Hopper",
            "Alan Turing",
            "Edsger Dijkstra",
            "Barbara Liskov",
            "Donald Knuth",
            "Frances Allen",
            "Ken Thompson",
            "Radia Perlman",
            "Tim Berners-Lee",
        ]
        orders = [
            v2026_order(
                A,
                buyer_name="Ada Lovelace",
                created=now - timedelta(hours=3),
                items=[line("SKU-1", "Blue mug", "2", "10.00", tax="1.65", shipping="4.99")],
            ),
            v2026_order(B, buyer_name="Grace Hopper", created=now - timedelta(hours=5)),
            v2026_order(
                C,
                buyer_name="Alan Turing",
                created=now - timedelta(hours=7),
                items=[line("GLOFISH-DIVER", "GloFish diver ornament", "1", "8.99", tax="0.74")],
            ),
            v2026_order(D, status="SHIPPED", buyer_name="Edsger Dijkstra", created=now - timedelta(days=2)),
            v2026_order(
                E,
                buyer_name=EVIL_NAME,
                created=now - timedelta(hours=9),
                items=[line("DIVER-1", EVIL_TITLE, "1", "12.00", tax="0.99")],
            ),
        ]
        statuses = ["UNSHIPPED", "SHIPPED", "PENDING", "SHIPPED", "CANCELLED"]
        for n in range(20):
            orders.append(
                v2026_order(
                    f"11{n % 3 + 1}-{2000000 + n:07d}-{3000000 + n:07d}",
                    status=statuses[n % 5],
                    fulfilled_by="AMAZON" if n % 7 == 3 else "MERCHANT",
                    buyer_name=buyers[n % 10],
                    created=now - timedelta(days=1 + n, hours=n),
                    items=[line("SKU-2", "Tea towel", str(1 + n % 3), "6.50", tax="0.54")],
                )
            )
        for order in orders:  # Amazon's ship-by and deliver-by windows, as the details page and list show them
            created = datetime.fromisoformat(order["createdTime"].replace("Z", "+00:00"))
            order["fulfillment"]["shipByWindow"] = {
                "earliestDateTime": iso(created), "latestDateTime": iso(created + timedelta(days=2))
            }
            order["fulfillment"]["deliverByWindow"] = {
                "earliestDateTime": iso(created + timedelta(days=3)), "latestDateTime": iso(created + timedelta(days=7))
            }
        bridge.seed_amazon(orders)
        bridge.sync()
        assert bridge.record(A).import_state == "imported"
        assert bridge.record(C).import_state == "error"
        bridge.admin_url = server.url
        yield bridge
    finally:
        server.stop()
        amazon.stop()
        magento.stop()
        monkeypatch.undo()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def dialogs():
    """Every alert() any page opened: hostile values from Amazon must never run."""
    return []


def new_page(browser, dialogs):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return page


@pytest.fixture(scope="module")
def page(env, browser, dialogs):
    """A signed-in merchant's tab."""
    page = new_page(browser, dialogs)
    page.goto(f"{env.admin_url}/login")
    page.fill("#username", "merchant")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{env.admin_url}/")
    yield page
    page.context.close()


def shot(page, name: str) -> None:
    folder = SCREENSHOTS or Path(tempfile.gettempdir()) / "amazon-bridge-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def grid_orders(page) -> list[str]:
    return page.locator("td.order-number a").all_inner_texts()


def test_sign_in_page_and_wrong_password(env, browser, dialogs):
    tab = new_page(browser, dialogs)
    try:
        tab.goto(f"{env.admin_url}/orders")
        assert tab.url.startswith(f"{env.admin_url}/login?next=")
        shot(tab, "admin-sign-in")
        tab.fill("#username", "merchant")
        tab.fill("#password", "not the password")
        tab.click("button[type=submit]")
        assert tab.locator(".message-error").inner_text() == "The user name or password is not right."
    finally:
        tab.context.close()


def test_view_or_cancel_link_in_magento_lands_on_the_order_after_sign_in(env, browser, dialogs):
    record = env.record(A)
    tab = new_page(browser, dialogs)
    try:
        tab.goto(f"{env.magento.url}/admin/sales/order/view/order_id/{record.magento_entity_id}")
        link = tab.get_by_role("link", name="View or Cancel Amazon Order")
        assert link.get_attribute("href") == f"{env.admin_url}/orders/{A}"
        shot(tab, "magento-order-view-with-links")
        link.click()
        tab.wait_for_url(re.compile(r".*/login\?next=.*"))
        tab.fill("#username", "merchant")
        tab.fill("#password", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{env.admin_url}/orders/{A}")
        assert tab.locator("h1.page-title").inner_text() == f"Amazon Order # {A}"
        # and the other link, already signed in
        tab.goto(f"{env.magento.url}/admin/sales/order/view/order_id/{record.magento_entity_id}")
        tab.get_by_role("link", name="View all Amazon Orders").click()
        tab.wait_for_url(f"{env.admin_url}/orders")
        assert A in grid_orders(tab)
    finally:
        tab.context.close()


def test_recent_orders(env, page):
    page.goto(f"{env.admin_url}/")
    rows = grid_orders(page)
    assert len(rows) == 10 and rows[0] == A
    assert "cannot be imported into Magento" in page.locator(".message-critical").inner_text()
    shot(page, "admin-recent-orders")


def test_all_orders_and_filter(env, page):
    page.goto(f"{env.admin_url}/orders")
    assert len(grid_orders(page)) == 25
    shot(page, "admin-all-orders")
    page.fill("input[name=buyer]", "ada")
    page.check("input[name=status][value=Unshipped]")
    page.click("text=Apply filters")
    page.wait_for_url(re.compile(r".*buyer=ada.*"))
    assert grid_orders(page) == [A]
    assert "Buyer's Name: ada" in page.locator(".chips").inner_text()
    shot(page, "admin-all-orders-filtered")
    page.click("text=Clear all filters")
    page.get_by_role("link", name="Total").click()
    page.wait_for_url(re.compile(r".*sort=total.*"))
    totals = [float(t.strip("$").replace(",", "")) for t in page.locator("tbody td.num").all_inner_texts()]
    assert len(totals) == 25 and totals == sorted(totals, reverse=True)


def test_cancel_an_unshipped_order(env, page):
    page.goto(f"{env.admin_url}/orders/{A}")
    assert page.get_by_role("link", name=re.compile("View Commerce Order")).get_attribute("href") == (
        f"{env.magento.url}/admin/sales/order/view/order_id/{env.record(A).magento_entity_id}"
    )
    assert (
        page.get_by_role("link", name="View in Seller Central").get_attribute("href").endswith(f"/orders-v3/order/{A}")
    )
    shot(page, "admin-order-details")
    page.get_by_role("link", name="Cancel Order").click()
    assert page.locator("h1.page-title").inner_text() == "Amazon Order Cancellation"
    assert page.locator("#amazon_order_number").input_value() == A
    options = page.locator("#reason option").all_inner_texts()
    assert options[1:] == [
        "No Inventory",
        "Shipping Address Undeliverable",
        "Customer Exchange",
        "Buyer Canceled",
        "General Adjustment",
        "Carrier Credit Decision",
        "Risk Assessment Information Not Valid",
        "Carrier Coverage Failure",
        "Customer Return",
        "Merchandise Not Received",
    ]
    page.select_option("#reason", "BuyerCanceled")
    shot(page, "admin-cancel-order")
    page.click("button:has-text('Cancel order')")
    page.wait_for_url(re.compile(rf".*/orders/{A}.*"))
    assert "Queued, not sent to Amazon yet" in page.locator("#cancel-state").inner_text()
    assert page.get_by_role("link", name="Cancel Order").count() == 0
    shot(page, "admin-cancel-queued")


def test_cancel_refused_once_amazon_shipped_it(env, page):
    env.amazon.set_status(B, "SHIPPED")
    page.goto(f"{env.admin_url}/orders/{B}")
    page.get_by_role("link", name="Cancel Order").click()  # our copy still says Unshipped
    page.select_option("#reason", "NoInventory")
    page.click("button:has-text('Cancel order')")
    message = page.locator(".message-error").inner_text()
    assert "Not cancelled: Amazon reports the order as Shipped now." in message
    shot(page, "admin-cancel-refused")
    page.goto(f"{env.admin_url}/orders/{B}")
    assert page.get_by_role("link", name="Cancel Order").count() == 0
    assert "Shipped" in page.locator(".props .status").first.inner_text()


def test_shipped_order_has_no_cancel_button_and_its_cancel_page_says_why(env, page):
    page.goto(f"{env.admin_url}/orders/{D}")
    assert page.get_by_role("link", name="Cancel Order").count() == 0
    page.goto(f"{env.admin_url}/orders/{D}/cancel")
    warning = page.locator("#cancel-blocked").inner_text()
    assert "Only Unshipped orders can be cancelled here" in warning and "can no longer be canceled" in warning
    assert page.locator("#reason").count() == 0  # no form: a link to Seller Central instead
    assert page.get_by_role("link", name=f"Open order {D} in Seller Central").count() == 1


def test_order_in_error_offers_sku_mapping_and_retry(env, page):
    page.goto(f"{env.admin_url}/orders/{C}")
    assert 'Product "GLOFISH-DIVER" does not exist' in page.locator(".message-error").first.inner_text()
    shot(page, "admin-order-in-error")
    page.get_by_role("link", name="Map seller SKU GLOFISH-DIVER to a catalog SKU").click()
    page.fill("#catalog_sku", "DIVER-1")
    shot(page, "admin-sku-mapping-new")
    page.click("button:has-text('Save Mapping')")
    assert "wait in error on seller SKU" in page.content()
    shot(page, "admin-sku-retry-offer")
    page.click("button:has-text('Retry import of 1 order(s)')")
    page.wait_for_url(re.compile(rf".*/orders/{C}.*"))
    assert env.record(C).import_state == "queued"
    page.goto(f"{env.admin_url}/sku")
    assert "GLOFISH-DIVER" in page.locator("table.data-grid").inner_text()
    shot(page, "admin-sku-mapping")


def test_correct_the_shipping_address(env, page):
    """Save Order stays disabled until a field changes; after saving, the fields show "(corrected)"."""
    page.goto(f"{env.admin_url}/orders/{C}")
    save = page.get_by_role("button", name="Save Order")
    assert save.is_disabled()
    page.fill("#city", "Tacoma")
    assert save.is_enabled()
    page.fill("#city", "Seattle")  # back to the saved value: nothing to save
    assert save.is_disabled()
    page.fill("#city", "Tacoma")
    page.fill("#postal_code", "98402")
    save.click()
    page.wait_for_url(re.compile(rf".*/orders/{C}.*"))
    assert (
        f"The shipping address of order {C} is saved (city, postal code)."
        in page.locator(".message-success").inner_text()
    )
    corrected = page.locator(".address-fields dt:has(.corrected)").all_inner_texts()
    assert corrected == ["Shipping city (corrected)", "Shipping postal code (corrected)"]
    assert page.locator("#city").input_value() == "Tacoma"
    assert page.get_by_role("button", name="Save Order").is_disabled()
    assert env.record(C).address_override == {"city": "Tacoma", "postal_code": "98402"}
    shot(page, "admin-address-corrected")


def test_hostile_values_show_as_text(env, page, dialogs):
    page.goto(f"{env.admin_url}/orders/{E}")
    assert EVIL_NAME in page.locator(".props").first.inner_text()
    assert EVIL_TITLE in page.locator("table.data-grid").first.inner_text()
    page.goto(f"{env.admin_url}/orders?buyer=script")
    assert grid_orders(page) == [E]
    assert dialogs == []


def test_order_settings(env, page):
    page.goto(f"{env.admin_url}/settings")
    shot(page, "admin-order-settings")
    page.select_option("#import_enabled", "0")
    assert page.locator("#payment_method").is_disabled()
    with page.expect_navigation():  # the saved page, not the one being left
        page.click("button:has-text('Save order settings')")
    assert page.locator(".message-success").inner_text() == "You have successfully saved the order settings."
    assert page.locator("#payment_method").is_disabled()
    page.select_option("#import_enabled", "1")
    assert not page.locator("#payment_method").is_disabled()
    with page.expect_navigation():
        page.click("button:has-text('Save order settings')")
    assert page.locator(".message-success").inner_text() == "You have successfully saved the order settings."


def test_sync_status_and_users(env, page):
    page.goto(f"{env.admin_url}/status")
    assert "US store" in page.locator("table.data-grid").first.inner_text()
    shot(page, "admin-sync-status")
    page.goto(f"{env.admin_url}/users")
    assert "merchant" in page.locator("table.data-grid").inner_text()
    shot(page, "admin-users")
