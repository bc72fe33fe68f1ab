"""Peak resident memory of an RQ worker over a 100,000-order backfill, and its growth from 10,000.

    .venv/bin/python bench/memory.py [--orders 100000] [--baseline 10000] [--imports 100]

Each size runs on its own: a private redis-server, both twins in this process, a fresh SQLite database,
and the store's first sync (its look-back reaches every generated order, as a backfill's range does):

1. The sync job runs in a real worker process, `amazon-bridge worker --burst --queue sync`: it pages
   through all N orders on the Amazon twin (searchOrders, 100 a page), records each page in SQLite, then
   links and dispatches the orders due for import as RQ jobs (one sync hands out at most 1,000; the
   scheduler's sweep and later syncs hand out the rest), and its Commerce poll job.
2. The import jobs: the first `--imports` of the dispatched jobs (the rest are taken off the queue) run in
   a second worker, `--queue orders`, each in a forked work-horse, against the Magento twin. The same number
   for every size: importing 100,000 orders at ~8 a second on this machine would take hours, and an
   import's memory does not depend on how many orders the store has (it reads one order).

Resident memory (RSS) of each worker and every process it forks (its work-horses) is sampled with psutil
every 0.1 s over the whole run; the figure is the largest value any one of those processes reached.
The orders are generated lazily and loaded into the twin without copies, so this process holds them once.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.service import import_counts  # noqa: E402
from jobs import queues  # noqa: E402
from sandbox.amazon.generator import generate_catalog, iter_orders  # noqa: E402
from sandbox.amazon.testing import start_amazon_twin  # noqa: E402
from sandbox.magento.testing import start_magento_twin  # noqa: E402
from tests.harness import ProcessEnv, make_bridge  # noqa: E402
from tests.redis_server import PrivateRedis  # noqa: E402
from tests.test_workers import write_config  # noqa: E402

TARGET_MB = 150
FLAT_MB = 10  # growth from 10,000 to 100,000 orders that still counts as flat (see docs/benchmarks.md)
RATE_SCALE = 100_000.0  # Amazon's searchOrders rate (0.0056/s) would make 1,000 pages take days
LOAD_CHUNK = 5000


@dataclass
class Peaks:
    """Largest RSS seen, in bytes: of the worker processes and of the work-horses they forked."""

    worker: int = 0
    horse: int = 0
    samples: int = 0
    horses: set[int] = field(default_factory=set)

    @property
    def any(self) -> int:
        return max(self.worker, self.horse)


@dataclass
class SizeResult:
    orders: int
    recorded: int
    dispatched: int
    imported: int
    sync_seconds: float
    import_seconds: float
    sync_peaks: Peaks
    import_peaks: Peaks

    @property
    def peak_mb(self) -> float:
        return max(self.sync_peaks.any, self.import_peaks.any) / 2**20


def run_worker(env: dict[str, str], queue: str, log_path: Path, *, timeout: float) -> tuple[Peaks, float]:
    """One `amazon-bridge worker --burst --queue QUEUE` until its queue is empty, sampling its memory."""
    peaks = Peaks()
    started = time.perf_counter()
    with open(log_path, "ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "bridge", "worker", "--burst", "--queue", queue, "--log-level", "warning",
             "--name", f"bench-memory-{queue}-{time.monotonic_ns()}"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        root = psutil.Process(worker.pid)
        while worker.poll() is None:
            if time.perf_counter() - started > timeout:
                worker.kill()
                raise SystemExit(f"bench: the {queue} worker ran past {timeout:.0f} s; see {log_path}")
            try:
                peaks.worker = max(peaks.worker, root.memory_info().rss)
                for child in root.children(recursive=True):
                    peaks.horses.add(child.pid)
                    peaks.horse = max(peaks.horse, child.memory_info().rss)
            except psutil.NoSuchProcess:  # a work-horse (or the worker) ended between listing and reading
                pass
            peaks.samples += 1
            time.sleep(0.1)
    if worker.returncode != 0:
        raise SystemExit(f"bench: the {queue} worker exited with {worker.returncode}; see {log_path}")
    return peaks, time.perf_counter() - started


def run_size(n: int, *, imports: int, seed: int, work: Path) -> SizeResult:
    work.mkdir(parents=True)
    private = PrivateRedis(str(work)).start()
    magento = start_magento_twin()
    amazon = start_amazon_twin(rate_scale=RATE_SCALE)
    bridge = make_bridge(database_url=f"sqlite:///{work / 'bridge.sqlite3'}", redis_url=private.url,
                         magento=magento, amazon=amazon, monkeypatch=ProcessEnv(), rate_scale=RATE_SCALE)
    try:
        catalog = generate_catalog(seed, 60)
        bridge.add_products([(p.sku, p.name, p.price) for p in catalog], qty=10_000_000)
        started = time.perf_counter()
        orders = iter_orders(n, seed, catalog, marketplaces=("US",))
        while chunk := list(itertools.islice(orders, LOAD_CHUNK)):
            amazon.load_orders(chunk)
        amazon.advance_clock(180)  # past Amazon's two-minute rule
        print(f"[{n}] {n} orders generated and loaded into the Amazon twin in {time.perf_counter() - started:.0f} s",
              flush=True)
        env = write_config(bridge, work / "config.toml")
        redis = bridge.runtime.redis

        queues.enqueue_sync(redis, bridge.store_id)
        sync_peaks, sync_seconds = run_worker(env, queues.SYNC, work / "worker-sync.log", timeout=1500)
        with bridge.runtime.db.session() as session:
            counts = import_counts(session, bridge.store_id)
        recorded = sum(counts.values())
        orders_queue = queues.queue(queues.ORDERS, redis)
        job_ids = orders_queue.get_job_ids()
        for job_id in job_ids[imports:]:  # the sample: the same number of imports for every size
            orders_queue.remove(job_id)
        print(f"[{n}] sync: {recorded} orders recorded {dict(counts)}, {len(job_ids)} import jobs dispatched, "
              f"{sync_seconds:.0f} s; peak RSS worker {sync_peaks.worker / 2**20:.1f} MB, "
              f"work-horses {sync_peaks.horse / 2**20:.1f} MB ({len(sync_peaks.horses)} forked)", flush=True)

        import_peaks, import_seconds = run_worker(env, queues.ORDERS, work / "worker-orders.log", timeout=1500)
        with bridge.runtime.db.session() as session:
            imported = import_counts(session, bridge.store_id).get("imported", 0)
        print(f"[{n}] imports: {imported} imported in {import_seconds:.0f} s; peak RSS worker "
              f"{import_peaks.worker / 2**20:.1f} MB, work-horses {import_peaks.horse / 2**20:.1f} MB "
              f"({len(import_peaks.horses)} forked)", flush=True)
        return SizeResult(n, recorded, len(job_ids), imported, sync_seconds, import_seconds, sync_peaks,
                          import_peaks)
    finally:
        bridge.runtime.close()
        magento.stop()
        amazon.stop()
        private.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=10_000,
                        help="the smaller size the growth is measured from; 0 to run --orders alone")
    parser.add_argument("--imports", type=int, default=100, help="import jobs run per size (the same for both)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per twin request

    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    sizes = [n for n in (args.baseline, args.orders) if n]
    results = {n: run_size(n, imports=args.imports, seed=args.seed, work=work / str(n)) for n in sizes}

    print()
    print("| orders | recorded | import jobs dispatched | imported (sample) | sync s | sync worker MB | "
          "sync work-horse MB | import worker MB | import work-horse MB | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results.values():
        print(f"| {r.orders:,} | {r.recorded:,} | {r.dispatched:,} | {r.imported:,} | {r.sync_seconds:.0f} | "
              f"{r.sync_peaks.worker / 2**20:.1f} | {r.sync_peaks.horse / 2**20:.1f} | "
              f"{r.import_peaks.worker / 2**20:.1f} | {r.import_peaks.horse / 2**20:.1f} | {r.peak_mb:.1f} |")
    for r in results.values():
        if r.recorded != r.orders:
            print(f"bench: the sync recorded {r.recorded} of {r.orders} orders; the figures do not count")
    big = results[args.orders]
    print(f"bench: worker_peak_rss_mb_{args.orders}_orders {big.peak_mb:.0f} {TARGET_MB} "
          f"{'ok' if big.peak_mb <= TARGET_MB else 'miss'}")
    if args.baseline:
        growth = big.peak_mb - results[args.baseline].peak_mb
        print(f"bench: worker_peak_rss_growth_{args.baseline}_to_{args.orders}_mb {growth:.1f} <={FLAT_MB} "
              f"{'ok' if growth <= FLAT_MB else 'miss'}")


if __name__ == "__main__":
    main()
