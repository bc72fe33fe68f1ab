"""No stall outlives its cause: killed holders, lost jobs, Amazon outages and Redis restarts, proven with
SIGKILL of whole process trees (RQ's work-horse calls setpgrp) and a real redis-server killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from bridge.outage import current_outage
from bridge.service import SYNC_LEASE_SECONDS, SYNC_LOCK_KEY, AmazonUnavailable, sync_store
from jobs import queues
from jobs.scheduler import Scheduler
from tests.harness import make_bridge, v2026_order
from tests.redis_server import PrivateRedis
from tests.test_workers import write_config

ROOT = Path(__file__).resolve().parent.parent


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """A bridge process in its own process group, so one killpg takes it with its work-horse."""
    log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen([sys.executable, "-m", "bridge", *args], env=env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def kill_tree(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def wait_until(condition, timeout: float, what: str, step: float = 0.2, between=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if between is not None:
            between()
        time.sleep(step)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def imported_ids(bridge) -> list[str]:
    return [o["ext_order_id"] for o in bridge.magento_orders()]


def run_sweeps(scheduler: Scheduler) -> None:
    """What the leader does between ticks (the ticks themselves are left out: recovery must not need one)."""
    now = datetime.now(UTC)
    for sweep in scheduler.sweeps:
        sweep(now)


# -- leases --------------------------------------------------------------------------------------------


LEASE_HOLDER = """
import sys, time
from redis import Redis
from bridge.lease import Lease
lease = Lease(Redis.from_url(sys.argv[1]), sys.argv[2], ttl=float(sys.argv[3]))
assert lease.acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_lease_is_renewed_while_its_holder_lives_and_frees_soon_after_a_sigkill(redis_url, redis_conn):
    name = f"test:lease:{os.getpid()}"
    ttl = 1.0
    holder = subprocess.Popen([sys.executable, "-c", LEASE_HOLDER, redis_url, name, str(ttl)], cwd=ROOT,
                              stdout=subprocess.PIPE, start_new_session=True, env=dict(os.environ))
    try:
        assert holder.stdout.readline().strip() == b"held"
        token = redis_conn.get(name)
        for _ in range(4):  # four lifetimes of the lease: the heartbeat keeps it, with the same holder
            time.sleep(ttl)
            assert redis_conn.get(name) == token
            assert 0 < redis_conn.pttl(name) <= ttl * 1000
    finally:
        kill_tree(holder)
    wait_until(lambda: not redis_conn.exists(name), 10 * ttl, "the dead holder's lease ran out")


# -- a worker SIGKILLed in the middle of a sync ------------------------------------------------------


def test_a_sync_killed_with_its_worker_is_picked_up_again_without_a_tick(bridge, tmp_path):
    """The worker dies holding the store's sync lease (Amazon is slow to answer): the lease is short, the
    abandoned job is found by the scheduler's sweep, and the store syncs again with no cron tick."""
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    orders = [v2026_order(f"111-0000031-{n:07d}") for n in range(5)]
    bridge.seed_amazon(orders)
    env = write_config(bridge, tmp_path / "config.toml")
    conn = bridge.runtime.redis
    lock_key = SYNC_LOCK_KEY.format(store_id=bridge.store_id)
    bridge.amazon.set_faults(rate_timeout=1.0, timeout_seconds=20)  # every SP-API call hangs for 20 s
    queues.enqueue_sync(conn, bridge.store_id)
    victim = spawn(["worker", "--name", f"victim-{os.getpid()}"], env, tmp_path / "victim.log")
    try:
        wait_until(lambda: conn.exists(lock_key), 60, "the sync took the store's lease")
        assert 0 < conn.pttl(lock_key) <= SYNC_LEASE_SECONDS * 1000  # short: not the hour it was
        job = Job.fetch(queues.sync_job_id(bridge.store_id), connection=conn)
        assert job.get_status(refresh=True) == "started"
    finally:
        kill_tree(victim)  # the worker and its work-horse, mid-call
    bridge.amazon.set_faults(rate_timeout=0.0)

    scheduler = Scheduler(bridge.runtime, name="test-scheduler")
    rescuer = spawn(["worker", "--name", f"rescuer-{os.getpid()}"], env, tmp_path / "rescuer.log")
    try:
        wait_until(lambda: len(imported_ids(bridge)) == len(orders), 150,
                   "the store synced again after the kill", step=1.0, between=lambda: run_sweeps(scheduler))
    finally:
        kill_tree(rescuer)
    ext_ids = imported_ids(bridge)
    assert sorted(ext_ids) == sorted(o["orderId"] for o in orders)  # each exactly once
    assert not conn.exists(lock_key)


# -- orders the database says are queued, with no job --------------------------------------------------


def test_orders_queued_in_the_database_with_no_job_are_queued_again_once(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    orders = [v2026_order(f"111-0000032-{n:07d}") for n in range(4)]
    bridge.seed_amazon(orders)
    lost: list[str] = []
    sync_store(bridge.runtime, bridge.store_id, dispatch=lost.extend)  # the jobs were never queued
    assert sorted(lost) == sorted(o["orderId"] for o in orders)
    conn = bridge.runtime.redis
    scheduler = Scheduler(bridge.runtime, name="test-scheduler")
    now = datetime.now(UTC)
    assert sorted(scheduler.requeue_orphaned_imports(now)) == sorted(lost)
    assert scheduler.requeue_orphaned_imports(now) == []  # their jobs are pending now: nothing twice
    assert len(Queue(queues.ORDERS, connection=conn)) == len(orders)

    conn.flushdb()  # Redis came back empty (restart without persistence): the queue is rebuilt
    assert sorted(scheduler.requeue_orphaned_imports(now)) == sorted(lost)
    assert len(Queue(queues.ORDERS, connection=conn)) == len(orders)


def test_orders_in_error_are_swept_at_ticks_not_at_every_poll(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000033-0000001"), v2026_order("111-0000033-0000002")])
    sync_store(bridge.runtime, bridge.store_id, dispatch=lambda ids: None)
    from bridge.storage.models import AmazonOrderRecord

    with bridge.runtime.db.session() as session:
        record = session.query(AmazonOrderRecord).filter_by(amazon_order_id="111-0000033-0000001").one()
        record.import_state = "error"  # failed before; every sync (each tick) retries it, as ASC does
        session.commit()
    scheduler = Scheduler(bridge.runtime, name="test-scheduler")
    now = datetime.now(UTC)
    assert scheduler.requeue_orphaned_imports(now) == ["111-0000033-0000002"]  # a poll: queued ones only
    assert scheduler.requeue_orphaned_imports(now, include_errors=True) == ["111-0000033-0000001"]


# -- Amazon outages --------------------------------------------------------------------------------------


def test_an_amazon_outage_ends_the_sync_at_once_and_the_scheduler_retries_after_the_back_off(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000034-0000001")])
    bridge.amazon.set_faults(rate_503=1.0)
    with pytest.raises(AmazonUnavailable, match="Amazon unavailable") as info:
        bridge.sync()
    calls = bridge.amazon.stats()["calls"]
    assert sum(calls.values()) <= 5  # a few quick retries, not minutes of them in the worker
    outage = current_outage(bridge.runtime.redis, bridge.store_id)
    assert outage is not None and outage.retry_pending and outage.until == info.value.outage.until
    assert outage.until - datetime.now(UTC) <= timedelta(seconds=60)

    conn = bridge.runtime.redis
    scheduler = Scheduler(bridge.runtime, name="test-scheduler")
    before = outage.until - timedelta(seconds=1)
    assert scheduler.retry_after_outage(before) == []
    assert scheduler.enqueue_due(before) == []  # the tick leaves a backing-off store to its retry
    assert len(Queue(queues.SYNC, connection=conn)) == 0
    assert scheduler.retry_after_outage(outage.until) == [bridge.store_id]
    assert scheduler.retry_after_outage(outage.until) == []  # queued once
    assert len(Queue(queues.SYNC, connection=conn)) == 1

    bridge.amazon.set_faults(rate_503=0.0)  # the outage is over: the next sync works and forgets it
    bridge.sync()
    assert current_outage(conn, bridge.store_id) is None
    assert imported_ids(bridge) == ["111-0000034-0000001"]


def test_repeated_outages_back_off_longer_but_never_past_a_minute(bridge):
    bridge.amazon.set_faults(rate_503=1.0)
    waits = []
    for _ in range(5):
        with pytest.raises(AmazonUnavailable) as info:
            bridge.sync()
        waits.append(info.value.outage.until - datetime.now(UTC))
    assert waits[0] < waits[1] < waits[2]
    assert all(w <= timedelta(seconds=60) for w in waits)


def test_a_sync_turned_away_by_a_held_lease_runs_again_once_the_lease_is_free(bridge):
    conn = bridge.runtime.redis
    lock_key = SYNC_LOCK_KEY.format(store_id=bridge.store_id)
    conn.set(lock_key, "a killed worker's", px=60_000)
    from bridge.service import SyncBusy

    with pytest.raises(SyncBusy):
        bridge.sync()
    scheduler = Scheduler(bridge.runtime, name="test-scheduler")
    assert scheduler.retry_turned_away_syncs(datetime.now(UTC)) == []  # still held
    conn.delete(lock_key)  # it ran out
    assert scheduler.retry_turned_away_syncs(datetime.now(UTC)) == [bridge.store_id]
    assert scheduler.retry_turned_away_syncs(datetime.now(UTC)) == []


# -- Redis restarts ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_worker_and_scheduler_survive_a_redis_restart(sqlite_url, magento_twin, amazon_twin, monkeypatch, tmp_path):
    own = PrivateRedis(str(tmp_path)).start()  # this test's own server, restarted on the same port
    bridge = make_bridge(database_url=sqlite_url, redis_url=own.url, magento=magento_twin, amazon=amazon_twin,
                         monkeypatch=monkeypatch)
    processes: list[subprocess.Popen] = []
    try:
        bridge.add_products([("SKU-1", "Thing", "10.00")])
        first = [v2026_order(f"111-0000035-{n:07d}") for n in range(3)]
        bridge.seed_amazon(first)
        env = write_config(bridge, tmp_path / "config.toml")
        with open(tmp_path / "config.toml", "a") as config:
            config.write('schedule = "* * * * *"\n')  # (appends to the [sync] table)
        processes.append(spawn(["worker", "--name", f"survivor-{os.getpid()}"], env, tmp_path / "worker.log"))
        processes.append(spawn(["scheduler", "--poll", "1"], env, tmp_path / "scheduler.log"))
        wait_until(lambda: len(imported_ids(bridge)) == 3, 120, "the first orders imported", step=0.5)

        # The worker is busy when Redis dies: a sync hangs on a slow Amazon call, holding the store's lease.
        conn = bridge.runtime.redis
        bridge.amazon.set_faults(rate_timeout=1.0, timeout_seconds=4)
        queues.enqueue_sync(conn, bridge.store_id)
        wait_until(lambda: conn.exists(SYNC_LOCK_KEY.format(store_id=bridge.store_id)), 60, "the sync is running")
        port = own.port
        own.kill()
        time.sleep(3)  # both processes meet the refused connection
        own.start(port=port)
        assert Redis.from_url(own.url).dbsize() == 0  # it came back empty: every queue and lock is gone
        bridge.amazon.set_faults(rate_timeout=0.0)

        second = [v2026_order(f"111-0000036-{n:07d}") for n in range(3)]
        bridge.seed_amazon(second)
        wait_until(lambda: len(imported_ids(bridge)) == 6, 150, "the orders after the restart imported", step=0.5)
        assert all(p.poll() is None for p in processes), "a process exited on the Redis restart"
        ext_ids = imported_ids(bridge)
        assert sorted(ext_ids) == sorted(o["orderId"] for o in first + second)
    finally:
        for p in processes:
            kill_tree(p)
        bridge.runtime.close()
        own.stop()


# -- an order's import claim -------------------------------------------------------------------------------

CLAIM_HOLDER = """
import sys, time
from bridge.runtime import Runtime
from bridge.service import make_importer
importer = make_importer(Runtime.from_config(sys.argv[1]))
assert importer.claim(int(sys.argv[2]), sys.argv[3])
print("claimed", flush=True)
time.sleep(600)
"""


def test_an_import_claim_is_renewed_while_the_importer_lives_and_frees_after_a_sigkill(bridge, tmp_path):
    from bridge.service import make_importer

    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000037-0000001")])
    sync_store(bridge.runtime, bridge.store_id, dispatch=lambda ids: None)  # queued, not imported
    lease = 1
    env = write_config(bridge, tmp_path / "config.toml", lease_seconds=lease)
    holder = subprocess.Popen([sys.executable, "-c", CLAIM_HOLDER, str(tmp_path / "config.toml"),
                               str(bridge.store_id), "111-0000037-0000001"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, start_new_session=True)
    other = make_importer(bridge.runtime)
    try:
        assert holder.stdout.readline().strip() == b"claimed"
        for _ in range(4):  # four lifetimes of the claim: still the holder's
            time.sleep(lease)
            assert other.claim(bridge.store_id, "111-0000037-0000001") is None
    finally:
        kill_tree(holder)
    token = wait_until(lambda: other.claim(bridge.store_id, "111-0000037-0000001"), 10 * lease,
                       "the killed importer's claim ran out")
    other.release(bridge.store_id, "111-0000037-0000001", token)


def test_an_import_that_failed_is_queued_again_after_a_quiet_time_not_at_every_poll(bridge):
    """Magento down: the order's job failed (its immediate retries spent); the sweep waits before trying again."""
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000038-0000001")])
    sync_store(bridge.runtime, bridge.store_id, dispatch=lambda ids: None)
    conn = bridge.runtime.redis
    scheduler = Scheduler(bridge.runtime, name="test-scheduler")
    now = datetime.now(UTC)
    assert scheduler.requeue_orphaned_imports(now) == ["111-0000038-0000001"]
    job = Job.fetch(queues.import_job_id(bridge.store_id, "111-0000038-0000001"), connection=conn)
    conn.hset(job.key, mapping={"status": "failed", "ended_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    assert scheduler.requeue_orphaned_imports(now + timedelta(seconds=5)) == []
    assert scheduler.requeue_orphaned_imports(now + timedelta(seconds=31)) == ["111-0000038-0000001"]


# -- a failing sync and the ticks ------------------------------------------------------------------------------


def test_a_failed_sync_does_not_block_the_next_tick(bridge):
    """No sync job waits in RQ's scheduled registry for a retry: the next tick queues the store again."""
    conn = bridge.runtime.redis
    scheduler = Scheduler(bridge.runtime, name="test-scheduler")
    tick = datetime(2026, 11, 26, 12, 5, tzinfo=UTC)
    assert scheduler.enqueue_due(tick) == [bridge.store_id]
    job = Job.fetch(queues.sync_job_id(bridge.store_id), connection=conn)
    assert all(interval == 0 for interval in (job.retry_intervals or [0]))  # retries are immediate only
    job.set_status("failed")  # the sync failed (its immediate retry too)
    assert scheduler.enqueue_due(tick + timedelta(minutes=5)) == [bridge.store_id]
    assert Queue(queues.SYNC, connection=conn).scheduled_job_registry.count == 0


def test_cancels_waiting_with_no_job_get_one_but_not_during_an_amazon_outage(bridge):
    from bridge.outage import record_outage
    from bridge.storage.models import AmazonOrderRecord, OutboundAction

    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000039-0000001")])
    bridge.sync()
    with bridge.runtime.db.session() as session:
        record = session.query(AmazonOrderRecord).one()
        session.add(OutboundAction(order_id=record.id, kind="cancel", dedupe_key="cancel", reason="NoInventory",
                                   requested_by="alice"))
        session.commit()
    conn = bridge.runtime.redis
    scheduler = Scheduler(bridge.runtime, name="test-scheduler")
    now = datetime.now(UTC)
    outage = record_outage(conn, bridge.store_id, "503", now)
    assert scheduler.sweep_outbox(now)["outbox"] == []  # Amazon is away: no job that would only fail
    assert scheduler.sweep_outbox(outage.until)["outbox"] == [bridge.store_id]
    assert scheduler.sweep_outbox(outage.until)["outbox"] == []  # its job is pending now
    assert len(Queue(queues.ACTIONS, connection=conn)) == 1


def test_a_job_left_with_a_dangling_execution_record_can_be_queued_again(bridge):
    """RQ 2.12's job.delete() raises when a killed worker's execution record expired before its registry
    entry: the store's sync id must still be queueable (this stopped a scheduler in a chaos run)."""
    conn = bridge.runtime.redis
    job = queues.enqueue_sync(conn, bridge.store_id)
    conn.zadd(job.execution_registry.key, {"gone-with-the-worker": time.time() + 600})
    job.set_status("failed")
    with pytest.raises(ValueError, match="not found in Redis"):
        Job.fetch(job.id, connection=conn).delete()  # what RQ itself does
    assert queues.enqueue_sync(conn, bridge.store_id) is not None
    assert len(Queue(queues.SYNC, connection=conn)) == 1


def _lose_in_dequeue(conn, job: Job, seconds_ago: float) -> None:
    """What a worker SIGKILLed between taking a job off its queue and recording it as started leaves behind
    (seen in the 2,000-order chaos run): the job `queued`, in no queue and no registry."""
    assert conn.lrem(Queue(job.origin, connection=conn).key, 0, job.id) == 1
    _set_enqueued_at(conn, job, seconds_ago)


def _set_enqueued_at(conn, job: Job, seconds_ago: float) -> None:
    enqueued = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    conn.hset(job.key, "enqueued_at", enqueued.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def test_an_import_job_lost_by_a_worker_killed_as_it_took_it_is_queued_again(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    order = v2026_order("111-0000037-0000001")
    bridge.seed_amazon([order])
    sync_store(bridge.runtime, bridge.store_id, dispatch=lambda ids: None)
    conn = bridge.runtime.redis
    scheduler = Scheduler(bridge.runtime, name="test-scheduler")
    assert scheduler.requeue_orphaned_imports(datetime.now(UTC)) == [order["orderId"]]
    job = Job.fetch(queues.import_job_id(bridge.store_id, order["orderId"]), connection=conn)

    _lose_in_dequeue(conn, job, seconds_ago=5)  # a moment ago: a worker may be starting it right now
    assert scheduler.requeue_orphaned_imports(datetime.now(UTC)) == []
    _set_enqueued_at(conn, job, seconds_ago=queues.LOST_AFTER_SECONDS + 1)  # a minute on, no worker has it
    assert scheduler.requeue_orphaned_imports(datetime.now(UTC)) == [order["orderId"]]
    assert Queue(queues.ORDERS, connection=conn).get_job_ids() == [job.id]
    assert Job.fetch(job.id, connection=conn).get_status() == "queued"


def test_a_long_queue_is_not_mistaken_for_lost_jobs(bridge):
    """A backlog: jobs queued minutes ago and still in their queue are pending, not lost."""
    conn = bridge.runtime.redis
    job = queues.enqueue_import(conn, bridge.store_id, "111-0000038-0000001")
    _set_enqueued_at(conn, job, seconds_ago=600)
    assert queues.idle_job_ids(conn, [job.id], now=datetime.now(UTC), quiet_seconds=60) == set()
    assert queues.enqueue_import(conn, bridge.store_id, "111-0000038-0000001") is None
    assert Queue(queues.ORDERS, connection=conn).get_job_ids() == [job.id]


def test_a_sync_job_lost_by_a_worker_killed_as_it_took_it_does_not_stop_the_store_syncing(bridge):
    """The store's sync has one job id: lost that way, it would refuse every tick's enqueue for ever."""
    conn = bridge.runtime.redis
    job = queues.enqueue_sync(conn, bridge.store_id)
    _lose_in_dequeue(conn, job, seconds_ago=queues.LOST_AFTER_SECONDS + 1)
    assert queues.enqueue_sync(conn, bridge.store_id) is not None
    assert Queue(queues.SYNC, connection=conn).get_job_ids() == [job.id]


def test_an_import_deferred_by_a_magento_outage_ends_its_job_and_leaves_no_failed_job(bridge, tmp_path, monkeypatch):
    """Magento answering 500 to everything: the import job ends (no failed job for work still to be done), the
    order stays queued and the sweep queues it again after the quiet time; once Magento is back it imports."""
    import jobs.context
    from jobs import tasks

    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000041-0000001")])
    sync_store(bridge.runtime, bridge.store_id, dispatch=lambda ids: None)
    env = write_config(bridge, tmp_path / "config.toml")
    for key, value in env.items():
        if os.environ.get(key) != value:
            monkeypatch.setenv(key, value)
    monkeypatch.setattr(jobs.context, "_runtime", None)

    bridge.magento.set_faults(rate_500=1.0)
    result = tasks.import_order(bridge.store_id, "111-0000041-0000001")
    assert result["state"] == "deferred" and "HTTP 500" in result["message"]
    assert bridge.record("111-0000041-0000001").import_state == "queued"

    bridge.magento.set_faults(rate_500=0.0)
    assert tasks.import_order(bridge.store_id, "111-0000041-0000001")["state"] == "imported"
    assert len(bridge.magento_orders(ext_order_id="111-0000041-0000001")) == 1


@pytest.mark.parametrize("to_group", [False, True], ids=["to-the-worker", "to-its-process-group"])
def test_an_idle_worker_stops_on_sigterm(bridge, tmp_path, to_group):
    """What `systemctl stop` (the whole group) or a plain `kill` does: the worker ends within seconds, exit 0,
    instead of taking the end of RQ's loop for a lost Redis and starting again until SIGKILLed."""
    env = write_config(bridge, tmp_path / "config.toml")
    worker = spawn(["worker", "--name", f"stopping-{os.getpid()}-{int(to_group)}"], env, tmp_path / "worker.log")
    try:
        conn = bridge.runtime.redis
        wait_until(lambda: any(w.startswith(b"rq:worker:stopping-") for w in conn.smembers("rq:workers")), 60,
                   "the worker registered")
        time.sleep(0.5)  # in its idle loop
        if to_group:
            os.killpg(worker.pid, signal.SIGTERM)
        else:
            worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
        assert "starting it again" not in (tmp_path / "worker.log").read_text()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
