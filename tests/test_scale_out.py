"""Scale-out as docs/operations.md describes it: PostgreSQL, several workers (as on several hosts) sharing
one Redis, two schedulers of which exactly one acts. Every order becomes exactly one Commerce order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from rq import Queue
from rq.job import Job
from sqlalchemy import func, select

from bridge.storage.models import AmazonOrderRecord
from jobs import queues
from jobs.scheduler import LEADER_KEY
from sandbox.amazon.generator import generate_catalog, generate_orders
from tests.conftest import _drop_postgres_database, _fresh_postgres_database
from tests.harness import make_bridge
from tests.test_workers import ROOT, write_config

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pg_bridge(postgres_admin_url, redis_url, magento_twin, amazon_twin, monkeypatch):
    url = _fresh_postgres_database(postgres_admin_url)
    b = make_bridge(database_url=url, redis_url=redis_url, magento=magento_twin, amazon=amazon_twin,
                    monkeypatch=monkeypatch)
    yield b
    b.runtime.close()
    _drop_postgres_database(postgres_admin_url, url)


def _start(args, env, log_path):
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([sys.executable, "-m", "bridge", *args], env=env, cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    process.log = log
    return process


def _stop_all(processes) -> None:
    """SIGTERM to all at once (so no standby scheduler takes over during the shutdown), then wait."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # workers: warm shutdown, the running job finishes
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.log.close()


def test_three_workers_two_schedulers_on_postgresql(pg_bridge, tmp_path):
    bridge = pg_bridge
    catalog = generate_catalog(11, 10)
    bridge.add_products([(p.sku, p.name, p.price) for p in catalog])
    orders = generate_orders(40, 11, catalog, marketplaces=("US",), afn_rate=0.0)
    bridge.seed_amazon(orders)
    importable = {o["orderId"] for o in orders
                  if o["fulfillment"]["fulfillmentStatus"] in ("UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED")}
    env = write_config(bridge, tmp_path / "config.toml")
    with open(tmp_path / "config.toml", "a") as fh:
        fh.write('schedule = "* * * * *"\n')  # appended to [sync]

    processes = [_start(["worker", "--name", f"host{i}-worker"], env, tmp_path / f"worker{i}.log") for i in range(3)]
    processes += [_start(["scheduler", "--poll", "0.5"], env, tmp_path / f"scheduler{i}.log") for i in range(2)]
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with bridge.runtime.db.session() as session:
                done = session.scalar(select(func.count()).where(
                    AmazonOrderRecord.import_state == "imported"))
            if done >= len(importable):
                break
            for p in processes:
                assert p.poll() is None, (tmp_path / "worker0.log").read_text()[-3000:]
            time.sleep(0.5)
        leader = bridge.runtime.redis.get(LEADER_KEY)
    finally:
        _stop_all(processes)

    ext_ids = [o["ext_order_id"] for o in bridge.magento_orders()]
    assert len(ext_ids) == len(set(ext_ids)), "an Amazon order became two Commerce orders"
    assert set(ext_ids) == importable
    # Exactly one scheduler acted: one leader, and the other says it stood by.
    assert leader is not None
    leaders = [i for i in range(2) if "is now the leader" in (tmp_path / f"scheduler{i}.log").read_text()]
    assert len(leaders) == 1, leaders
    # The imports were shared out between the workers (as between hosts).
    conn = bridge.runtime.redis
    finished = Queue(queues.ORDERS, connection=conn).finished_job_registry.get_job_ids()
    names = {Job.fetch(job_id, connection=conn).worker_name for job_id in finished}
    assert len(names - {None}) >= 2, names
    assert Queue(queues.ORDERS, connection=conn).failed_job_registry.count == 0
