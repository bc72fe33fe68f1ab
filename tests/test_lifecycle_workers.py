"""Amazon -> Commerce with real RQ worker processes: the sync job queues one follow job per order; a worker
SIGKILLed after Magento saved the credit memo leaves one credit memo, and the next sync finishes the work."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from jobs import queues
from tests.test_lifecycle import (
    PRODUCTS,
    documents,
    imported,
    mfn_order,
    ship_in_seller_central,
    source_qty,
)
from tests.test_workers import ROOT, run_cli, write_config

REFUND_ROUTE = "POST /V1/order/:orderId/refund"


def kill_tree(pid: int) -> None:
    """SIGKILL a worker and every descendant, whatever process group it moved to (RQ's work-horse calls
    setpgrp, so killing the worker's group alone leaves the horse running)."""
    family, changed = {pid}, True
    while changed:
        changed = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in family:
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid in family:
                family.add(int(entry))
                changed = True
    for member in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)


def _wait_for(predicate, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sync_job_queues_follow_jobs_that_a_worker_runs(bridge, tmp_path):
    bridge.add_products(PRODUCTS)
    order = mfn_order("111-0000031-0000001")
    record = imported(bridge, order)
    ship_in_seller_central(bridge, order, tracking="9400111899223100000000")
    env = write_config(bridge, tmp_path / "config.toml")
    queues.enqueue_sync(bridge.runtime.redis, bridge.store_id)

    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.run([sys.executable, "-m", "bridge", "worker", "--burst", "--name", f"f-{os.getpid()}"],
                                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=240, check=False)
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()

    shipments = documents(bridge, "shipments", record.magento_entity_id)
    assert len(shipments) == 1 and shipments[0]["tracks"][0]["track_number"] == "9400111899223100000000"
    assert bridge.magento_order(record.magento_entity_id)["state"] == "complete"
    assert bridge.record(record.amazon_order_id).status == "Completed"


def test_worker_sigkilled_after_the_credit_memo_leaves_one_and_the_next_sync_finishes(bridge, tmp_path):
    bridge.add_products(PRODUCTS, qty=50)
    bridge.set_settings(stock_handling="decrement_source")
    record = imported(bridge, mfn_order("111-0000032-0000001"))
    assert source_qty(bridge, "SKU-1") == 48
    bridge.amazon.set_status(record.amazon_order_id, "CANCELLED", cancelledBy="BUYER", reason="BuyerCanceled")
    bridge.amazon.advance_clock(180)

    # Every Magento call now waits 2 s before Magento handles it, so the worker can be killed while the
    # credit memo request is in flight: Magento still saves it, the worker never learns it did.
    bridge.magento.set_faults(rate_timeout=1.0, timeout_seconds=2.0)
    env = write_config(bridge, tmp_path / "config.toml", lease_seconds=1)
    queues.enqueue_sync(bridge.runtime.redis, bridge.store_id)
    worker = subprocess.Popen([sys.executable, "-m", "bridge", "worker", "--name", f"victim-{os.getpid()}"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        assert _wait_for(lambda: bridge.magento.stats()["routes"].get(REFUND_ROUTE, 0) >= 1, 120)
    finally:
        kill_tree(worker.pid)  # SIGKILL the worker and its work-horse, mid-request
        worker.wait()
    bridge.magento.set_faults(rate_timeout=0.0)
    assert _wait_for(lambda: len(documents(bridge, "creditmemos", record.magento_entity_id)) == 1)
    assert bridge.record(record.amazon_order_id).commerce_synced_status is None  # the worker died before saving

    time.sleep(1.5)  # the dead worker's lease runs out
    result = run_cli(["sync", "--store", "us", "--once"], env)  # the next sync re-dispatches what is still due
    assert result.returncode == 0, result.stderr

    assert len(documents(bridge, "creditmemos", record.magento_entity_id)) == 1
    assert bridge.magento_order(record.magento_entity_id)["state"] == "closed"
    record = bridge.record(record.amazon_order_id)
    assert record.commerce_synced_status == "refunded"
    assert source_qty(bridge, "SKU-1") == 50  # returned exactly once
