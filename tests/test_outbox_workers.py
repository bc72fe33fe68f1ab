"""The outbox with real worker processes, the scheduler's sweep and the `amazon-bridge cancel` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from rq import Queue
from rq.job import Job
from sqlalchemy import select

from bridge.cancellation import find_order, request_cancel
from bridge.storage.models import ActionState, OutboundAction
from jobs import queues
from jobs.scheduler import Scheduler
from tests.harness import v2026_order
from tests.test_outbox import actions, feeds, imported, settle
from tests.test_workers import ROOT, run_cli, write_config


def start_worker(env, *, burst: bool = False) -> subprocess.Popen:
    args = [sys.executable, "-m", "bridge", "worker", "--name", f"outbox-{os.getpid()}-{time.monotonic_ns()}"]
    return subprocess.Popen(args + (["--burst"] if burst else []), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def record_cancel(bridge, amazon_order_id: str, reason: str = "NoInventory") -> None:
    """What the cancel page records, without the enqueue (as when Redis dropped right then)."""
    with bridge.runtime.db.session() as session:
        request_cancel(session, find_order(session, amazon_order_id), reason, requested_by="alice")


def test_a_worker_killed_after_the_feed_was_created_does_not_send_it_twice(bridge, tmp_path):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    imported(bridge, v2026_order("111-0000075-0000001"))
    record_cancel(bridge, "111-0000075-0000001")
    bridge.amazon.set_faults(slow_answer={"createFeed": 60})  # Amazon creates the feed; the answer is late
    env = write_config(bridge, tmp_path / "config.toml")
    queues.enqueue_outbox(bridge.runtime.redis, bridge.store_id)
    worker = start_worker(env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not feeds(bridge):
            time.sleep(0.05)
        assert len(feeds(bridge)) == 1
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work-horse, mid-createFeed
        worker.wait()
    bridge.amazon.set_faults(slow_answer={})
    intent = actions(bridge, "cancel")[0]
    assert intent.feed_document_id and intent.feed_id is None  # the intent was saved, the feed id never was
    # The dead run's lease runs out, and RQ files its job as abandoned.
    bridge.runtime.redis.delete(f"amazon-bridge:outbox-lock:{bridge.store_id}")
    Job.fetch(queues.outbox_job_id(bridge.store_id), connection=bridge.runtime.redis).delete()

    assert Scheduler(bridge.runtime, name="tick").sweep_outbox(datetime.now(UTC))["outbox"] == [bridge.store_id]
    start_worker(env, burst=True).wait(timeout=120)
    settle(bridge)

    assert len(feeds(bridge)) == 1
    done = actions(bridge, "cancel")[0]
    assert done.state == ActionState.ACCEPTED.value and done.feed_id == feeds(bridge)[0]["feedId"]
    assert "found at Amazon after an interrupted send" in " ".join(
        e.message for e in bridge.record("111-0000075-0000001").events)


def test_a_cancel_recorded_while_redis_was_down_is_sent_by_the_next_scheduler_tick(bridge, tmp_path):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    imported(bridge, v2026_order("111-0000075-0000002"))
    record_cancel(bridge, "111-0000075-0000002")  # recorded; its enqueue never happened
    env = write_config(bridge, tmp_path / "config.toml")
    assert len(Queue(queues.ACTIONS, connection=bridge.runtime.redis)) == 0

    swept = Scheduler(bridge.runtime, name="tick").sweep_outbox(datetime.now(UTC))
    start_worker(env, burst=True).wait(timeout=120)

    assert swept["outbox"] == [bridge.store_id]
    assert actions(bridge, "cancel")[0].state == ActionState.SUBMITTED.value
    assert len(feeds(bridge)) == 1


def test_the_worker_is_free_while_amazon_processes_a_feed(bridge, tmp_path):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    imported(bridge, v2026_order("111-0000075-0000003"))
    record_cancel(bridge, "111-0000075-0000003")
    bridge.seed_amazon([v2026_order("111-0000075-0000004")])
    bridge.sync(importer=_NoImport())  # pulled, not imported: its import job waits behind the outbox job
    env = write_config(bridge, tmp_path / "config.toml")
    queues.enqueue_outbox(bridge.runtime.redis, bridge.store_id)
    queues.enqueue_import(bridge.runtime.redis, bridge.store_id, "111-0000075-0000004")

    start_worker(env, burst=True).wait(timeout=120)  # one worker, both jobs

    assert [f["processingStatus"] for f in feeds(bridge)] == ["IN_QUEUE"]  # Amazon has not even started
    assert bridge.record("111-0000075-0000004").import_state == "imported"
    assert actions(bridge, "cancel")[0].state == ActionState.SUBMITTED.value
    scheduled = queues.queue(queues.ACTIONS, bridge.runtime.redis).scheduled_job_registry.get_job_ids()
    assert [j for j in scheduled if j.startswith(queues.LATER_PREFIX)]  # the report is read by a later job


class _NoImport:
    """An importer that imports nothing (the order stays due), for a sync that only pulls."""

    def link_existing(self, store_id, ids):
        return 0

    def import_order(self, store_id, amazon_order_id, actor="worker"):
        return None


def test_cancel_command_queues_a_cancel_and_refuses_bad_input(bridge, tmp_path):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    imported(bridge, v2026_order("111-0000075-0000005"))
    imported(bridge, v2026_order("111-0000075-0000006", status="SHIPPED"))
    env = write_config(bridge, tmp_path / "config.toml")

    bad_reason = run_cli(["cancel", "111-0000075-0000005", "--reason", "Bored"], env)
    shipped = run_cli(["cancel", "111-0000075-0000006", "--reason", "NoInventory"], env)
    unknown = run_cli(["cancel", "111-0000099-0000001", "--reason", "NoInventory"], env)
    with bridge.runtime.db.session() as session:
        assert session.scalars(select(OutboundAction)).all() == []  # nothing queued by bad input

    good = run_cli(["cancel", "111-0000075-0000005", "--reason", "No Inventory", "--store", "us"], env)
    again = run_cli(["cancel", "111-0000075-0000005", "--reason", "NoInventory"], env)

    assert bad_reason.returncode != 0 and "Unknown cancel reason 'Bored'" in bad_reason.stderr
    assert "BuyerCanceled" in bad_reason.stderr and "Traceback" not in bad_reason.stderr
    assert shipped.returncode != 0 and "only Unshipped orders can be canceled" in shipped.stderr
    assert unknown.returncode != 0 and "No Amazon order 111-0000099-0000001" in unknown.stderr
    assert good.returncode == 0, good.stderr
    assert "queued" in good.stdout
    assert again.returncode != 0 and "exists already" in again.stderr
    cancel = actions(bridge, "cancel")
    assert [(a.reason, a.requested_by, a.state) for a in cancel] == [("NoInventory", "cli", "queued")]
    assert len(Queue(queues.ACTIONS, connection=bridge.runtime.redis)) == 1


def test_a_commerce_shipment_reaches_amazon_with_the_next_sync_once(bridge, tmp_path):
    from tests.test_outbox import magento_post

    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000075-0000007")])
    env = write_config(bridge, tmp_path / "config.toml")
    assert run_cli(["sync", "--store", "us", "--once"], env).returncode == 0
    record = bridge.record("111-0000075-0000007")
    magento_post(bridge, f"order/{record.magento_entity_id}/ship",
                 {"tracks": [{"carrier_code": "ups", "title": "UPS", "track_number": "1ZSYNC"}]})

    result = run_cli(["sync", "--store", "us", "--once"], env)

    assert result.returncode == 0, result.stderr
    assert "1 shipments confirmed" in result.stdout
    package = bridge.amazon.get_order("111-0000075-0000007")["packages"][0]
    assert (package["carrier"], package["trackingNumber"]) == ("UPS", "1ZSYNC")
