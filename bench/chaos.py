"""Chaos run: the whole bridge under fire, judged from the twins' own data.

    .venv/bin/python bench/chaos.py [--orders 2000] [--seed 2026] [--workers 3]      (or `make chaos ORDERS=N`)

Two stores (two Amazon sellers), stock handling `decrement_source`, 3 RQ worker processes and the scheduler
on a private redis-server, against both twins over HTTP. While the faults last:
* a random worker is SIGKILLed with its work-horse (its whole process group) every ~2 s and restarted;
  the scheduler is killed once and restarted; Redis is killed once and restarted empty on its port;
* Magento answers 10 % 5xx, drops the connection after saving 5 % of writes, stalls 2 % of calls past the
  client's time-out (and, when the twin offers `rate_save_late`, holds 2 % of creates past the time-out
  before saving them);
* Amazon answers 20 % 429 and has short 503 outages; orders change on Amazon (new orders, Pending ->
  Unshipped, buyer cancels, FBA shipments) and the merchant requests cancels.
Then the faults stop and the run waits (bounded) until everything has settled, and reports from what the
twins hold (not the bridge's database). Last line:

    chaos: amazon=N importable=N commerce=N duplicates=0 missing=0 total_mismatches=0 double_actions=0
           failed_jobs=0 stock_mismatches=0 max_wait_s=S

`CHAOS_DEBUG=1` also prints, for each stock mismatch, the orders holding that SKU.

`max_wait_s`: the longest any importable order waited, after the faults stopped (or after it became
importable, if later), before its Commerce order existed. Exit status 0 when every count is 0 and
`max_wait_s` <= 120.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import requests
from redis import Redis, RedisError
from rq import Queue

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge.config import SyncSettings  # noqa: E402
from bridge.storage.models import AmazonOrderRecord, OutboundAction, Store, StoreOrderSettings  # noqa: E402
from bridge.storage.stores import create_store  # noqa: E402
from jobs import queues  # noqa: E402
from sandbox.amazon.generator import generate_catalog, generate_orders  # noqa: E402
from sandbox.amazon.testing import start_amazon_twin  # noqa: E402
from sandbox.magento.testing import start_magento_twin  # noqa: E402
from tests.harness import US, ProcessEnv, make_bridge  # noqa: E402
from tests.redis_server import PrivateRedis  # noqa: E402
from tests.test_workers import write_config  # noqa: E402

SELLERS = {"chaos-refresh-token-1": "A1CHAOSSELLER1", "chaos-refresh-token-2": "A2CHAOSSELLER2"}
SECOND_TOKEN_ENV = "AMAZON_REFRESH_TOKEN_CHAOS2"  # noqa: S105 - a variable name
RATE_SCALE = 100.0  # Amazon's rates and feed durations, 100x faster (twin and bridge agree)
MAGENTO_CLIENT_TIMEOUT = 4.0
MAX_WAIT_TARGET = 120.0
STOCK = 100_000


def importable(order: dict) -> bool:
    """ASC's import matrix, stated from Amazon's data: MFN once Unshipped, FBA once Shipped."""
    status, by = order["fulfillment"]["fulfillmentStatus"], order["fulfillment"]["fulfilledBy"]
    if by == "AMAZON":
        return status == "SHIPPED"
    return status in ("UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED")


@dataclass
class ChaosReport:
    settled: bool
    amazon: int
    importable: int
    commerce: int
    duplicates: int
    missing: int
    total_mismatches: int
    double_actions: int
    failed_jobs: int
    stock_mismatches: int
    max_wait_s: float
    worker_kills: int = 0
    events: dict = field(default_factory=dict)

    def line(self) -> str:
        return (f"chaos: amazon={self.amazon} importable={self.importable} commerce={self.commerce} "
                f"duplicates={self.duplicates} missing={self.missing} total_mismatches={self.total_mismatches} "
                f"double_actions={self.double_actions} failed_jobs={self.failed_jobs} "
                f"stock_mismatches={self.stock_mismatches} max_wait_s={self.max_wait_s:.0f}")

    @property
    def ok(self) -> bool:
        return self.settled and not (
            self.duplicates or self.missing or self.total_mismatches or self.double_actions or self.failed_jobs
            or self.stock_mismatches
        ) and self.max_wait_s <= MAX_WAIT_TARGET


@dataclass
class Fleet:
    """The bridge's processes: workers and the scheduler, each in its own process group."""

    env: dict[str, str]
    logs: Path
    workers: list[subprocess.Popen | None] = field(default_factory=list)
    scheduler: subprocess.Popen | None = None
    generation: int = 0
    kills: int = 0

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.logs / log_name, "ab")  # noqa: SIM115 - lives as long as the child
        return subprocess.Popen([sys.executable, "-m", "bridge", *args], env=self.env, cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start_worker(self, index: int) -> None:
        self.generation += 1
        process = self._spawn(["worker", "--name", f"chaos-w{index}-{self.generation}-{os.getpid()}",
                               "--log-level", "warning"], f"worker{index}.log")
        if index < len(self.workers):
            self.workers[index] = process
        else:
            self.workers.append(process)

    def start_scheduler(self) -> None:
        self.scheduler = self._spawn(["scheduler", "--poll", "1"], "scheduler.log")

    @staticmethod
    def kill(process: subprocess.Popen | None) -> None:
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # with its work-horse (RQ's horse calls setpgrp)
            process.wait(timeout=30)

    def kill_worker(self, index: int) -> None:
        self.kill(self.workers[index])
        self.kills += 1
        self.start_worker(index)

    def restart_scheduler(self) -> None:
        self.kill(self.scheduler)
        self.start_scheduler()

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            self.kill(process)


class Twins:
    """Reads the truth from the twins over HTTP."""

    def __init__(self, magento, amazon):
        self.magento = magento
        self.amazon = amazon
        self.http = magento.session()
        self.last_entity_id = 0

    def amazon_orders(self) -> dict[str, dict]:
        out = {}
        for seller in SELLERS.values():
            response = requests.get(f"{self.amazon.url}/_sandbox/orders", params={"sellerId": seller}, timeout=60)
            response.raise_for_status()
            for order in response.json()["orders"]:
                out[order["orderId"]] = order
        return out

    def commerce_orders(self, after_entity_id: int = 0) -> list[dict]:
        orders, page = [], 1
        while True:
            response = self.http.get(f"{self.magento.url}/rest/V1/orders", timeout=60, params={
                "searchCriteria[pageSize]": 500, "searchCriteria[currentPage]": page,
                "searchCriteria[filter_groups][0][filters][0][field]": "entity_id",
                "searchCriteria[filter_groups][0][filters][0][value]": after_entity_id,
                "searchCriteria[filter_groups][0][filters][0][condition_type]": "gt"})
            response.raise_for_status()
            body = response.json()
            orders.extend(body["items"])
            if len(orders) >= body["total_count"] or not body["items"]:
                return orders
            page += 1

    def source_quantities(self) -> dict[str, Decimal]:
        response = self.http.get(f"{self.magento.url}/rest/V1/inventory/source-items", timeout=60,
                                 params={"searchCriteria[pageSize]": 10000})
        response.raise_for_status()
        return {i["sku"]: Decimal(str(i["quantity"])) for i in response.json()["items"]
                if i.get("source_code", "default") == "default"}

    def cancel_feed_orders(self) -> Counter:
        """How often each Amazon order id was sent in a cancel (order acknowledgement) feed."""
        response = requests.get(f"{self.amazon.url}/_sandbox/feeds", timeout=60)
        response.raise_for_status()
        sent: Counter = Counter()
        for feed in response.json()["feeds"]:
            document = feed.get("inputDocument") or ""
            for message in re.findall(r"<Message>(.*?)</Message>", document, flags=re.S):
                if "<StatusCode>Failure</StatusCode>" in message or "Cancel" in message:
                    for order_id in re.findall(r"<AmazonOrderID>([^<]+)</AmazonOrderID>", message):
                        sent[order_id] += 1
        return sent


def _quiet_twins() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the twins' access log would drown the story


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=int(os.environ.get("ORDERS", "2000")))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--chaos-seconds", type=float, default=None,
                        help="How long the faults last (default: scaled with --orders, 40 s to 300 s).")
    parser.add_argument("--settle-timeout", type=float, default=600.0)
    args = parser.parse_args()
    report = run(args.orders, seed=args.seed, workers=args.workers, chaos_seconds=args.chaos_seconds,
                 settle_timeout=args.settle_timeout)
    return 0 if report.ok else 1


def run(n_orders: int, *, seed: int = 2026, workers: int = 3, chaos_seconds: float | None = None,
        settle_timeout: float = 600.0, say=print) -> ChaosReport:
    _quiet_twins()
    rng = random.Random(seed)
    chaos_seconds = chaos_seconds or min(300.0, max(40.0, n_orders * 0.06))
    work = Path(tempfile.mkdtemp(prefix="chaos-"))
    (work / "logs").mkdir()
    redis_server = PrivateRedis(str(work)).start()
    magento = start_magento_twin()
    amazon = start_amazon_twin(rate_scale=RATE_SCALE, refresh_tokens=dict(SELLERS), seed=seed)
    bridge = make_bridge(database_url=f"sqlite:///{work / 'bridge.sqlite3'}", redis_url=redis_server.url,
                         magento=magento, amazon=amazon, monkeypatch=ProcessEnv(), rate_scale=RATE_SCALE)
    fleet: Fleet | None = None
    try:
        say(f"chaos: {n_orders} orders, {workers} workers, faults for {chaos_seconds:.0f} s; logs in {work / 'logs'}")
        # -- the world before the storm ------------------------------------------------------------------
        seller_ids = list(SELLERS.values())
        second_token = list(SELLERS)[1]
        os.environ[SECOND_TOKEN_ENV] = second_token
        with bridge.runtime.db.session() as session:
            first = session.query(Store).one()
            second = create_store(session, code="us2", name="Second US store", seller_id=seller_ids[1],
                                  marketplace_id=US, refresh_token_env=SECOND_TOKEN_ENV,
                                  import_from=first.order_settings.import_from)
            second.connected_at = first.connected_at
            for row in session.query(StoreOrderSettings).all():
                row.stock_handling = "decrement_source"
        catalog = generate_catalog(seed, 40)
        bridge.add_products([(p.sku, p.name, p.price) for p in catalog], qty=STOCK)
        orders = generate_orders(n_orders, seed, catalog, marketplaces=("US",), afn_rate=0.2)
        seller_of = {o["orderId"]: seller_ids[i % 2] for i, o in enumerate(orders)}
        late = orders[int(len(orders) * 0.85):]  # arrive while the faults last
        for seller in seller_ids:
            batch = [o for o in orders[: len(orders) - len(late)] if seller_of[o["orderId"]] == seller]
            amazon.seed_orders(batch, seller_id=seller)
        amazon.advance_clock(180)

        # The deployed claim lease (renewed by a heartbeat while its importer lives), not the tests' longer one:
        # a killed worker's order waits this long before another worker may take it.
        env = write_config(bridge, work / "config.toml", lease_seconds=SyncSettings.claim_lease_seconds)
        with open(work / "config.toml", "a") as config:
            config.write('schedule = "* * * * *"\n')
        config_text = (work / "config.toml").read_text().replace(
            "[magento]\n",
            # A request can be in flight at most this long (the twin's longest hold is timeout + 2 s), so an
            # order whose create is in doubt is settled within seconds, as a real store's value would be.
            f"[magento]\ntimeout_seconds = {MAGENTO_CLIENT_TIMEOUT}\n"
            f"max_request_seconds = {MAGENTO_CLIENT_TIMEOUT + 6}\n")
        (work / "config.toml").write_text(config_text)
        env[SECOND_TOKEN_ENV] = second_token
        env["AMAZON_BRIDGE_RATE_SCALE"] = str(RATE_SCALE)

        # -- the storm ---------------------------------------------------------------------------------
        magento.set_faults(seed=seed, rate_500=0.10, rate_drop=0.05, rate_timeout=0.02,
                           timeout_seconds=MAGENTO_CLIENT_TIMEOUT + 2)
        try:
            magento.set_faults(rate_save_late=0.02, save_late_seconds=MAGENTO_CLIENT_TIMEOUT + 2)
            say("chaos: Magento holds 2 % of creates past the client time-out before saving them")
        except requests.HTTPError:
            say("chaos: this Magento twin has no 'save late' fault; that mode is skipped "
                "(2 % of calls still stall past the client time-out)")
        amazon.set_faults(seed=seed, rate_429=0.20)

        fleet = Fleet(env, work / "logs")
        for index in range(workers):
            fleet.start_worker(index)
        fleet.start_scheduler()

        twins = Twins(magento, amazon)
        became_importable: dict[str, float] = {}
        start = time.monotonic()
        for order in orders[: len(orders) - len(late)]:
            if importable(order):
                became_importable[order["orderId"]] = start
        pending_late = list(late)
        outages = sorted(rng.uniform(0.15, 0.85) * chaos_seconds for _ in range(2))
        scheduler_kill_at = 0.35 * chaos_seconds
        redis_kill_at = 0.55 * chaos_seconds
        next_worker_kill = 2.0
        next_mutation = 3.0
        outage_until = 0.0
        cancels_requested: set[str] = set()
        seen_commerce: dict[str, float] = {}
        events = Counter()

        on_amazon = {o["orderId"]: dict(copy.deepcopy(o), _seller=seller_of[o["orderId"]])
                     for o in orders[: len(orders) - len(late)]}
        watcher = Watcher(Twins(magento, amazon), seen_commerce)  # its own HTTP session
        watcher.start()
        while (elapsed := time.monotonic() - start) < chaos_seconds:
            if elapsed >= next_worker_kill:
                fleet.kill_worker(rng.randrange(workers))
                next_worker_kill = elapsed + rng.uniform(1.5, 2.5)
            if scheduler_kill_at is not None and elapsed >= scheduler_kill_at:
                fleet.restart_scheduler()
                events["scheduler killed"] += 1
                scheduler_kill_at = None
            if redis_kill_at is not None and elapsed >= redis_kill_at:
                port = redis_server.port
                redis_server.kill()
                time.sleep(1.0)
                redis_server.start(port=port)
                events["redis restarted"] += 1
                redis_kill_at = None
            if outages and elapsed >= outages[0]:
                outages.pop(0)
                amazon.set_faults(seed=seed, rate_429=0.20, rate_503=1.0)
                outage_until = elapsed + 5.0
                events["amazon outages"] += 1
            if outage_until and elapsed >= outage_until:
                amazon.set_faults(seed=seed, rate_429=0.20)
                outage_until = 0.0
            if elapsed >= next_mutation:
                _mutate(rng, amazon, on_amazon, bridge, seller_of, pending_late, became_importable,
                        cancels_requested, events, n_orders)
                next_mutation = elapsed + 3.0
            amazon.advance_clock(20)  # Amazon lists an update once it is two minutes old (twin time)
            time.sleep(0.25)

        # -- the faults stop; everything must settle ----------------------------------------------------------
        if pending_late:
            on_amazon.update({o["orderId"]: dict(copy.deepcopy(o), _seller=seller_of[o["orderId"]])
                              for o in pending_late})
            _seed_late(amazon, seller_of, pending_late, became_importable, time.monotonic())
        magento.set_faults(rate_500=0, rate_drop=0, rate_timeout=0)
        with contextlib.suppress(requests.HTTPError):
            magento.set_faults(rate_save_late=0)
        amazon.set_faults(rate_429=0, rate_503=0)
        faults_stopped = time.monotonic()
        say(f"chaos: faults stopped after {faults_stopped - start:.0f} s; {fleet.kills} worker kills, "
            + ", ".join(f"{k}: {v}" for k, v in sorted(events.items())))
        settled = False
        calm_polls = 0
        while time.monotonic() - faults_stopped < settle_timeout:
            amazon.advance_clock(20)
            if _settled(twins, bridge, on_amazon, seen_commerce, cancels_requested):
                calm_polls += 1
                if calm_polls >= 3:
                    settled = True
                    break
            else:
                calm_polls = 0
            time.sleep(2.0)
        say(f"chaos: {'settled' if settled else 'NOT settled'} {time.monotonic() - faults_stopped:.0f} s after "
            "the faults stopped")
        if not settled:
            for line in _diagnose(bridge):
                say(f"chaos: not settled: {line}")
        fleet.stop()
        watcher.stop()
        _note_commerce(twins, seen_commerce)

        # -- the verdict, from the twins' data ------------------------------------------------------------
        amazon_orders = twins.amazon_orders()
        commerce = twins.commerce_orders()
        by_ext = defaultdict(list)
        for order in commerce:
            by_ext[order.get("ext_order_id")].append(order)
        should = {oid for oid, o in amazon_orders.items() if importable(o)}
        duplicates = sum(len(v) - 1 for v in by_ext.values() if len(v) > 1)
        missing = len(should - set(by_ext))
        total_mismatches = sum(
            1 for ext, found in by_ext.items() for o in found
            if ext in amazon_orders and Decimal(str(o["grand_total"])) != _expected_total(amazon_orders[ext])
        )
        double_actions = sum(n - 1 for n in twins.cancel_feed_orders().values() if n > 1)
        conn = Redis.from_url(redis_server.url)
        failed_jobs = sum(Queue(name, connection=conn).failed_job_registry.count for name in queues.ALL_QUEUES)
        stock_mismatches = _stock_mismatches(twins, amazon_orders, by_ext, bridge, catalog)
        waits = [max(0.0, seen_commerce.get(oid, time.monotonic())
                     - max(faults_stopped, became_importable.get(oid, start))) for oid in should]
        max_wait = max(waits, default=0.0)
        report = ChaosReport(
            settled=settled, amazon=len(amazon_orders), importable=len(should), commerce=len(commerce),
            duplicates=duplicates, missing=missing, total_mismatches=total_mismatches,
            double_actions=double_actions, failed_jobs=failed_jobs, stock_mismatches=stock_mismatches,
            max_wait_s=max_wait, worker_kills=fleet.kills, events=dict(events),
        )
        say(f"chaos: cancels requested {len(cancels_requested)}; logs in {work / 'logs'}")
        say(report.line())
        return report
    finally:
        if fleet is not None:
            fleet.stop()
        bridge.runtime.close()
        magento.stop()
        amazon.stop()
        redis_server.stop()


class Watcher(threading.Thread):
    """Notes, every second or so, when each Commerce order first appeared (the chaos loop keeps its pace)."""

    def __init__(self, twins: Twins, seen: dict[str, float]):
        super().__init__(name="chaos-watcher", daemon=True)
        self.twins, self.seen = twins, seen
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(1.0):
            _note_commerce(self.twins, self.seen)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=60)


def _note_commerce(twins: Twins, seen: dict[str, float]) -> None:
    """When each Amazon order was first seen as a Commerce order (from the Magento twin; only orders newer
    than the last one seen are read)."""
    try:
        orders = twins.commerce_orders(after_entity_id=twins.last_entity_id)
    except requests.RequestException:
        return
    now = time.monotonic()
    for order in orders:
        seen.setdefault(order.get("ext_order_id"), now)
        twins.last_entity_id = max(twins.last_entity_id, int(order["entity_id"]))


def _seed_late(amazon, seller_of, pending_late, became_importable, now) -> None:
    for seller in set(seller_of.values()):
        batch = [o for o in pending_late if seller_of[o["orderId"]] == seller]
        if batch:
            amazon.seed_orders(batch, seller_id=seller)
    for order in pending_late:
        if importable(order):
            became_importable[order["orderId"]] = now
    pending_late.clear()


def _mutate(rng, amazon, on_amazon, bridge, seller_of, pending_late, became_importable, cancels_requested, events,
            n_orders) -> None:
    """Orders change on Amazon while the bridge works, and the merchant asks for cancels."""
    now = time.monotonic()
    batch_size = max(1, n_orders // 40)
    if pending_late:
        arriving, pending_late[:] = pending_late[:batch_size], pending_late[batch_size:]
        events["new orders"] += len(arriving)
        on_amazon.update({o["orderId"]: dict(copy.deepcopy(o), _seller=seller_of[o["orderId"]]) for o in arriving})
        _seed_late(amazon, seller_of, arriving, became_importable, now)
    # What Amazon holds now, from what this run seeded and changed (the twin changes nothing by itself but
    # the merchant's cancels, which are excluded below): reading 2,000 orders back every 3 s would slow the
    # twins for the bridge.
    pending = [o for o in on_amazon.values() if o["fulfillment"]["fulfillmentStatus"] == "PENDING"]
    rng.shuffle(pending)
    moves = max(1, batch_size // 4)
    for order in pending[:moves]:
        seller = seller_of[order["orderId"]]
        if order["fulfillment"]["fulfilledBy"] == "AMAZON":
            requests.post(f"{amazon.url}/_sandbox/orders/{order['orderId']}/status",
                          json={"status": "SHIPPED", "sellerId": seller}, timeout=30).raise_for_status()
            order["fulfillment"]["fulfillmentStatus"] = "SHIPPED"
            events["FBA shipped"] += 1
        else:
            requests.post(f"{amazon.url}/_sandbox/orders/{order['orderId']}/status",
                          json={"status": "UNSHIPPED", "sellerId": seller}, timeout=30).raise_for_status()
            order["fulfillment"]["fulfillmentStatus"] = "UNSHIPPED"
            events["pending -> unshipped"] += 1
        became_importable[order["orderId"]] = now
    for order in pending[moves: moves + max(1, moves // 2)]:
        requests.post(f"{amazon.url}/_sandbox/orders/{order['orderId']}/status",
                      json={"status": "CANCELLED", "cancelledBy": "BUYER", "sellerId": seller_of[order["orderId"]]},
                      timeout=30).raise_for_status()
        order["fulfillment"]["fulfillmentStatus"] = "CANCELLED"
        events["buyer cancels"] += 1
    # The merchant cancels a few imported, Unshipped MFN orders (what the admin's Cancel Order page records).
    with bridge.runtime.db.session() as session:
        candidates = session.query(AmazonOrderRecord).filter(
            AmazonOrderRecord.import_state == "imported", AmazonOrderRecord.fulfillment_channel == "MFN",
        ).order_by(AmazonOrderRecord.id.desc()).limit(200).all()
        candidates = [r for r in candidates if r.amazon_order_id not in cancels_requested
                      and on_amazon.get(r.amazon_order_id, {}).get("fulfillment", {}).get("fulfillmentStatus")
                      == "UNSHIPPED"]
        rng.shuffle(candidates)
        stores = set()
        for record in candidates[: max(1, batch_size // 10)]:
            session.add(OutboundAction(order_id=record.id, kind="cancel", dedupe_key="cancel", reason="NoInventory",
                                       requested_by="chaos"))
            cancels_requested.add(record.amazon_order_id)
            stores.add(record.store_id)
            events["merchant cancels"] += 1
        session.commit()
    for store_id in stores:
        with contextlib.suppress(Exception):  # Redis may be restarting: the scheduler's sweep queues it
            queues.enqueue_actions(bridge.runtime.redis, store_id)


def _settled(twins: Twins, bridge, on_amazon: dict, seen_commerce: dict, cancels_requested: set[str]) -> bool:
    """No job left, every importable order has its Commerce order, every requested cancel reached Amazon.

    Cheap checks first (Redis; the watcher's Commerce orders; the run's model of Amazon); the twins' full
    data is read only for the verdict, so settling is not slowed by the measuring."""
    try:
        conn = bridge.runtime.redis
        busy = sum(len(Queue(name, connection=conn)) + Queue(name, connection=conn).started_job_registry.count
                   for name in queues.ALL_QUEUES)
    except RedisError:  # Redis busy for a moment: not settled yet
        return False
    if busy:
        return False
    if _imports_in_flight(bridge):
        return False
    if any(importable(o) and oid not in seen_commerce for oid, o in on_amazon.items()):
        return False
    for oid in cancels_requested:
        response = requests.get(f"{twins.amazon.url}/_sandbox/orders/{oid}", timeout=30,
                                params={"sellerId": on_amazon[oid]["_seller"]})
        if response.status_code != 200 or response.json()["fulfillment"]["fulfillmentStatus"] != "CANCELLED":
            return False
    return _commerce_followed_cancels(bridge, on_amazon, cancels_requested)


def _diagnose(bridge) -> list[str]:
    """Why the run did not settle: where the import jobs of the orders still queued in the database are (RQ's
    status), the queues and registries, and what each worker is doing."""
    from rq import Worker
    from sqlalchemy import select

    from bridge.storage.models import AmazonOrderRecord

    o = AmazonOrderRecord
    with bridge.runtime.db.session() as session:
        waiting = session.execute(select(o.store_id, o.amazon_order_id, o.import_state, o.claim_expires_at,
                                         o.next_attempt_at).where(o.import_state == "queued")).all()
    conn = bridge.runtime.redis
    statuses = Counter()
    for store_id, order_id, *_ in waiting:
        raw = conn.hget(f"rq:job:{queues.import_job_id(store_id, order_id)}", "status")
        statuses[raw.decode() if raw else "no job"] += 1
    lines = [f"{len(waiting)} orders queued in the database; their import jobs: {dict(statuses)}"]
    for name in queues.ALL_QUEUES:
        q = Queue(name, connection=conn)
        lines.append(f"queue {name}: {len(q)} waiting, started {q.started_job_registry.count}, scheduled "
                     f"{q.scheduled_job_registry.count}, deferred {q.deferred_job_registry.count}, failed "
                     f"{q.failed_job_registry.count}")
    for worker in Worker.all(connection=conn):
        lines.append(f"worker {worker.name}: {worker.get_state()}, job {worker.get_current_job_id()}, "
                     f"heartbeat {worker.last_heartbeat}")
    return lines


def _imports_in_flight(bridge) -> bool:
    """An order still queued in the bridge's database (say, its Commerce order created but the import not
    finished when its worker was killed, waiting for the claim to run out): the stock and state checks would
    judge work that is still going on."""
    from sqlalchemy import func, select

    from bridge.storage.models import AmazonOrderRecord

    o = AmazonOrderRecord
    with bridge.runtime.db.session() as session:
        return bool(session.scalar(select(func.count()).select_from(o).where(o.import_state == "queued")))


def _commerce_followed_cancels(bridge, on_amazon: dict, cancels_requested: set[str]) -> bool:
    """Every Commerce order whose Amazon order was canceled is canceled or credit-memoed, its stock given back
    (bridge.lifecycle), as the bridge's database says."""
    from sqlalchemy import select

    from bridge.storage.models import AmazonOrderRecord

    canceled = cancels_requested | {
        oid for oid, o in on_amazon.items() if o["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    }
    o = AmazonOrderRecord
    with bridge.runtime.db.session() as session:
        for oid, status, synced in session.execute(
            select(o.amazon_order_id, o.status, o.commerce_synced_status).where(o.magento_entity_id.is_not(None))
        ):
            if (oid in canceled or status == "Canceled") and synced not in ("canceled", "refunded"):
                return False
    return True


def _stock_mismatches(twins: Twins, amazon_orders, by_ext, bridge, catalog) -> int:
    """SKUs whose default-source quantity is not the start quantity minus what the store decremented:
    every merchant-fulfilled Commerce order, plus Pending merchant-fulfilled orders (reserved); canceled
    orders gave theirs back (a reservation released, or bridge.lifecycle after import)."""
    expected = {p.sku: Decimal(STOCK) for p in catalog}
    for oid, order in amazon_orders.items():
        if order["fulfillment"]["fulfilledBy"] == "AMAZON":
            continue
        status = order["fulfillment"]["fulfillmentStatus"]
        if status == "CANCELLED":
            continue
        if oid not in by_ext and status not in ("PENDING",):
            continue
        for item in order["orderItems"]:
            sku = item["product"]["sellerSku"]
            if sku in expected:
                expected[sku] -= Decimal(str(item["quantityOrdered"]))
    actual = twins.source_quantities()
    wrong = {sku: (qty, actual.get(sku)) for sku, qty in expected.items() if actual.get(sku) != qty}
    if wrong and os.environ.get("CHAOS_DEBUG"):
        print("chaos: stock (expected, actual):", wrong)
        for oid, order in amazon_orders.items():
            skus = {i["product"]["sellerSku"]: i["quantityOrdered"] for i in order["orderItems"]}
            if set(skus) & set(wrong):
                print("   ", oid, order["fulfillment"]["fulfillmentStatus"], order["fulfillment"]["fulfilledBy"],
                      skus, "in Commerce" if oid in by_ext else "not in Commerce")
    return len(wrong)


def _expected_total(raw: dict) -> Decimal:
    """Amazon's order total less the tax Amazon itself collects (the stores keep the default *Tax collected by
    Amazon* = exclude, so the Commerce order does not carry it)."""
    from bridge.amazon.mapping import order_from_v2026

    return Decimal(raw["proceeds"]["grandTotal"]["amount"]) - order_from_v2026(raw).facilitator_tax


if __name__ == "__main__":
    sys.exit(main())
