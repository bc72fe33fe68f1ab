"""The overhead benchmark's yardstick (`bench/overhead.py`): the HTTP calls a bridge import makes, recorded
at the twins, replayed by a bare `requests` loop against fresh twins in the same state, do the same work —
the same Commerce orders, every status as recorded — and a replay against twins in another state says so."""

from __future__ import annotations

from bench.overhead import commerce_orders, importable_orders, seed_twins
from sandbox import recording
from sandbox.amazon.generator import generate_catalog
from sandbox.amazon.testing import start_amazon_twin
from sandbox.magento.testing import start_magento_twin


def test_recorded_import_replays_to_the_same_commerce_orders(bridge):
    catalog = generate_catalog(7, 12)
    orders = importable_orders(20, 7, catalog)
    log = recording.CallLog()
    recording.install(bridge.magento, "magento", log)
    recording.install(bridge.amazon, "amazon", log)
    seed_twins(bridge.magento, bridge.amazon, catalog, orders)

    log.start()
    bridge.sync()
    calls = log.stop()
    expected = commerce_orders(bridge.magento)
    assert len(expected) == 20 and all(len(found) == 1 for found in expected.values())
    assert sum(c.method == "PUT" and c.uri.endswith("/V1/orders/create") for c in calls) == 20
    assert any(c.twin == "amazon" and "paginationToken" not in c.uri and "/orders/" in c.uri for c in calls)

    magento, amazon = start_magento_twin(), start_amazon_twin()
    try:
        seed_twins(magento, amazon, catalog, orders)
        result = recording.replay(calls, amazon_url=amazon.url, magento_url=magento.url)
        assert result.calls == len(calls)
        assert result.status_mismatches == []
        assert commerce_orders(magento) == expected  # creates created: same numbers, totals and states
    finally:
        magento.stop()
        amazon.stop()

    # Twins in another state (no products, no orders): the replay reports that it did not do the same work.
    magento, amazon = start_magento_twin(), start_amazon_twin()
    try:
        result = recording.replay(calls, amazon_url=amazon.url, magento_url=magento.url)
        assert result.status_mismatches
    finally:
        magento.stop()
        amazon.stop()
