"""The operator's commands as a user runs them: doctor, status, retry, backfill, reconcile, and every
expected failure ending in one sentence and a non-zero exit, never a traceback."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bridge.cli import main
from bridge.storage.models import AmazonOrderRecord, BackfillRun, ReconcileRun
from tests.harness import REFRESH_TOKEN_ENV, line, make_bridge, v2026_order

PRODUCTS = [("SKU-1", "Thing", "10.00"), ("SKU-2", "Other thing", "20.00")]


def write_config(path, settings, **overrides) -> str:
    values = {
        "database": {"url": settings.database.url},
        "redis": {"url": settings.redis.url},
        "magento": {"base_url": settings.magento.base_url},
        "amazon": {"endpoint": settings.amazon.endpoint, "oauth_endpoint": settings.amazon.oauth_endpoint},
    }
    for key, value in overrides.items():
        section, name = key.split("__")
        values[section][name] = value
    text = "".join(f"[{s}]\n" + "".join(f'{k} = "{v}"\n' for k, v in kv.items()) + "\n" for s, kv in values.items())
    path.write_text(text)
    return str(path)


def credentials_env(bridge) -> dict[str, str]:
    mc = bridge.magento.config
    return {
        "MAGENTO_CONSUMER_KEY": mc.consumer_key, "MAGENTO_CONSUMER_SECRET": mc.consumer_secret,
        "MAGENTO_ACCESS_TOKEN": mc.access_token, "MAGENTO_ACCESS_TOKEN_SECRET": mc.access_token_secret,
        "AMAZON_LWA_CLIENT_ID": bridge.amazon.config.client_id,
        "AMAZON_LWA_CLIENT_SECRET": bridge.amazon.config.client_secret,
        REFRESH_TOKEN_ENV: bridge.amazon.refresh_token,
    }


def run(config: str, *args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(main, ["--config", config, *args], env=env or {}, catch_exceptions=True)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"unexpected exception: {result.exception!r}\n{result.output}") from result.exception
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def cfg(bridge, tmp_path):
    return write_config(tmp_path / "config.toml", bridge.runtime.settings)


# -- expected failures --------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["stores", "list"], ["status"], ["sync", "--store", "us", "--once"],
                                  ["retry", "--store", "us"]])
def test_no_database_yet_says_run_db_upgrade(tmp_path, redis_url, args):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "fresh.sqlite3"}"\n[redis]\nurl = "{redis_url}"\n')
    result = run(str(config), *args)
    assert result.exit_code == 1
    assert "run `amazon-bridge db upgrade`" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_store_is_named(bridge, cfg):
    for args in (["retry", "--store", "nope"], ["backfill", "--store", "nope", "--since", "2026-01-01"],
                 ["reconcile", "--store", "nope"], ["sync", "--store", "nope", "--once"]):
        result = run(cfg, *args, env=credentials_env(bridge))
        assert result.exit_code == 1, args
        assert "nope" in result.output, args


def test_unreachable_magento_host_is_named(bridge, tmp_path):
    from sandbox.redis_server import free_port

    port = free_port()
    config = write_config(tmp_path / "c.toml", bridge.runtime.settings, magento__base_url=f"http://127.0.0.1:{port}")
    result = run(config, "doctor", env=credentials_env(bridge))
    assert result.exit_code == 1
    assert f"Magento at 127.0.0.1:{port} cannot be reached" in result.output
    assert "check magento.base_url" in result.output
    bridge.add_products(PRODUCTS)
    bridge.seed_amazon(_old_orders(1, 1))
    synced = run(config, "sync", "--store", "us", "--once", env=credentials_env(bridge))
    assert synced.exit_code == 1
    assert synced.output.strip().splitlines()[-1].startswith(f"Error: Magento at 127.0.0.1:{port} cannot be reached")


def test_missing_magento_variables_are_refused_before_any_request(bridge, cfg):
    env = credentials_env(bridge)
    del env["MAGENTO_ACCESS_TOKEN"], env["MAGENTO_CONSUMER_SECRET"]
    before = bridge.magento.stats()["total"]
    for args in (["doctor"], ["reconcile", "--store", "us"], ["backfill", "--store", "us", "--since", "2026-01-01"],
                 ["sync", "--store", "us", "--once"]):
        result = run(cfg, *args, env=env)
        assert result.exit_code == 1, args
        assert "MAGENTO_CONSUMER_SECRET" in result.output and "MAGENTO_ACCESS_TOKEN" in result.output, args
    assert bridge.magento.stats()["total"] == before


def test_bad_credentials_are_refused_in_one_sentence(bridge, cfg):
    env = credentials_env(bridge) | {"MAGENTO_ACCESS_TOKEN_SECRET": "wrong"}
    result = run(cfg, "doctor", env=env)
    assert result.exit_code == 1
    assert "refused the credentials" in result.output
    env = credentials_env(bridge) | {"AMAZON_LWA_CLIENT_SECRET": "wrong"}
    bridge.runtime.redis.flushdb()  # no access token cached from the good secret
    result = run(cfg, "reconcile", "--store", "us", env=env)
    assert result.exit_code == 1
    assert "Amazon refused the credentials" in result.output


@pytest.mark.parametrize("since,until,expected", [
    ("2099-01-01", None, "is not in the past"),
    ("2026-01-02", "2026-01-01", "--until must be later than --since"),
    ("2020-01-01", None, "more than two years ago"),
    ("yesterday", None, "not a date"),
])
def test_backfill_refuses_a_range_amazon_refuses(bridge, cfg, since, until, expected):
    args = ["backfill", "--store", "us", "--since", since] + (["--until", until] if until else [])
    before = bridge.amazon.stats()
    result = run(cfg, *args, env=credentials_env(bridge))
    assert result.exit_code != 0
    assert expected in result.output
    assert bridge.amazon.stats() == before


def test_until_later_than_two_minutes_ago_is_refused(bridge, cfg):
    until = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    result = run(cfg, "backfill", "--store", "us", "--since", "2026-01-01", "--until", until,
                 env=credentials_env(bridge))
    assert result.exit_code == 1
    assert "later than two minutes ago" in result.output


def test_postgresql_url_without_the_driver_says_which_extra(tmp_path, redis_url, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the `postgres` extra were not installed
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "postgresql://bridge@127.0.0.1/bridge"\n')
    result = run(str(config), "db", "upgrade")
    assert result.exit_code == 1
    assert "pip install 'amazon-bridge[postgres]'" in result.output


# -- doctor -------------------------------------------------------------------------------------------

def test_doctor_all_ok(bridge, cfg):
    result = run(cfg, "doctor", env=credentials_env(bridge))
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "ok    magento ACL Magento_Sales::create: ok" in result.output
    assert "store us: amazon: ok" in result.output


def test_doctor_names_the_missing_acl_resource(sqlite_url, redis_url, amazon_twin, monkeypatch, tmp_path):
    from bridge.doctor import ACL_PROBES
    from sandbox.magento.testing import start_magento_twin

    granted = {p.resource for p in ACL_PROBES} - {"Magento_Sales::create"}
    with start_magento_twin(acl_resources=frozenset(granted)) as magento:
        b = make_bridge(database_url=sqlite_url, redis_url=redis_url, magento=magento, amazon=amazon_twin,
                        monkeypatch=monkeypatch)
        config = write_config(tmp_path / "c.toml", b.runtime.settings)
        result = run(config, "doctor", env=credentials_env(b))
        b.runtime.close()
    assert result.exit_code == 1
    failing = [line_ for line_ in result.output.splitlines() if line_.startswith("FAIL")]
    assert len(failing) == 1, result.output
    assert "Magento_Sales::create" in failing[0] and "Grant it" in failing[0]


def test_doctor_reports_missing_schema_and_unknown_store_view(bridge, cfg):
    with bridge.runtime.db.session() as session:
        from bridge.storage.models import Store

        session.get(Store, bridge.store_id).order_settings.store_view_code = "fr"
    result = run(cfg, "doctor", env=credentials_env(bridge))
    assert result.exit_code == 1
    assert "Magento has no store view 'fr'" in result.output


# -- backfill, reconcile, status, retry ---------------------------------------------------------------

def _old_orders(n: int, days_ago: int) -> list[dict]:
    start = datetime.now(UTC) - timedelta(days=days_ago)
    return [v2026_order(f"111-{days_ago:07d}-{i:07d}", created=start + timedelta(hours=i),
                        items=[line("SKU-1", "Thing", "1", "10.00")]) for i in range(n)]


def test_backfill_imports_a_past_range_and_resumes(bridge, cfg, monkeypatch):
    from bridge import backfill

    bridge.add_products(PRODUCTS)
    bridge.set_settings(import_from=datetime.now(UTC) - timedelta(days=1))
    orders = _old_orders(5, 60)
    bridge.seed_amazon(orders)
    since = (datetime.now(UTC) - timedelta(days=61)).strftime("%Y-%m-%d")
    until = (datetime.now(UTC) - timedelta(days=50)).strftime("%Y-%m-%d")
    # The due orders are read a batch at a time (100,000 ids would not be held at once), oldest first.
    monkeypatch.setattr(backfill, "IMPORT_BATCH", 2)
    batches = []
    read_batch = backfill._due_batch
    monkeypatch.setattr(backfill, "_due_batch", lambda *a: batches.append(read_batch(*a)) or batches[-1])
    result = run(cfg, "backfill", "--store", "us", "--since", since, "--until", until, env=credentials_env(bridge))
    assert result.exit_code == 0, result.output
    assert [[row[0] for row in batch] for batch in batches] == [
        [o["orderId"] for o in orders[:2]], [o["orderId"] for o in orders[2:4]], [orders[4]["orderId"]], []]
    assert "Import Orders Placed From moves" in result.output
    assert "done: 5 orders seen, 5 imported, 0 in error" in result.output
    assert "importing 5/5" in result.output and "orders/min" in result.output and "ETA" in result.output
    assert len(bridge.magento_orders()) == 5
    # The same range again: the run is finished, a new one finds nothing left to import.
    again = run(cfg, "backfill", "--store", "us", "--since", since, "--until", until, env=credentials_env(bridge))
    assert "0 imported" in again.output and len(bridge.magento_orders()) == 5


def test_backfill_resumes_from_the_saved_page_after_a_crash(bridge, cfg, monkeypatch):
    from bridge.amazon import client as client_module

    bridge.add_products(PRODUCTS)
    bridge.seed_amazon(_old_orders(5, 40))
    config = write_config(Path(cfg).with_name("small.toml"), bridge.runtime.settings)
    with open(config, "a") as fh:  # two orders per page, so the listing has pages to resume between
        fh.write("[sync]\npage_size = 2\n")
    original = client_module.AmazonClient.search_orders
    calls = {"n": 0}

    def crash_on_second_page(self, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the listing
        return original(self, **kwargs)

    since = (datetime.now(UTC) - timedelta(days=41)).strftime("%Y-%m-%d")
    monkeypatch.setattr(client_module.AmazonClient, "search_orders", crash_on_second_page)
    first = run(config, "backfill", "--store", "us", "--since", since, env=credentials_env(bridge))
    assert first.exit_code == 130
    assert "run the same command again to resume run 1 where it stopped" in first.output
    with bridge.runtime.db.session() as session:
        saved = session.scalar(select(BackfillRun))
        assert saved.pages == 1 and saved.next_token and saved.state == "running"
    tokens = []

    def record_tokens(self, **kwargs):
        tokens.append(kwargs.get("pagination_token"))
        return original(self, **kwargs)

    monkeypatch.setattr(client_module.AmazonClient, "search_orders", record_tokens)
    second = run(config, "backfill", "--store", "us", "--since", since, env=credentials_env(bridge))
    assert second.exit_code == 0, second.output
    assert "resuming run" in second.output
    assert tokens[0] == saved.next_token  # not the first page again
    assert len(bridge.magento_orders()) == 5


def _copy_commerce_order(bridge, entity_id: int, ext_order_id: str) -> None:
    """A Commerce order made by hand (or by another tool) through Magento's REST API."""
    body = bridge.magento_order(entity_id)

    def strip(value):
        if isinstance(value, dict):
            for key in ("entity_id", "increment_id", "item_id", "order_id", "parent_id", "shipping_address_id",
                        "shipping_method"):
                value.pop(key, None)
            for nested in value.values():
                strip(nested)
        elif isinstance(value, list):
            for nested in value:
                strip(nested)

    strip(body)
    body["ext_order_id"] = ext_order_id
    bridge.magento.session().post(f"{bridge.magento.url}/rest/V1/orders", json={"entity": body},
                                  timeout=30).raise_for_status()


def test_reconcile_finds_what_is_missing_and_fix_requeues_it(bridge, cfg):
    bridge.add_products(PRODUCTS)
    orders = _old_orders(3, 2)
    bridge.seed_amazon(orders)
    bridge.sync()
    assert len(bridge.magento_orders()) == 3
    # One more order Amazon has that the sync never saw (e.g. lost while the bridge was down).
    late = v2026_order("111-0000009-0000009", created=datetime.now(UTC) - timedelta(days=1),
                       items=[line("SKU-2", "Other thing", "1", "20.00")])
    bridge.amazon.seed_orders([late])
    bridge.amazon.advance_clock(180)
    # A Commerce order with an Amazon id no store of the bridge knows, and a second one for an imported order.
    first = bridge.magento_orders()[0]
    _copy_commerce_order(bridge, first["entity_id"], "999-9999999-9999999")
    _copy_commerce_order(bridge, first["entity_id"], first["ext_order_id"])

    # Amazon cancels an imported order; its Commerce order is still open.
    bridge.amazon.set_status(orders[1]["orderId"], "CANCELLED", cancelledBy="BUYER", reason="changed my mind")
    bridge.amazon.advance_clock(180)

    since = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d")
    result = run(cfg, "reconcile", "--store", "us", "--since", since, env=credentials_env(bridge))
    assert result.exit_code == 2, result.output
    assert "missing_in_commerce" in result.output and "111-0000009-0000009" in result.output
    with bridge.runtime.db.session() as s:
        run_ = s.scalar(select(ReconcileRun).order_by(ReconcileRun.id.desc()))
        kinds = {f.kind for f in run_.findings}
    assert kinds == {"missing_in_commerce", "unknown_to_bridge", "duplicate", "status_differs"}
    assert f"{orders[1]['orderId']}" in result.output and "Amazon: Canceled; Commerce: processing" in result.output

    # The admin shows the saved run, finding by finding.
    from admin_ui import create_app
    from tests.test_ops_web import signed_in

    app = create_app(bridge.runtime.settings, runtime=bridge.runtime, test_config={"TESTING": True})
    client = signed_in(app, bridge.runtime)
    assert f'href="/status/reconcile/{run_.id}"' in client.get("/status").get_data(as_text=True)
    page = client.get(f"/status/reconcile/{run_.id}").get_data(as_text=True)
    assert "missing in commerce" in page and "111-0000009-0000009" in page and "999-9999999-9999999" in page

    fixed = run(cfg, "reconcile", "--store", "us", "--since", since, "--fix", env=credentials_env(bridge))
    assert fixed.exit_code == 0, fixed.output
    assert "1 order(s) re-queued for import" in fixed.output
    with bridge.runtime.db.session() as s:
        record = s.scalar(select(AmazonOrderRecord).where(AmazonOrderRecord.amazon_order_id == "111-0000009-0000009"))
        assert record.import_state == "queued"
    from jobs.queues import ORDERS, queue

    assert len(queue(ORDERS, bridge.runtime.redis)) == 1


def test_status_and_retry(bridge, cfg):
    bridge.add_products(PRODUCTS)
    unknown = v2026_order("111-0000077-0000077", created=datetime.now(UTC) - timedelta(days=1),
                          items=[line("NOPE", "Unknown", "1", "5.00")])
    bridge.seed_amazon([unknown] + _old_orders(2, 1))
    bridge.sync()
    result = run(cfg, "status", env=credentials_env(bridge))
    assert result.exit_code == 0, result.output
    assert "us: last good sync" in result.output and "in error 1" in result.output
    assert "queues: sync 0 queued" in result.output
    retried = run(cfg, "retry", "--store", "us", "--errors", env=credentials_env(bridge))
    assert retried.exit_code == 0
    assert "1 order(s) due now, 1 import job(s) queued" in retried.output
    from jobs.queues import ORDERS, queue

    assert len(queue(ORDERS, bridge.runtime.redis)) == 1


def test_every_command_has_help():
    import click

    runner = CliRunner()
    seen = []

    def walk(command, path):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage:" in result.output, path
        seen.append(" ".join(path))
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])

    walk(main, [])
    for name in ("doctor", "status", "retry", "backfill", "reconcile", "demo", "web", "db upgrade", "stores add"):
        assert name in seen


def test_backfill_takes_from_the_sync_s_rate_limit_buckets(bridge, cfg):
    bridge.add_products(PRODUCTS)
    bridge.seed_amazon(_old_orders(2, 20))
    since = (datetime.now(UTC) - timedelta(days=21)).strftime("%Y-%m-%d")
    bridge.runtime.redis.flushdb()
    result = run(cfg, "backfill", "--store", "us", "--since", since, env=credentials_env(bridge))
    assert result.exit_code == 0, result.output
    keys = {k.decode() for k in bridge.runtime.redis.keys("amazon-bridge:throttle:*")}
    # The very bucket the sync's AmazonClient uses for this seller and operation.
    assert any(k.startswith(f"amazon-bridge:throttle:{bridge.amazon.seller_id}:searchOrders") for k in keys), keys


def test_the_scheduler_queues_one_reconcile_per_store_per_day(bridge):
    from jobs.ops_tasks import enqueue_daily_reconcile, reconcile_job_id
    from jobs.queues import SYNC, queue

    day = datetime(2026, 11, 29, 3, tzinfo=UTC)
    conn = bridge.runtime.redis
    assert enqueue_daily_reconcile(bridge.runtime, day) == [bridge.store_id]
    assert enqueue_daily_reconcile(bridge.runtime, day + timedelta(hours=20)) == []
    assert queue(SYNC, conn).get_job_ids() == [reconcile_job_id(bridge.store_id)]
    queue(SYNC, conn).empty()
    assert enqueue_daily_reconcile(bridge.runtime, day + timedelta(days=1)) == [bridge.store_id]


def test_the_daily_reconcile_job_saves_its_findings(bridge, monkeypatch):
    import jobs.context
    from jobs.ops_tasks import reconcile_store

    bridge.add_products(PRODUCTS)
    bridge.seed_amazon(_old_orders(2, 1))
    monkeypatch.setattr(jobs.context, "runtime", lambda: bridge.runtime)
    monkeypatch.setattr("jobs.ops_tasks.runtime", lambda: bridge.runtime)
    result = reconcile_store(bridge.store_id)
    with bridge.runtime.db.session() as session:
        saved = session.get(ReconcileRun, result["run_id"])
        assert saved.actor == "scheduler" and saved.result == "ok" and saved.amazon_orders == 2
        assert {f.kind for f in saved.findings} == {"missing_in_commerce"}


def test_the_daily_reconcile_during_an_amazon_outage_ends_and_comes_back_later(bridge, monkeypatch):
    """503 on every Amazon call: the job ends (no failed job for an operator) and the day's claim is shortened,
    so the scheduler queues the reconcile again after RECONCILE_RETRY_SECONDS instead of skipping the day."""
    from jobs.ops_tasks import (
        RECONCILE_DAY_KEY,
        RECONCILE_DONE_KEY,
        RECONCILE_RETRY_SECONDS,
        enqueue_daily_reconcile,
        reconcile_store,
    )
    from jobs.queues import SYNC, queue

    monkeypatch.setattr("jobs.ops_tasks.runtime", lambda: bridge.runtime)
    now = datetime.now(UTC)
    conn = bridge.runtime.redis
    assert enqueue_daily_reconcile(bridge.runtime, now) == [bridge.store_id]
    bridge.amazon.set_faults(rate_503=1.0)
    result = reconcile_store(bridge.store_id)
    assert result["retry_in_seconds"] == RECONCILE_RETRY_SECONDS and "503" in result["reason"]
    day_key = RECONCILE_DAY_KEY.format(store_id=bridge.store_id, day=now.strftime("%Y-%m-%d"))
    done_key = RECONCILE_DONE_KEY.format(day=now.strftime("%Y-%m-%d"))
    assert 0 < conn.ttl(day_key) <= RECONCILE_RETRY_SECONDS and 0 < conn.ttl(done_key) <= RECONCILE_RETRY_SECONDS
    queue(SYNC, conn).empty()  # the job ran (here: called in-process)
    conn.delete(day_key, done_key)  # the shortened claims have run out
    assert enqueue_daily_reconcile(bridge.runtime, now) == [bridge.store_id]


def test_the_daily_reconcile_with_bad_credentials_fails_for_a_person(bridge, monkeypatch):
    """What needs a person (Amazon refuses the refresh token) still fails the job, with Amazon's words."""
    from bridge.amazon.errors import AmazonAuthError
    from jobs.ops_tasks import reconcile_store
    from tests.harness import REFRESH_TOKEN_ENV

    monkeypatch.setattr("jobs.ops_tasks.runtime", lambda: bridge.runtime)
    monkeypatch.setenv(REFRESH_TOKEN_ENV, "not-a-token")
    with pytest.raises(AmazonAuthError):
        reconcile_store(bridge.store_id)


@pytest.mark.slow
def test_backfill_killed_with_sigkill_resumes_from_its_saved_page(bridge, cfg):
    """SIGKILL of the whole process group while the backfill waits for Amazon's rate limit (20 pages in a
    burst, then one page every three minutes): the next run starts at page 21, and every order is created
    once."""
    import os
    import signal
    import subprocess
    import time

    from tests.test_workers import ROOT

    bridge.add_products(PRODUCTS)
    orders = _old_orders(23, 30)
    bridge.seed_amazon(orders)
    config = write_config(Path(cfg).with_name("pages.toml"), bridge.runtime.settings)
    with open(config, "a") as fh:
        fh.write("[sync]\npage_size = 1\n")
    env = dict(os.environ, **credentials_env(bridge), AMAZON_BRIDGE_RATE_SCALE="1")
    since = (datetime.now(UTC) - timedelta(days=31)).strftime("%Y-%m-%d")
    args = [sys.executable, "-m", "bridge", "--config", config, "backfill", "--store", "us", "--since", since]
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        for _ in range(600):  # until the run has stored its 20th page (then it waits for the bucket)
            with bridge.runtime.db.session() as session:
                run_ = session.scalar(select(BackfillRun))
                pages = run_.pages if run_ else 0
            if pages >= 20:
                break
            assert process.poll() is None, process.stdout.read().decode()
            time.sleep(0.1)
        assert process.poll() is None
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with bridge.runtime.db.session() as session:
        saved = session.scalar(select(BackfillRun))
        assert (saved.pages, saved.state, saved.listed) == (20, "running", False) and saved.next_token
    assert bridge.magento_orders() == []  # still listing when it died

    bridge.amazon.advance_clock(600)  # time passes: Amazon's bucket refills, and so does the shared one
    for key in bridge.runtime.redis.keys("amazon-bridge:throttle:*"):
        bridge.runtime.redis.delete(key)
    resumed = run(config, "backfill", "--store", "us", "--since", since,
                  env=credentials_env(bridge) | {"AMAZON_BRIDGE_RATE_SCALE": "1000"})
    assert resumed.exit_code == 0, resumed.output
    assert "resuming run 1" in resumed.output
    assert "done: 23 orders seen, 23 imported, 0 in error" in resumed.output
    ext_ids = [o["ext_order_id"] for o in bridge.magento_orders()]
    assert sorted(ext_ids) == sorted(o["orderId"] for o in orders)
    with bridge.runtime.db.session() as session:
        assert session.scalar(select(BackfillRun)).pages == 23  # pages 21-23 only, not 1-20 again
