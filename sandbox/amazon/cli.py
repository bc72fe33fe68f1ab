"""`amazon-bridge sandbox amazon`: run the Amazon twin in the foreground."""

from __future__ import annotations

import click

from .config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REFRESH_TOKEN, DEFAULT_SELLER_ID, AmazonTwinConfig


@click.command("amazon")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int, help="0 picks a free port.")
@click.option("--rate-scale", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Multiply every rate limit (and compress feed processing time) by N.")
@click.option("--client-id", default=DEFAULT_CLIENT_ID, show_default=True)
@click.option("--client-secret", default=DEFAULT_CLIENT_SECRET, show_default=True)
@click.option("--refresh-token", default=DEFAULT_REFRESH_TOKEN, show_default=True)
@click.option("--seller-id", default=DEFAULT_SELLER_ID, show_default=True)
@click.option("--feed-queue-seconds", default=30.0, show_default=True, type=float)
@click.option("--feed-processing-seconds", default=60.0, show_default=True, type=float)
@click.option("--gzip-reports", is_flag=True, help="Serve feed processing reports GZIP-compressed.")
@click.option("--fault-seed", default=0, show_default=True, type=int)
@click.option("--rate-429", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--rate-500", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--rate-503", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--rate-timeout", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--timeout-seconds", default=30.0, show_default=True, type=float)
@click.option("--data", "data_path", type=click.Path(dir_okay=False), default=None,
              help="JSON file to load orders from and save them to.")
@click.option("--seed-orders", default=0, show_default=True, type=int, help="Start with N generated orders.")
@click.option("--seed", default=1, show_default=True, type=int, help="Generator seed for --seed-orders.")
def amazon(host: str, port: int, rate_scale: float, client_id: str, client_secret: str, refresh_token: str,
           seller_id: str, feed_queue_seconds: float, feed_processing_seconds: float, gzip_reports: bool,
           fault_seed: int,
           rate_429: float, rate_500: float, rate_503: float, rate_timeout: float, timeout_seconds: float,
           data_path: str | None, seed_orders: int, seed: int) -> None:
    """Twin of Amazon's SP-API (LWA, Orders v2026-01-01 and v0, Feeds) on HOST:PORT."""
    from werkzeug.serving import make_server

    from .app import create_app
    from .generator import generate_catalog, generate_orders

    config = AmazonTwinConfig(
        client_id=client_id, client_secret=client_secret, refresh_tokens={refresh_token: seller_id},
        rate_scale=rate_scale, feed_queue_seconds=feed_queue_seconds,
        feed_processing_seconds=feed_processing_seconds, gzip_reports=gzip_reports, seed=fault_seed, rate_429=rate_429,
        rate_500=rate_500, rate_503=rate_503, rate_timeout=rate_timeout, timeout_seconds=timeout_seconds,
        data_path=data_path,
    )
    app = create_app(config)
    if seed_orders:
        state = app.extensions["amazon_twin"]
        catalog = generate_catalog(seed, max(20, seed_orders // 5))
        orders = generate_orders(seed_orders, seed, catalog, now=state.clock.now())
        state.upsert_orders(seller_id, orders, keep_last_updated=True)
    server = make_server(host, port, app, threaded=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - display only
    base = f"http://{shown}:{server.server_port}"
    click.echo(f"Amazon SP-API twin on {base}")
    click.echo(f"  LWA token URL : {base}/auth/o2/token")
    click.echo(f"  client_id     : {client_id}")
    click.echo(f"  client_secret : {client_secret}")
    click.echo(f"  refresh_token : {refresh_token}  (seller {seller_id})")
    click.echo(f"  rate scale    : {rate_scale}   orders seeded: {seed_orders}")
    click.echo(f"  control       : {base}/_sandbox/(orders|clock|faults|reset|stats|feeds|adjustments)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
