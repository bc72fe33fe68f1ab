"""Amazon and Magento calls per imported order, counted by the twins, over N generated orders.

    .venv/bin/python bench/import_calls.py [--orders 1000] [--mode inline|rq] [--workers 2]

Also the peak resident memory of the RQ workers and their work-horses (sampled from /proc every 0.2 s), and
one `bench: NAME VALUE TARGET ok|miss` line per result.

`inline` is `amazon-bridge sync --once` (one process); `rq` is the deployment shape: the sync job and one
import job per order run in forked RQ work-horses, so nothing is cached across orders in process memory.
Calls are counted by the twins (`/_sandbox/stats`), i.e. what really crossed the wire.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.service import import_counts  # noqa: E402
from jobs import queues  # noqa: E402
from sandbox.amazon.generator import generate_catalog, generate_orders  # noqa: E402
from sandbox.amazon.testing import start_amazon_twin  # noqa: E402
from sandbox.magento.testing import start_magento_twin  # noqa: E402
from tests.harness import ProcessEnv, make_bridge  # noqa: E402
from tests.redis_server import PrivateRedis  # noqa: E402
from tests.test_workers import write_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--mode", choices=["inline", "rq"], default="rq")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--redis", default=None, help="a Redis URL; default: a private redis-server of its own")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    private = None
    if args.redis is None:
        private = PrivateRedis(str(work)).start()
        args.redis = private.url
    magento = start_magento_twin()
    amazon = start_amazon_twin(rate_scale=1.0)
    bridge = make_bridge(database_url=f"sqlite:///{work / 'bridge.sqlite3'}", redis_url=args.redis,
                         magento=magento, amazon=amazon, monkeypatch=ProcessEnv(), rate_scale=1.0)
    try:
        catalog = generate_catalog(args.seed, 60)
        bridge.add_products([(p.sku, p.name, p.price) for p in catalog], qty=100000)
        orders = generate_orders(args.orders, args.seed, catalog, marketplaces=("US",))
        bridge.seed_amazon(orders)
        requests.delete(f"{magento.url}/_sandbox/stats", timeout=10)
        amazon_before = Counter(amazon.stats()["calls"])

        peak_rss_kb = 0
        started = time.perf_counter()
        if args.mode == "inline":
            bridge.sync()
        else:
            env = write_config(bridge, work / "config.toml")
            queues.enqueue_sync(bridge.runtime.redis, bridge.store_id)
            workers = [subprocess.Popen([sys.executable, "-m", "bridge", "worker", "--burst", "--log-level", "warning"],
                                        env=env, cwd=ROOT) for _ in range(args.workers)]
            while any(w.poll() is None for w in workers):
                for w in workers:  # peak RSS of each worker and of the work-horse it forked
                    for pid in [w.pid, *_children(w.pid)]:
                        peak_rss_kb = max(peak_rss_kb, _rss_kb(pid))
                time.sleep(0.2)
        elapsed = time.perf_counter() - started
        job_seconds = []
        if args.mode == "rq":
            from rq.job import Job

            registry = queues.queue(queues.ORDERS, bridge.runtime.redis).finished_job_registry
            for job in Job.fetch_many(registry.get_job_ids(), connection=bridge.runtime.redis):
                if job and job.started_at and job.ended_at:
                    job_seconds.append((job.ended_at - job.started_at).total_seconds())

        with bridge.runtime.db.session() as session:
            counts = import_counts(session)
        imported = counts.get("imported", 0)
        magento_stats = requests.get(f"{magento.url}/_sandbox/stats", timeout=10).json()
        amazon_calls = Counter(amazon.stats()["calls"]) - amazon_before
        print(f"mode={args.mode} workers={args.workers if args.mode == 'rq' else 1} orders={len(orders)} "
              f"imported={imported} states={dict(counts)}")
        print(f"elapsed {elapsed:.1f}s, {imported / elapsed:.1f} imported orders/s")
        if job_seconds:
            job_seconds.sort()
            print(f"import job run time: median {job_seconds[len(job_seconds) // 2] * 1000:.0f} ms, "
                  f"p95 {job_seconds[int(len(job_seconds) * 0.95)] * 1000:.0f} ms over {len(job_seconds)} jobs")
        print(f"Amazon calls: {sum(amazon_calls.values())} ({dict(amazon_calls)}) "
              f"= {sum(amazon_calls.values()) / max(imported, 1):.3f} per imported order")
        print(f"Magento calls: {magento_stats['total']} = {magento_stats['total'] / max(imported, 1):.2f} "
              "per imported order")
        for route, n in sorted(magento_stats["routes"].items(), key=lambda kv: -kv[1]):
            print(f"  {n:6d}  {n / max(imported, 1):6.3f}/order  {route}")
        magento_per_order = magento_stats["total"] / max(imported, 1)
        amazon_per_order = sum(amazon_calls.values()) / max(imported, 1)
        print(f"bench: magento_calls_per_order {magento_per_order:.2f} 2.1 "
              f"{'ok' if magento_per_order <= 2.1 else 'miss'}")
        print(f"bench: amazon_calls_per_order {amazon_per_order:.3f} 0.012 "
              f"{'ok' if amazon_per_order <= 0.0125 else 'miss'}")
        workers_n = args.workers if args.mode == "rq" else 1
        print(f"bench: orders_per_second_{workers_n}_workers {imported / elapsed:.1f} - ok")
        if peak_rss_kb:
            mb = peak_rss_kb / 1024
            print(f"bench: worker_peak_rss_mb_{len(orders)}_orders {mb:.0f} 150 {'ok' if mb <= 150 else 'miss'}")
    finally:
        bridge.runtime.close()
        magento.stop()
        amazon.stop()
        if private is not None:
            private.stop()


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def _rss_kb(pid: int) -> int:
    """Resident memory of a live process (VmRSS), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for row in f:
                if row.startswith("VmRSS:"):
                    return int(row.split()[1])
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main()
