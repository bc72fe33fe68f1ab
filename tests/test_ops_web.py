"""What ops sees over HTTP: /healthz, /readyz, /metrics, and Sync Status telling the truth in an outage."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from admin_ui import create_app
from admin_ui.users import create_user
from bridge.storage.models import SyncRun
from tests.admin_support import PASSWORD, AdminClient, AdminHarness
from tests.harness import line, v2026_order
from tests.redis_server import free_port

PRODUCTS = [("SKU-1", "Thing", "10.00")]


def signed_in(app, runtime, role="viewer") -> AdminClient:
    with runtime.db.session() as session:
        create_user(session, f"{role}-user", role, PASSWORD)
    client = AdminClient(app.test_client())
    assert client.login(f"{role}-user").status_code == 302
    return client


@pytest.fixture
def h(sqlite_url, redis_url):
    harness = AdminHarness(sqlite_url, redis_url)
    yield harness
    harness.close()


def test_healthz_needs_nothing(h):
    response = h.app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_is_ready_with_a_fresh_sync_and_not_when_a_store_fails(h):
    store = h.add_store()
    with h.runtime.db.session() as session:
        session.add(SyncRun(store_id=store.id, result="ok", started_at=datetime.now(UTC),
                            finished_at=datetime.now(UTC)))
    client = h.app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"] == {"database": "ok", "redis": "ok", "sync": "ok"}
    with h.runtime.db.session() as session:
        session.add(SyncRun(store_id=store.id, result="failed", started_at=datetime.now(UTC),
                            finished_at=datetime.now(UTC), error_text="MagentoConnectionError: refused"))
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json["checks"]["sync"].startswith("us: Magento: MagentoConnectionError")


def test_readyz_and_banner_name_redis_when_it_does_not_answer(sqlite_url, redis_url):
    from tests.admin_support import make_settings

    dead = f"redis://127.0.0.1:{free_port()}/0"
    harness = AdminHarness(sqlite_url, redis_url, settings=make_settings(sqlite_url, dead))
    try:
        response = harness.app.test_client().get("/readyz")
        assert response.status_code == 503
        port = dead.rsplit(":", 1)[1].split("/")[0]
        assert response.json["checks"]["redis"].startswith(f"Redis at 127.0.0.1:{port} does not answer")
        client = signed_in(harness.app, harness.runtime)
        html = client.get("/").get_data(as_text=True)
        assert 'data-side="Redis"' in html and "No sync or import runs until it is back" in html
    finally:
        harness.close()


def test_a_database_outage_is_a_503_page_not_a_500(tmp_path, redis_url):
    folder = tmp_path / "db"
    folder.mkdir()
    url = f"sqlite:///{folder / 'bridge.sqlite3'}"
    harness = AdminHarness(url, redis_url)
    try:
        client = signed_in(harness.app, harness.runtime)
        harness.add_store()
        shutil.rmtree(folder)  # the database is gone (a crashed disk, a wrong mount)
        with harness.app.app_context():
            from admin_ui.extensions import db

            db.engine.dispose()
        response = client.get("/status")
        assert response.status_code == 503
        assert "Degraded: cannot use the database" in response.get_data(as_text=True)
        assert harness.app.test_client().get("/readyz").status_code == 503
    finally:
        harness.close()


def test_metrics_token_and_families(bridge, monkeypatch):
    bridge.add_products(PRODUCTS)
    bridge.seed_amazon([v2026_order("111-0000001-0000001", items=[line("SKU-1", "Thing", "1", "10.00")]),
                        v2026_order("111-0000002-0000002", items=[line("NOPE", "Unknown", "1", "10.00")])])
    bridge.sync()
    app = create_app(bridge.runtime.settings, runtime=bridge.runtime, test_config={"TESTING": True})
    client = app.test_client()
    monkeypatch.setenv("AMAZON_BRIDGE_METRICS_TOKEN", "scrape-me")
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'amazon_bridge_orders{state="imported",store="us"} 1.0' in text
    assert 'amazon_bridge_orders_in_error{reason="unknown_sku",store="us"} 1.0' in text
    assert 'amazon_bridge_amazon_calls_total{operation="searchOrders",status="200"}' in text
    assert 'amazon_bridge_magento_calls_total{endpoint="PUT V1/orders/create",status="200"} 1.0' in text, text
    assert 'amazon_bridge_import_latency_seconds_count{store="us"} 1.0' in text
    assert 'amazon_bridge_queue_jobs{queue="orders",state="failed"} 0.0' in text
    assert 'amazon_bridge_seconds_since_last_good_sync{store="us"}' in text
    assert 'amazon_bridge_dependency_up{dependency="redis"} 1.0' in text


def test_sync_status_tells_the_truth_during_an_outage(bridge):
    """Amazon and Magento both down: the sync fails, and every page says so, naming the side and since when."""
    bridge.add_products(PRODUCTS)
    bridge.seed_amazon([v2026_order("111-0000001-0000001", items=[line("SKU-1", "Thing", "1", "10.00")])])
    bridge.sync()
    app = create_app(bridge.runtime.settings, runtime=bridge.runtime, test_config={"TESTING": True})
    client = signed_in(app, bridge.runtime)
    assert "degraded-banner" not in client.get("/").get_data(as_text=True)

    dead = f"http://127.0.0.1:{free_port()}"
    bridge.runtime.settings = replace(
        bridge.runtime.settings,
        amazon=replace(bridge.runtime.settings.amazon, endpoint=dead, oauth_endpoint=f"{dead}/auth/o2/token"),
        magento=replace(bridge.runtime.settings.magento, base_url=dead),
    )
    bridge.runtime.redis.flushdb()  # no cached access token: LWA must be asked, and is down too
    bridge.runtime.amazon_rate_scale = 1000.0
    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017 - whatever the transport says, the run is recorded
            bridge.sync()
    for page in ("/", "/status", "/orders"):
        html = client.get(page).get_data(as_text=True)
        assert 'class="message message-error degraded-banner"' in html, page
        assert 'data-side="Amazon"' in html, page
        assert "Failing side: <strong>Amazon</strong>, since" in html, page
    status = client.get("/status").get_data(as_text=True)
    assert 'class="health-degraded"' in status
    assert '<svg class="sync-chart"' in status and 'class="bar-imported"' in status


def test_stale_sync_is_degraded_even_without_a_failure(h):
    store = h.add_store()
    long_ago = datetime.now(UTC) - timedelta(hours=3)
    with h.runtime.db.session() as session:
        session.add(SyncRun(store_id=store.id, result="ok", started_at=long_ago, finished_at=long_ago))
    client = signed_in(h.app, h.runtime)
    html = client.get("/").get_data(as_text=True)
    assert 'data-side="workers"' in html and "check that the scheduler and workers run" in html


def test_web_runs_gunicorn_and_stops_gracefully(tmp_path, sqlite_url, redis_url):
    import os
    import signal
    import subprocess
    import sys
    import time

    import requests

    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n[redis]\nurl = "{redis_url}"\n')
    env = dict(os.environ, AMAZON_BRIDGE_SECRET_KEY="a test secret key for the web command")
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "--config", str(config), "web", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        for _ in range(150):
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.2)
        assert response.json() == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, output
    assert "Starting gunicorn" in output and "Booting worker" in output
    assert "development server" not in output
    assert "Shutting down: Master" in output
