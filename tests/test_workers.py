"""Real RQ worker processes, the scheduler and the CLI, against the twins and the real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from rq import Queue
from rq.job import Job

from jobs import queues
from jobs.scheduler import LEADER_KEY, Scheduler
from sandbox.amazon.generator import generate_catalog, generate_orders
from tests.harness import REFRESH_TOKEN_ENV, v2026_order
from tests.processes import kill_tree
from tests.test_import_pipeline import source_quantity

ROOT = Path(__file__).resolve().parent.parent


def write_config(bridge, path: Path, *, lease_seconds: int = 300) -> dict[str, str]:
    """The config file and environment a deployment would give its workers, pointing at the twins."""
    s = bridge.runtime.settings
    path.write_text(
        f'[database]\nurl = "{s.database.url}"\n[redis]\nurl = "{s.redis.url}"\n'
        f'[magento]\nbase_url = "{s.magento.base_url}"\n'
        f'[amazon]\nendpoint = "{s.amazon.endpoint}"\noauth_endpoint = "{s.amazon.oauth_endpoint}"\n'
        f'[admin]\npublic_base_url = "{s.admin.public_base_url}"\n'
        f"[sync]\nclaim_lease_seconds = {lease_seconds}\n"
    )
    env = dict(os.environ)
    env.update({
        "AMAZON_BRIDGE_CONFIG": str(path),
        "AMAZON_BRIDGE_RATE_SCALE": str(bridge.runtime.amazon_rate_scale),
        "MAGENTO_CONSUMER_KEY": s.magento.consumer_key,
        "MAGENTO_CONSUMER_SECRET": s.magento.consumer_secret,
        "MAGENTO_ACCESS_TOKEN": s.magento.access_token,
        "MAGENTO_ACCESS_TOKEN_SECRET": s.magento.access_token_secret,
        "AMAZON_LWA_CLIENT_ID": s.amazon.client_id,
        "AMAZON_LWA_CLIENT_SECRET": s.amazon.client_secret,
        REFRESH_TOKEN_ENV: bridge.amazon.refresh_token,
    })
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bridge", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.mark.parametrize("mode", [[], ["--fork"]], ids=["jobs-in-the-worker", "work-horse-per-job"])
def test_two_worker_processes_import_every_order_exactly_once(bridge, tmp_path, mode):
    catalog = generate_catalog(5, 10)
    bridge.add_products([(p.sku, p.name, p.price) for p in catalog])
    orders = generate_orders(30, 5, catalog, marketplaces=("US",), afn_rate=0.0)
    bridge.seed_amazon(orders)
    env = write_config(bridge, tmp_path / "config.toml")
    queues.enqueue_sync(bridge.runtime.redis, bridge.store_id)

    logs = [open(tmp_path / f"worker{i}.log", "wb") for i in range(2)]  # noqa: SIM115
    workers = [
        subprocess.Popen([sys.executable, "-m", "bridge", "worker", "--burst", *mode, "--name",
                          f"test-w{i}-{os.getpid()}"], env=env, cwd=ROOT, stdout=logs[i], stderr=subprocess.STDOUT)
        for i in range(2)
    ]
    try:
        for w in workers:
            w.wait(timeout=240)
    finally:
        for w, log in zip(workers, logs, strict=True):
            if w.poll() is None:
                kill_tree(w.pid)
            log.close()

    importable = {o["orderId"] for o in orders
                  if o["fulfillment"]["fulfillmentStatus"] in ("UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED")}
    magento_orders = bridge.magento_orders()
    ext_ids = [o["ext_order_id"] for o in magento_orders]
    assert len(ext_ids) == len(set(ext_ids)), "an Amazon order became two Commerce orders"
    assert set(ext_ids) == importable
    failed = Queue(queues.ORDERS, connection=bridge.runtime.redis).failed_job_registry
    assert failed.count == 0


def test_sync_once_cli_pulls_and_imports_in_process(bridge, tmp_path):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000020-0000001"), v2026_order("111-0000020-0000002", status="PENDING")])
    env = write_config(bridge, tmp_path / "config.toml")
    result = run_cli(["sync", "--store", "us", "--once"], env)
    assert result.returncode == 0, result.stderr
    assert "2 orders seen, 1 due, 1 imported, 0 in error" in result.stdout
    assert len(bridge.magento_orders()) == 1


def test_a_worker_given_queues_works_only_those(bridge, tmp_path):
    """`worker --queue sync` runs the sync and leaves the import jobs it dispatched to the orders workers."""
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000021-0000001")])
    env = write_config(bridge, tmp_path / "config.toml")
    queues.enqueue_sync(bridge.runtime.redis, bridge.store_id)
    result = run_cli(["worker", "--burst", "--queue", "sync", "--name", f"sync-only-{os.getpid()}"], env)
    assert result.returncode == 0, result.stderr
    orders = Queue(queues.ORDERS, connection=bridge.runtime.redis)
    assert orders.job_ids == [queues.import_job_id(bridge.store_id, "111-0000021-0000001")]
    assert bridge.magento_orders() == []
    assert run_cli(["worker", "--burst", "--queue", "orders", "--name", f"orders-{os.getpid()}"], env).returncode == 0
    assert [o["ext_order_id"] for o in bridge.magento_orders()] == ["111-0000021-0000001"]
    refused = run_cli(["worker", "--queue", "imports"], env)
    assert refused.returncode != 0 and "'imports' is not one of 'sync', 'orders', 'actions'" in refused.stderr


def test_cli_refuses_a_wrong_setting_naming_the_key(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[sync]\nschedule = "often"\n')
    result = run_cli(["--config", str(path), "sync", "--store", "us", "--once"], dict(os.environ))
    assert result.returncode != 0
    assert "sync.schedule" in result.stderr


def test_one_scheduler_enqueues_each_tick_once_and_a_standby_takes_over(bridge):
    conn = bridge.runtime.redis
    first = Scheduler(bridge.runtime, name="first")
    second = Scheduler(bridge.runtime, name="second")
    assert first.is_leader()
    assert not second.is_leader()  # started by mistake: it does no harm
    tick = datetime(2026, 11, 26, 12, 5, tzinfo=UTC)
    assert first.enqueue_due(tick) == [bridge.store_id]
    assert first.enqueue_due(tick + timedelta(seconds=30)) == []  # same tick: nothing more
    assert second.enqueue_due(tick) == []  # even a second leader could not queue the tick twice
    assert len(Queue(queues.SYNC, connection=conn)) == 1

    conn.delete(LEADER_KEY)  # the first scheduler died and its lease ran out
    assert second.is_leader()
    Job.fetch(queues.sync_job_id(bridge.store_id), connection=conn).delete()
    assert second.enqueue_due(tick + timedelta(minutes=5)) == [bridge.store_id]


def test_a_sync_already_queued_is_not_queued_twice(bridge):
    conn = bridge.runtime.redis
    assert queues.enqueue_sync(conn, bridge.store_id) is not None
    assert queues.enqueue_sync(conn, bridge.store_id) is None
    assert len(Queue(queues.SYNC, connection=conn)) == 1


def test_worker_killed_with_its_work_horse_mid_create_leaves_nothing_doubled(bridge, tmp_path):
    """SIGKILL of the worker's whole tree while Magento is still saving a create: that order is linked, never
    created again, and the rest import once."""
    bridge.set_settings(stock_handling="decrement_source", reserve_pending=False)
    bridge.add_products([("SKU-1", "Thing", "10.00")], qty=100)
    ids = [f"111-0000021-{n:07d}" for n in range(6)]  # two of SKU-1 each
    bridge.seed_amazon([v2026_order(i) for i in ids])
    env = write_config(bridge, tmp_path / "config.toml", lease_seconds=1)
    bridge.magento.set_faults(rate_save_late=1.0, save_late_seconds=10)  # the first create is still running...
    queues.enqueue_sync(bridge.runtime.redis, bridge.store_id)
    worker = subprocess.Popen([sys.executable, "-m", "bridge", "worker", "--name", f"victim-{os.getpid()}"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while bridge.magento.stats()["routes"].get("(create held)", 0) < 1:
            assert time.monotonic() < deadline and worker.poll() is None, "the worker never sent a create"
            time.sleep(0.05)
        bridge.magento.set_faults(rate_save_late=0.0)
        horse_seen = len(psutil.Process(worker.pid).children(recursive=True)) > 0
    finally:
        killed = kill_tree(worker.pid)  # ...when the worker and its work-horse die
    assert horse_seen and len(killed) >= 2
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in killed)
    time.sleep(1.5)  # the dead worker's claim expires (lease 1 s)

    # The scheduler's next pass, while Magento may still save the first create: nothing is created twice.
    result = run_cli(["sync", "--store", "us", "--once"], env)
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 60
    while bridge.magento.stats()["routes"].get("(create held: handled)", 0) < 1:  # Magento saves it now
        assert time.monotonic() < deadline, "the held create was never saved"
        time.sleep(0.05)
    result = run_cli(["sync", "--store", "us", "--once"], env)
    assert result.returncode == 0, result.stderr

    ext_ids = [o["ext_order_id"] for o in bridge.magento_orders()]
    assert sorted(ext_ids) == sorted(ids), "an Amazon order became two Commerce orders, or none"
    assert {bridge.record(i).import_state for i in ids} == {"imported"}
    assert source_quantity(bridge, "SKU-1") == 100 - 6 * 2  # each order's stock taken exactly once
