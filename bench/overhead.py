"""The bridge's overhead over the HTTP calls it makes, and imported orders/s with 1 and 2 RQ workers.

    .venv/bin/python bench/overhead.py [--orders 10000] [--workers 1,2] [--seed 2026]

In one run:

1. Twins A (no faults, no added latency, Amazon's rate limits scaled out of the way, stock for every order)
   hold N importable generated orders. The bridge imports them the deployed way: sync and import jobs in one
   RQ worker process (each job in a forked work-horse), a sync queued again whenever the queues run dry and
   orders are still queued (what the scheduler's tick does; one sync dispatches at most 1,000). Every HTTP
   call that reaches the twins is recorded (`sandbox.recording`).
2. Twins B, fresh and seeded the same way: a bare script (`python -m sandbox.recording`, one process, one
   `requests.Session`, sequential) replays the recorded calls in order. Creates create: the Commerce orders
   of B must equal those of A (ext_order_id, increment_id, grand total, state), and every replayed status
   the recorded one.
3. Twins C, fresh: the same import with 2 workers (orders/s only; two workers' calls interleave).

overhead ratio = bridge wall time with 1 worker / replay wall time; target <= 1.3. The twins serve from
this process in both cases, so what the ratio measures is what the bridge adds on the client side: job
start-up, database, Redis, building payloads, signing requests.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rq.registry import StartedJobRegistry  # noqa: E402

from bridge.service import import_counts  # noqa: E402
from bridge.storage.models import ImportState  # noqa: E402
from jobs import queues  # noqa: E402
from sandbox import recording  # noqa: E402
from sandbox.amazon.generator import generate_catalog, generate_orders  # noqa: E402
from sandbox.amazon.testing import start_amazon_twin  # noqa: E402
from sandbox.magento.testing import start_magento_twin  # noqa: E402
from tests.harness import ProcessEnv, make_bridge  # noqa: E402
from tests.redis_server import PrivateRedis  # noqa: E402
from tests.test_workers import write_config  # noqa: E402

RATE_SCALE = 100_000.0  # Amazon's usage plans (searchOrders: 1 per 3 min after a burst of 20) out of the way
TARGET_RATIO = 1.3
PRODUCTS = 60
STOCK = 10_000_000


def importable_orders(count: int, seed: int, catalog) -> list[dict]:
    """`count` generated US orders that ASC's rules import (MFN Unshipped/Partially Shipped/Shipped, FBA
    Shipped), last updated an hour ago or more so every later sync's overlap window finds none again."""
    now = datetime.now(UTC) - timedelta(hours=1)
    orders: list[dict] = []
    batch = count + count // 3 + 20
    while len(orders) < count:
        generated = generate_orders(batch, seed, catalog, marketplaces=("US",), now=now)
        orders = [o for o in generated if _importable(o)][:count]
        batch *= 2
    return orders


def _importable(order: dict) -> bool:
    status = order["fulfillment"]["fulfillmentStatus"]
    if order["fulfillment"].get("fulfilledBy") == "AMAZON":
        return status == "SHIPPED"
    return status in ("UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED")


def start_twins(log: recording.CallLog):
    magento = start_magento_twin()
    amazon = start_amazon_twin(rate_scale=RATE_SCALE)
    recording.install(magento, "magento", log)
    recording.install(amazon, "amazon", log)
    return magento, amazon


def seed_twins(magento, amazon, catalog, orders: list[dict]) -> None:
    """Products with plenty of stock in Magento, the orders in Amazon (as tests.harness.Bridge does)."""
    session = magento.session()
    for p in catalog:
        body = {"product": {"sku": p.sku, "name": p.name, "price": float(p.price), "status": 1, "type_id": "simple",
                            "attribute_set_id": 4, "visibility": 4, "weight": 1}}
        session.post(f"{magento.url}/rest/all/V1/products", json=body, timeout=30).raise_for_status()
    items = [{"sku": p.sku, "source_code": "default", "quantity": STOCK, "status": 1} for p in catalog]
    session.post(f"{magento.url}/rest/V1/inventory/source-items", json={"sourceItems": items},
                 timeout=30).raise_for_status()
    for start in range(0, len(orders), 1000):
        amazon.seed_orders(orders[start : start + 1000], keep_last_updated=True)


def commerce_orders(magento) -> dict[str, tuple]:
    """ext_order_id -> (increment_id, grand_total, state, status) of every order in a Magento twin."""
    session = magento.session()
    found: dict[str, tuple] = {}
    page = 1
    while True:
        params = {"searchCriteria[pageSize]": 1000, "searchCriteria[currentPage]": page}
        data = session.get(f"{magento.url}/rest/V1/orders", params=params, timeout=120).json()
        for o in data["items"]:
            found.setdefault(o.get("ext_order_id"), [])
            found[o.get("ext_order_id")].append((o["increment_id"], str(o["grand_total"]), o["state"], o["status"]))
        if page * 1000 >= data["total_count"]:
            break
        page += 1
    return {k: tuple(v) for k, v in found.items()}


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process and theirs (work-horses included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_bridge(work: Path, redis_url: str, magento, amazon, workers: int, expected: int) -> tuple[float, dict]:
    """Import everything with `workers` RQ worker processes; wall seconds from the first sync being queued
    to every order imported and the queues idle."""
    bridge = make_bridge(database_url=f"sqlite:///{work / 'bridge.sqlite3'}", redis_url=redis_url,
                         magento=magento, amazon=amazon, monkeypatch=ProcessEnv(), rate_scale=RATE_SCALE)
    env = write_config(bridge, work / "config.toml")
    redis = bridge.runtime.redis
    qs = [queues.queue(name, redis) for name in queues.ALL_QUEUES]
    started_registries = [StartedJobRegistry(queue=q) for q in qs]

    def idle() -> bool:
        return all(q.count == 0 for q in qs) and all(r.count == 0 for r in started_registries)

    procs = []
    try:
        started = time.perf_counter()
        queues.enqueue_sync(redis, bridge.store_id)
        # Each worker in a session of its own, so it can be stopped with its work-horse and RQ scheduler.
        procs = [subprocess.Popen([sys.executable, "-m", "bridge", "worker", "--log-level", "warning"],
                                  env=env, cwd=ROOT, start_new_session=True) for _ in range(workers)]
        idle_polls, progress, progress_at = 0, -1, time.monotonic()
        while True:
            time.sleep(0.1)
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a worker exited during the benchmark; see its output above")
            idle_polls = idle_polls + 1 if idle() else 0
            if idle_polls < 2:
                continue
            with bridge.runtime.db.session() as session:
                counts = import_counts(session, bridge.store_id)
            imported = counts.get(ImportState.IMPORTED.value, 0)
            if imported >= expected:
                break
            if imported > progress:
                progress, progress_at = imported, time.monotonic()
            elif time.monotonic() - progress_at > 120:
                failed = sum(q.failed_job_registry.count for q in qs)
                raise RuntimeError(f"no progress for 2 minutes: {dict(counts)}, {failed} failed jobs")
            queues.enqueue_sync(redis, bridge.store_id)  # the scheduler's tick: orders are still to import
            idle_polls = 0
        elapsed = time.perf_counter() - started
    finally:
        for p in procs:
            _stop(p)
        bridge.runtime.close()
    return elapsed, counts


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM (RQ's warm shutdown) to the worker's session (its RQ scheduler process too), SIGKILL after
    30 s; always reaped, so its CPU time is counted."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="worker counts to measure; the ratio needs 1")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per request
    worker_counts = [int(w) for w in args.workers.split(",")]

    work = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    redis = PrivateRedis(str(work)).start()
    catalog = generate_catalog(args.seed, PRODUCTS)
    orders = importable_orders(args.orders, args.seed, catalog)
    n = len(orders)
    print(f"{platform.node()} nproc={os.cpu_count()} load={os.getloadavg()[0]:.1f} orders={n} "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    lines: list[str] = []
    try:
        for workers in worker_counts:
            log = recording.CallLog()
            magento, amazon = start_twins(log)
            try:
                seed_twins(magento, amazon, catalog, orders)
                run_dir = work / f"w{workers}"
                run_dir.mkdir()
                log.start()
                cpu = children_cpu()
                elapsed, counts = run_bridge(run_dir, redis.url_for(workers), magento, amazon, workers, n)
                cpu = children_cpu() - cpu
                calls = log.stop()
                imported = counts.get(ImportState.IMPORTED.value, 0)
                print(f"{workers} worker(s): {elapsed:.1f} s, {imported} imported ({dict(counts)}), "
                      f"{len(calls)} HTTP calls ({sum(c.took for c in calls):.1f} s in the twins), "
                      f"{imported / elapsed:.1f} orders/s, {cpu:.1f} CPU s in the bridge's processes, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
                recording.save(calls, str(run_dir / "calls.pickle"))
                lines.append(f"bench: orders_per_second_{workers}_workers_{n} {imported / elapsed:.1f} - ok")
                if workers != 1:
                    continue
                expected = commerce_orders(magento)
            finally:
                magento.stop()
                amazon.stop()
            ratio = replay_and_compare(work, calls, catalog, orders, expected, elapsed, cpu)
            lines.append(f"bench: overhead_ratio_1_worker {ratio:.2f} {TARGET_RATIO} "
                         f"{'ok' if ratio <= TARGET_RATIO else 'miss'}")
    finally:
        redis.stop()
    for line in lines:
        print(line)


def replay_and_compare(work: Path, calls, catalog, orders, expected: dict, bridge_seconds: float,
                       bridge_cpu: float) -> float:
    path = work / "calls.pickle"
    recording.save(calls, str(path))
    log = recording.CallLog()
    magento, amazon = start_twins(log)
    try:
        seed_twins(magento, amazon, catalog, orders)
        log.start()  # the replay twins record too, so both sides pay the same in the twins
        cpu = children_cpu()
        proc = subprocess.run([sys.executable, "-m", "sandbox.recording", str(path), "--amazon", amazon.url,
                               "--magento", magento.url], cwd=ROOT, capture_output=True, text=True, check=False)
        cpu = children_cpu() - cpu
        served = log.stop()
        if proc.returncode != 0:
            raise RuntimeError(f"the replay failed: {proc.stderr[-2000:]}")
        result = json.loads(proc.stdout)
        replayed = commerce_orders(magento)
    finally:
        magento.stop()
        amazon.stop()
    same = replayed == expected
    print(f"replay: {result['seconds']:.1f} s for {result['calls']} calls "
          f"({sum(c.took for c in served):.1f} s in the twins) "
          f"({result['calls'] / result['seconds']:.0f} calls/s); status mismatches "
          f"{len(result['status_mismatches'])}; Commerce orders equal to the bridge's: {same} "
          f"({len(replayed)} vs {len(expected)})", flush=True)
    for mismatch in result["status_mismatches"][:5]:
        print("  ", mismatch)
    if not same or result["status_mismatches"]:
        raise SystemExit("the replay did not do the bridge's work; the ratio would mean nothing")
    ratio = bridge_seconds / result["seconds"]
    print(f"overhead: bridge {bridge_seconds:.1f} s / replay {result['seconds']:.1f} s = {ratio:.2f} "
          f"(client CPU: bridge {bridge_cpu:.1f} s / replay process {cpu:.1f} s = {bridge_cpu / cpu:.1f})", flush=True)
    return ratio


if __name__ == "__main__":
    main()
