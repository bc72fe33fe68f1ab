# ruff: noqa: F401, F811 - the fixtures of test_admin_browser, used by name
"""Issue 12 in a real browser (Debian's Chromium): each defect a new merchant hit, fixed, and what they reach for
next. Same environment as test_admin_browser (both twins, the real pipeline, the admin on a real port), built
afresh for this module so these tests don't depend on the order of the others."""

from __future__ import annotations

import csv
import io
import re

from tests.browser.test_admin_browser import (
    CHROMIUM,
    PASSWORD,
    C,
    D,
    browser,
    dialogs,
    env,
    grid_orders,
    new_page,
    page,
    pytestmark,
    shot,
)

assert CHROMIUM


def test_a_far_future_date_filter_gets_a_styled_page_not_a_500(env, page):
    response = page.goto(f"{env.admin_url}/orders?to=9999-12-31")
    assert response.status == 200
    assert page.locator("h1.page-title").inner_text().startswith("Amazon orders")
    assert len(grid_orders(page)) == 25
    response = page.goto(f"{env.admin_url}/orders?to=10000-01-01&total_min=1e30")
    assert response.status == 200
    errors = page.locator(".filters .field-error").all_inner_texts()
    assert errors == [
        "Purchase Date to: expected a date as yyyy-mm-dd, got '10000-01-01'.",
        "Total min: 1e30 is out of range; order totals stay below 100,000,000,000,000.",
    ]
    shot(page, "admin-filter-message")


def test_the_banner_the_in_error_count_and_the_error_checkbox_find_the_orders_in_error(env, page):
    page.goto(f"{env.admin_url}/")
    banner = page.locator(".message-critical")
    assert "See the orders in error" in banner.inner_text()
    banner.get_by_role("link", name="US store (1)").click()
    page.wait_for_url(re.compile(r".*/orders\?.*status=Error.*"))
    assert grid_orders(page) == [C]
    assert "Status: Error" in page.locator(".chips").inner_text()
    shot(page, "admin-orders-in-error")
    page.goto(f"{env.admin_url}/")
    page.locator("#in-error-count").click()
    page.wait_for_url(re.compile(r".*status=Error.*"))
    assert grid_orders(page) == [C]
    page.click("text=Clear all filters")
    page.check("input[name=status][value=Error]")
    page.click("text=Apply filters")
    page.wait_for_url(re.compile(r".*status=Error.*"))
    assert grid_orders(page) == [C]


def test_a_mapping_to_a_missing_product_is_refused_and_the_picker_finds_the_right_one(env, page):
    page.goto(f"{env.admin_url}/orders/{C}")
    page.get_by_role("link", name="Map seller SKU GLOFISH-DIVER to a catalog SKU").click()
    page.fill("#catalog_sku", "GLOFISH-DIVER-TYPO")
    page.click("button:has-text('Save Mapping')")
    error = page.locator("[data-field=catalog_sku] .field-error").inner_text()
    assert error == (
        "Magento's catalog has no product 'GLOFISH-DIVER-TYPO': The product that was requested doesn't exist. "
        "Verify the product and try again."
    )
    assert page.locator("#catalog_sku").input_value() == "GLOFISH-DIVER-TYPO"  # kept, to correct
    page.fill("#catalog_sku", "")
    page.locator("#catalog_sku").press_sequentially("ornam", delay=30)
    option = page.locator("#product-picker .product-option")
    option.first.wait_for()
    assert option.all_inner_texts() == ["DIVER-1 Diver ornament"]
    shot(page, "admin-sku-product-picker")
    option.first.click()
    assert page.locator("#catalog_sku").input_value() == "DIVER-1"


def test_an_existing_mapping_is_edited_from_the_order(env, page):
    from bridge.storage.models import SkuMapping

    with env.runtime.db.session() as session:
        session.add(SkuMapping(store_id=env.store_id, seller_sku="GLOFISH-DIVER", catalog_sku="DIVER-TYPO"))
    try:
        page.goto(f"{env.admin_url}/orders/{C}")
        name = "Edit the mapping of seller SKU GLOFISH-DIVER (now to catalog SKU DIVER-TYPO)"
        page.get_by_role("link", name=name).click()
        assert page.locator("h1.page-title").inner_text() == "Edit SKU Mapping"
        assert page.locator("#catalog_sku").input_value() == "DIVER-TYPO"
        shot(page, "admin-sku-mapping-edit-from-order")
        # the old link lands on the same form, never on "mapped already"
        page.goto(f"{env.admin_url}/stores/us/sku/new?seller_sku=GLOFISH-DIVER&order={C}")
        assert page.locator("h1.page-title").inner_text() == "Edit SKU Mapping"
        assert "mapped already" not in page.content()
    finally:
        with env.runtime.db.session() as session:
            session.query(SkuMapping).filter_by(seller_sku="GLOFISH-DIVER").delete()


def test_the_address_of_a_shipped_order_cannot_be_edited(env, page):
    page.goto(f"{env.admin_url}/orders/{D}")
    assert page.locator("#address-form").count() == 0
    assert page.get_by_role("button", name="Save Order").count() == 0
    assert page.locator("#address-locked").inner_text() == (
        # Shipped and imported, so bridge.lifecycle completed its Commerce order: ASC's Completed.
        "The order is Completed; its shipping address can only be corrected before it ships."
    )
    shot(page, "admin-address-locked")


def test_country_zz_and_a_script_phone_are_refused_with_magentos_directory(env, page):
    page.goto(f"{env.admin_url}/orders/{C}")
    assert page.locator("datalist#countries option[value=DE]").count() == 1
    page.fill("#country_code", "ZZ")
    page.fill("#phone", "javascript:alert(1)")
    page.get_by_role("button", name="Save Order").click()
    errors = page.locator(".address-fields .field-error").all_inner_texts()
    assert errors == [
        "Magento's directory has no country 'ZZ'; pick one from the list.",
        "Use digits, spaces and + ( ) - . / only, e.g. +1 206-555-0100.",
    ]
    assert page.locator("#phone").input_value() == "javascript:alert(1)"  # kept, to correct
    shot(page, "admin-address-refused")
    assert env.record(C).address_override is None


def test_an_expired_form_keeps_the_input(env, page):
    page.goto(f"{env.admin_url}/orders/{C}")
    page.fill("#city", "Tacoma")
    # what an expired page sends: a token the server no longer accepts
    page.evaluate("document.querySelector('#address-form input[name=csrf_token]').value = 'expired'")
    page.get_by_role("button", name="Save Order").click()
    message = page.locator("#form-expired").inner_text()
    assert message.startswith("This page was open too long, so its form expired and nothing was saved.")
    assert "CSRF" not in page.content()
    assert "Tacoma" in page.locator(".csrf-kept").inner_text()
    shot(page, "admin-form-expired")
    page.get_by_role("button", name="Submit again").click()
    page.wait_for_url(re.compile(rf".*/orders/{C}.*"))
    assert "is saved (city)" in page.locator(".message-success").inner_text()
    assert env.record(C).address_override == {"city": "Tacoma"}


def test_wrong_passwords_slow_down_instead_of_locking_out(env, browser, dialogs):
    from admin_ui.users import create_user

    with env.runtime.db.session() as session:
        create_user(session, "clerk", "viewer", PASSWORD)
    tab = new_page(browser, dialogs)
    try:
        tab.goto(f"{env.admin_url}/login")
        for _ in range(4):
            tab.fill("#username", "clerk")
            tab.fill("#password", "not the password")
            tab.click("button[type=submit]")
        tab.fill("#username", "clerk")
        tab.fill("#password", PASSWORD)
        tab.click("button[type=submit]")
        message = tab.locator(".message-error").inner_text()
        assert message.startswith("Too many wrong passwords for this user name: wait 1 second, then try again.")
        assert "Nothing is locked" in message
        shot(tab, "admin-sign-in-delay")
        for key in env.runtime.redis.keys("amazon-bridge:login-wait:*"):  # the second passes
            env.runtime.redis.delete(key)
        tab.fill("#username", "clerk")
        tab.fill("#password", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{env.admin_url}/")
    finally:
        tab.context.close()


def test_asc_labels_for_fulfilment(env, page):
    page.goto(f"{env.admin_url}/orders?sort=channel&dir=asc")
    channels = page.locator("tbody tr td:nth-child(8)").all_inner_texts()
    assert {c.split()[0] for c in channels} == {"Amazon", "Merchant"}


def test_sync_now_and_retry_all_in_error(env, page):
    from rq import Queue

    page.goto(f"{env.admin_url}/")
    page.get_by_role("button", name="Sync now").click()
    assert page.locator(".message-success").inner_text() == "A sync of US store is queued."
    assert f"sync-store-{env.store_id}" in Queue("sync", connection=env.runtime.redis).job_ids
    shot(page, "admin-store-actions")
    page.evaluate("window.confirm = () => true")  # the merchant says yes to "Retry the import of all ...?"
    page.get_by_role("button", name="Retry all in error (1)").click()
    assert page.locator(".message-success").inner_text() == "Import retry queued for 1 order(s) of US store."
    assert page.get_by_role("button", name=re.compile("Retry all in error")).count() == 0
    assert env.record(C).import_state == "queued"


def test_csv_export_of_the_filtered_list(env, page):
    page.goto(f"{env.admin_url}/orders?status=Shipped&per_page=20")
    shown = grid_orders(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(info.value.path().read_text(encoding="utf-8"))))
    header = [h.text_content().strip() for h in page.locator("table.data-grid thead th").all()]
    assert [c for c in header if c not in ("Order Notes",)][:4] == rows[0][:4]
    assert sorted(r[1] for r in rows[1:]) == sorted(shown)
    assert all(r[2] == "Shipped" for r in rows[1:])


def test_details_show_ship_by_deliver_by_and_the_outbox(env, page):
    page.goto(f"{env.admin_url}/orders/{D}")
    record = env.record(D)
    ship_by = page.locator("#ship-by").inner_text()
    assert ship_by.endswith(record.latest_ship_date.strftime("%Y-%m-%d %H:%M UTC")) and " – " in ship_by
    assert page.locator("#deliver-by").inner_text().endswith(
        record.latest_delivery_date.strftime("%Y-%m-%d %H:%M UTC")
    )
    assert page.locator("#outbox").inner_text().count("Nothing was sent to Amazon for this order.") == 1
    page.goto(f"{env.admin_url}/orders?sort=ship_by&dir=asc")
    assert page.locator("th[aria-sort=ascending]").inner_text() == "Ship By"
    shot(page, "admin-all-orders-ship-by")


def test_changing_the_country_offers_its_regions_from_magento(env, page):
    page.goto(f"{env.admin_url}/orders/{C}")
    assert page.locator("datalist#regions option[value=WA]").count() == 1
    page.fill("#country_code", "CA")
    page.locator("#country_code").dispatch_event("change")
    page.locator("datalist#regions option[value=QC]").wait_for(state="attached")
    assert page.locator("datalist#regions option[value=WA]").count() == 0
