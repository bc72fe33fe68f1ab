"""Amazon and Magento calls per order for each Commerce -> Amazon path, counted by the bridge's clients.

    .venv/bin/python bench/outbox_calls.py [--orders 50]

For N imported orders: ship each in Commerce (UPS tracking) -> confirmShipment; refund one unit of each
(credit memo) -> one refund feed; and for N other orders, cancel in Commerce -> one cancel feed. The Commerce
poll runs once per path, the outbox until Amazon's processing reports are read (the Amazon twin's clock is
moved forward, so nothing waits). Uses its own redis-server and SQLite file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bridge.commerce_changes import poll_commerce  # noqa: E402
from bridge.outbox import process_outbox  # noqa: E402
from bridge.storage.models import ActionState, OutboundAction, Store  # noqa: E402
from sandbox.amazon.testing import start_amazon_twin  # noqa: E402
from sandbox.magento.testing import start_magento_twin  # noqa: E402
from tests.harness import ProcessEnv, make_bridge, v2026_order  # noqa: E402
from tests.redis_server import PrivateRedis  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=50)
    args = parser.parse_args()
    n = args.orders
    work = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    redis = PrivateRedis(str(work)).start()
    magento, amazon = start_magento_twin(), start_amazon_twin()
    bridge = make_bridge(database_url=f"sqlite:///{work / 'bridge.sqlite3'}", redis_url=redis.url, magento=magento,
                         amazon=amazon, monkeypatch=ProcessEnv())
    try:
        bridge.add_products([("SKU-1", "Thing", "10.00")], qty=100000)
        shipped = [f"111-{9000000 + i:07d}-0000001" for i in range(n)]
        canceled = [f"111-{9000000 + i:07d}-0000002" for i in range(n)]
        bridge.seed_amazon([v2026_order(o) for o in shipped])
        bridge.sync()
        bridge.set_settings(create_invoice=False)  # Magento cancels only orders not invoiced
        bridge.seed_amazon([v2026_order(o) for o in canceled])
        bridge.sync()
        refs = {o["ext_order_id"]: o["entity_id"] for o in bridge.magento_orders()}
        http = magento.session()
        with bridge.runtime.db.session() as session:
            client = bridge.runtime.amazon_client(session.get(Store, bridge.store_id))

        def run(label: str, setup) -> None:
            setup()
            mc = bridge.runtime.magento_client()
            client.calls.clear()
            poll_commerce(bridge.runtime.db.sessionmaker, bridge.store_id, mc)
            for _ in range(200):
                amazon.advance_clock(200)
                process_outbox(bridge.runtime.db.sessionmaker, bridge.store_id, client, rate_scale=1000.0)
                with bridge.runtime.db.session() as session:
                    if not session.scalars(select(OutboundAction).where(OutboundAction.state.in_(
                            [ActionState.QUEUED.value, ActionState.SUBMITTED.value]))).first():
                        break
                time.sleep(0.07)
            amazon_calls = sum(client.calls.values())
            magento_calls = mc.call_count
            print(f"{label}: {n} orders; Amazon {amazon_calls} calls ({amazon_calls / n:.2f}/order: "
                  f"{dict(sorted(client.calls.items()))}); Magento {magento_calls} calls "
                  f"({magento_calls / n:.2f}/order)")

        def ship() -> None:
            for order_id in shipped:
                http.post(f"{magento.url}/rest/V1/order/{refs[order_id]}/ship", json={"tracks": [
                    {"carrier_code": "ups", "title": "UPS", "track_number": f"1Z{order_id[-9:]}"}]}, timeout=30)

        def refund() -> None:
            amazon.advance_clock(180)
            bridge.sync()  # the bridge learns the orders are Shipped
            for order_id in shipped:
                order = bridge.magento_order(refs[order_id])
                http.post(f"{magento.url}/rest/V1/order/{refs[order_id]}/refund", json={
                    "items": [{"order_item_id": order["items"][0]["item_id"], "qty": 1}],
                    "arguments": {"shipping_amount": 0}}, timeout=30)

        def cancel() -> None:
            for order_id in canceled:
                http.post(f"{magento.url}/rest/V1/orders/{refs[order_id]}/cancel", timeout=30)

        run("shipment -> confirmShipment", ship)
        run("credit memo -> refund feed", refund)
        run("Commerce cancel -> cancel feed", cancel)
    finally:
        bridge.runtime.close()
        magento.stop()
        amazon.stop()
        redis.stop()


if __name__ == "__main__":
    main()
