"""Sync Status in a real browser during an Amazon outage: the degraded banner on every page, the health
table naming the failing side, and the 7-day chart (Playwright on Debian's Chromium).

`AMAZON_BRIDGE_SCREENSHOTS=docs/screenshots pytest tests/browser` refreshes the README's screenshot.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(os.environ["AMAZON_BRIDGE_SCREENSHOTS"]) if os.environ.get("AMAZON_BRIDGE_SCREENSHOTS") else None
PASSWORD = "browser test password"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's Chromium is not installed at {CHROMIUM}"),
]


class LateApp:
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def _history(bridge) -> None:
    """A week of hourly imports and a few errors, with a sync every hour, as a running bridge leaves."""
    from bridge.storage.models import AmazonOrderRecord, OrderEvent, SyncRun

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with bridge.runtime.db.session() as session:
        record = session.query(AmazonOrderRecord).first()
        for hour in range(7 * 24, 0, -1):
            at = now - timedelta(hours=hour)
            busy = 2 + (hour * 7) % 9 if 8 <= at.hour <= 22 else hour % 2
            for n in range(busy):
                session.add(OrderEvent(order_id=record.id, at=at + timedelta(minutes=n), kind="imported",
                                       message="history", actor="sync"))
            if hour % 29 == 0:
                session.add(OrderEvent(order_id=record.id, at=at, kind="error", message="history", actor="sync"))
            if hour % 50 != 0:  # a missed hour now and then: the lag line rises
                session.add(SyncRun(store_id=bridge.store_id, result="ok", started_at=at, finished_at=at))


@pytest.fixture(scope="module")
def env(tmp_path_factory, private_redis):
    from redis import Redis

    from admin_ui import create_app
    from admin_ui.users import create_user
    from sandbox.amazon.testing import start_amazon_twin
    from sandbox.magento.testing import start_magento_twin
    from sandbox.redis_server import free_port
    from sandbox.server import ServerThread
    from tests.harness import line, make_bridge, v2026_order

    tmp = tmp_path_factory.mktemp("ops-browser")
    redis_url = private_redis.url_for(3)
    Redis.from_url(redis_url).flushdb()
    magento, amazon = start_magento_twin(), start_amazon_twin()
    monkeypatch = pytest.MonkeyPatch()
    late = LateApp()
    server = ServerThread(late).start()
    try:
        bridge = make_bridge(database_url=f"sqlite:///{tmp / 'bridge.sqlite3'}", redis_url=redis_url,
                             magento=magento, amazon=amazon, monkeypatch=monkeypatch)
        late.app = create_app(bridge.runtime.settings, runtime=bridge.runtime)
        with bridge.runtime.db.session() as session:
            create_user(session, "ops", "operator", PASSWORD)
        bridge.add_products([("SKU-1", "Blue mug", "10.00")])
        bridge.seed_amazon([v2026_order("114-1000001-1000001", items=[line("SKU-1", "Blue mug", "1", "10.00")])])
        bridge.sync()
        _history(bridge)
        # Amazon goes away (LWA and SP-API): the next syncs fail, for real.
        dead = f"http://127.0.0.1:{free_port()}"
        s = bridge.runtime.settings
        bridge.runtime.settings = replace(s, amazon=replace(s.amazon, endpoint=dead,
                                                            oauth_endpoint=f"{dead}/auth/o2/token"))
        bridge.runtime.redis.flushdb()
        for _ in range(2):
            with pytest.raises(Exception):  # noqa: B017 - recorded as a failed sync run
                bridge.sync()
        bridge.admin_url = server.url
        yield bridge
    finally:
        server.stop()
        amazon.stop()
        magento.stop()
        monkeypatch.undo()


@pytest.fixture(scope="module")
def page(env):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        page.goto(f"{env.admin_url}/login")
        page.fill("#username", "ops")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{env.admin_url}/")
        yield page
        chromium.close()


def shot(page, name: str) -> None:
    folder = SCREENSHOTS or Path(tempfile.gettempdir()) / "amazon-bridge-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_degraded_banner_on_every_page(env, page):
    for path in ("/", "/orders", "/settings", "/status"):
        page.goto(f"{env.admin_url}{path}")
        banner = page.locator(".degraded-banner")
        assert banner.count() == 1, path
        text = banner.inner_text()
        assert "The last sync of US store failed" in text and "Failing side: Amazon, since" in text, text


def test_sync_status_shows_the_failing_side_and_the_chart(env, page):
    page.goto(f"{env.admin_url}/status")
    row = page.locator("#health tr.health-degraded")
    assert row.count() == 1
    assert "Amazon" in row.inner_text() and "degraded" in row.inner_text()
    chart = page.locator("#chart svg.sync-chart")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] > 600 and box["height"] > 100
    assert page.locator("#chart rect.bar-imported").count() > 100  # a week of hourly bars
    assert page.locator("#chart rect.bar-error").count() >= 5
    assert page.locator("#chart polyline.line-lag").count() == 1
    shot(page, "admin-sync-status-degraded")
