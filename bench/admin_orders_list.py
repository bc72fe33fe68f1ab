"""Time the admin's order list pages on a store with 100,000 orders (SQLite by default, or PostgreSQL).

    .venv/bin/python bench/admin_orders_list.py [--orders 100000] [--runs 20] [--db PATH] [--postgres [URL]]

Seeds one store's orders with core inserts, signs in through the real sign-in form, then requests each list
page through the Flask test client (whole request: routing, queries, template) and prints the median, p95
and worst wall time per page, and the median CPU time of this process (SQLite works inside it, so that one
shows the cost without the other programs of a busy machine). Redis is not needed: the sign-in throttle falls
back to a per-process count. `--postgres` uses a fresh database on that server (default
AMAZON_BRIDGE_TEST_POSTGRES or postgres@127.0.0.1:5432) and drops it at the end.

Target (issue 10): All Orders with every filter at once, p95 <= 50 ms, printed as
`bench: admin_all_orders_every_filter_p95_ms VALUE 50 ok|miss`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge.storage.models import AmazonOrderRecord  # noqa: E402
from tests.admin_support import AdminHarness  # noqa: E402

STATUSES = ["Unshipped", "Shipped", "Shipped", "Shipped", "Pending", "Canceled", "PartiallyShipped"]
STATES = ["imported", "imported", "imported", "waiting", "error", "skipped", "queued"]
NAMES = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Oscar"]

PAGES = [
    ("Recent Orders (landing)", "/"),
    ("All Orders, page 1, newest first", "/orders"),
    ("All Orders, page 1,000 (deep offset)", "/orders?page=1000"),
    ("All Orders, last page", "/orders?page=100000"),
    ("sort by Total, page 500", "/orders?sort=total&dir=asc&page=500"),
    ("sort by Buyer's Name desc, page 10", "/orders?sort=buyer&dir=desc&page=10"),
    ("Status = Unshipped", "/orders?status=Unshipped"),
    ("Status = Shipped + Canceled, page 200", "/orders?status=Shipped&status=Canceled&page=200"),
    ("import state = error", "/orders?import_state=error"),
    ("Purchase Date, one week", "/orders?from=2026-06-01&to=2026-06-07"),
    ("Total 100 to 120", "/orders?total_min=100&total_max=120"),
    ("Buyer's Name contains 'ali'", "/orders?buyer=ali"),
    ("Order Number prefix", "/orders?order_number=112-00012"),
    (
        "everything at once",
        "/orders?from=2026-01-01&to=2026-12-31&buyer=a&total_min=10&total_max=500"
        "&status=Shipped&import_state=imported&sort=total&dir=desc&page=3",
    ),
    ("sort by Ship By, page 500", "/orders?sort=ship_by&dir=asc&page=500"),
    ("sort by Deliver By desc, page 10", "/orders?sort=deliver_by&dir=desc&page=10"),
    ("Ship By, one week", "/orders?ship_by_from=2026-06-01&ship_by_to=2026-06-07"),
    ("Status = Error (orders in error)", "/orders?status=Error"),
    ("Prime + Premium shipping", "/orders?prime=1&premium=1"),
    ("Buyer's Name 'zzz' (no match), by Total", "/orders?buyer=zzz&sort=total&dir=desc"),
    ("Prime + Unshipped + Ship By month",
     "/orders?prime=1&status=Unshipped&ship_by_from=2026-03-01&ship_by_to=2026-03-31"),
    ("Buyer 'a', last page (counts all)", "/orders?buyer=a&page=last"),
    ("All Orders, count all", "/orders?count=all"),
    ("Amazon Order Details", "/orders/112-0001234-0001234"),
]
EVERY_FILTER = "everything at once"
TARGET_MS = 50


def seed(harness: AdminHarness, count: int) -> None:
    store = harness.add_store("us", "US store")
    rng = random.Random(7)  # noqa: S311 - fixed data for repeatable figures
    start = datetime(2025, 1, 1, tzinfo=UTC)
    batch: list[dict] = []
    with harness.runtime.db.engine.begin() as conn:
        for n in range(count):
            order_id = f"11{n % 4}-{n:07d}-{n:07d}"
            purchase = start + timedelta(minutes=n * 9 + rng.randrange(9))
            batch.append(
                {
                    "store_id": store.id,
                    "amazon_order_id": order_id,
                    "marketplace_id": "ATVPDKIKX0DER",
                    "status": rng.choice(STATUSES),
                    "fulfillment_channel": "AFN" if n % 5 == 0 else "MFN",
                    "purchase_date": purchase,
                    "last_updated": purchase + timedelta(hours=2),
                    "currency": "USD",
                    "order_total": Decimal(rng.randrange(500, 50000)) / 100,
                    "buyer_name": f"{rng.choice(NAMES)} {rng.choice(NAMES)}son",
                    "ship_service_level": "Standard",
                    "items_shipped": 0,
                    "items_unshipped": 1,
                    "is_prime": n % 3 == 0,
                    "is_premium": n % 11 == 0,
                    "latest_ship_date": purchase + timedelta(hours=24 + rng.randrange(48)),
                    "latest_delivery_date": purchase + timedelta(days=3 + rng.randrange(5)),
                    "is_business": False,
                    "snapshot": {"orderId": order_id},
                    "snapshot_version": "2026-01-01",
                    "import_state": rng.choice(STATES),
                    "magento_entity_id": n + 1 if n % 7 < 3 else None,
                    "magento_increment_id": f"{n + 1:09d}" if n % 7 < 3 else None,
                    "attempts": 0,
                    "stock_applied": False,
                    "invoiced": False,
                    "completed": False,
                    "created_at": purchase,
                    "updated_at": purchase,
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(AmazonOrderRecord), batch)
                batch = []
        if batch:
            conn.execute(insert(AmazonOrderRecord), batch)
    engine = harness.runtime.db.engine
    with engine.connect() as conn:  # statistics, and PostgreSQL's visibility map, as autovacuum leaves them
        sql = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", help="SQLite file to use (default: a temporary one)")
    parser.add_argument("--postgres", nargs="?", const=os.environ.get(
        "AMAZON_BRIDGE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="run on a fresh database of this PostgreSQL server instead")
    parser.add_argument("--no-export", action="store_true", help="skip the CSV export timing")
    args = parser.parse_args()

    drop = None
    if args.postgres:
        from tests.conftest import _drop_postgres_database, _fresh_postgres_database

        url = _fresh_postgres_database(args.postgres)
        drop = (args.postgres, url)
    else:
        directory = tempfile.mkdtemp(prefix="admin-bench-")
        db_path = args.db or f"{directory}/bench.sqlite3"
        Path(db_path).unlink(missing_ok=True)
        url = f"sqlite:///{db_path}"
    try:
        run(url, args)
    finally:
        if drop:
            _drop_postgres_database(*drop)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def run(url: str, args: argparse.Namespace) -> None:
    harness = AdminHarness(url, "redis://127.0.0.1:1/0")  # no Redis needed
    started = time.perf_counter()
    seed(harness, args.orders)
    print(f"seeded {args.orders:,} orders into {url.split('@')[-1]} in {time.perf_counter() - started:.1f} s")
    client = harness.client("viewer")

    print(f"{'page':<42} {'median ms':>9} {'p95 ms':>7} {'worst ms':>8} {'cpu ms':>7}  rows  found")
    p95s = {}
    for label, url_path in PAGES:
        times, cpu = [], []
        client.get(url_path)  # warm: the first request of a page fills caches the others share
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url_path)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            assert response.status_code == 200, (url_path, response.status_code)
        html = response.get_data(as_text=True)
        rows = html.count('<td class="order-number">')
        found = re.search(r'class="records-found">(.*?)</strong>', html, re.S)
        found_text = " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split()) if found else ""
        p95s[label] = percentile(times, 0.95)
        print(f"{label:<42} {statistics.median(times):>9.1f} {p95s[label]:>7.1f} {max(times):>8.1f} "
              f"{statistics.median(cpu):>7.1f}  {rows:>4}  {found_text}")
    if not args.no_export:
        export_csv(client)
    harness.close()
    value = p95s[EVERY_FILTER]
    verdict = "ok" if value <= TARGET_MS else "miss"
    print(f"bench: admin_all_orders_every_filter_p95_ms {value:.1f} {TARGET_MS} {verdict}")


def export_csv(client) -> None:
    """Export CSV of every order (no filter): time to the first bytes and to the end of the download, then the
    peak Python memory of a second download (tracemalloc slows Python down, so it is not on during the timing)."""
    import tracemalloc

    def download() -> tuple[float, float, int, int]:
        t0 = time.perf_counter()
        response = client.get("/orders/export.csv", buffered=False)
        chunks = iter(response.response)
        first = next(chunks)
        t_first = time.perf_counter() - t0
        size, lines = len(first), first.count(b"\n")
        for chunk in chunks:
            size += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        return t_first, time.perf_counter() - t0, size, lines

    t_first, total, size, lines = download()
    tracemalloc.start()
    download()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"Export CSV, all orders: first bytes {t_first * 1000:.0f} ms, {lines - 1:,} rows, {size / 1e6:.1f} MB "
        f"in {total:.1f} s, peak Python memory {peak / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
