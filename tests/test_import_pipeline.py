"""Importing Amazon orders into Commerce, end to end: Amazon twin -> bridge -> Magento twin, over HTTP."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from bridge.amazon.mapping import order_from_v2026
from bridge.domain import ImportState
from bridge.importer.pipeline import ImportDeferred
from bridge.service import make_importer
from bridge.storage.models import AmazonOrderRecord, SkuMapping, SyncRun
from sandbox.amazon.generator import generate_catalog, generate_orders
from tests.harness import line, make_bridge, v2026_order

MODELS = Path(__file__).resolve().parent.parent / "sandbox" / "amazon" / "models"  # Amazon's, unmodified


@pytest.fixture
def bridge(database_url, redis_url, magento_twin, amazon_twin, monkeypatch):
    """The whole pipeline, on SQLite and again on PostgreSQL."""
    b = make_bridge(database_url=database_url, redis_url=redis_url, magento=magento_twin, amazon=amazon_twin,
                    monkeypatch=monkeypatch)
    yield b
    b.runtime.close()


def D(value) -> Decimal:  # noqa: N802 - reads like the type it makes
    return Decimal(str(value))


def test_an_unshipped_order_becomes_one_commerce_order_with_amazons_numbers(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00"), ("SKU-2", "Other", "5.00")])
    order = v2026_order("111-0000001-0000001", items=[
        line("SKU-1", "Thing", "2", "10.00", tax="1.65", shipping="4.99", shipping_tax="0.41", discount="2.00"),
        line("SKU-2", "Other", "1", "5.00", tax="0.41"),
    ])
    bridge.seed_amazon([order])

    bridge.sync()

    [magento_order] = bridge.magento_orders(ext_order_id="111-0000001-0000001")
    full = bridge.magento_order(magento_order["entity_id"])
    assert D(full["grand_total"]) == D(order["proceeds"]["grandTotal"]["amount"]) == Decimal("30.46")
    assert D(full["tax_amount"]) == Decimal("2.47")
    assert D(full["shipping_amount"]) == Decimal("4.99")
    assert abs(D(full["discount_amount"])) == Decimal("2.00")
    assert full["order_currency_code"] == "USD"
    assert full["payment"]["po_number"] == "111-0000001-0000001"
    assert {i["sku"]: D(i["qty_ordered"]) for i in full["items"]} == {"SKU-1": 2, "SKU-2": 1}
    assert full["billing_address"]["region_id"] == 62  # Washington, from the store's directory
    comments = " ".join(h.get("comment") or "" for h in full["status_histories"])
    assert "View or Cancel Amazon Order" in comments
    assert "http://admin.test/orders/111-0000001-0000001" in comments
    assert full["state"] == "processing"  # invoiced offline, as ASC does
    record = bridge.record("111-0000001-0000001")
    assert record.import_state == ImportState.IMPORTED.value
    assert record.magento_increment_id == full["increment_id"]
    assert [e.kind for e in record.events][:2] == ["received", "linked"]

    with bridge.runtime.db.session() as session:
        run = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert (run.result, run.orders_seen, run.imported, run.errors) == ("ok", 1, 1, 0)

    bridge.sync()  # the same order again: still one Commerce order
    assert len(bridge.magento_orders(ext_order_id="111-0000001-0000001")) == 1


def test_amazons_sandbox_example_order_imports_with_its_exact_total(bridge):
    model = json.loads((MODELS / "orders_2026-01-01.json").read_text())
    examples = model["paths"]["/orders/2026-01-01/orders/{orderId}"]["get"]["responses"]["200"]
    example = next(e["response"]["order"] for e in examples["x-amzn-api-sandbox"]["static"]
                   if e["response"]["order"]["orderId"] == "114-9876543-1234567")
    example = {**example, "createdTime": (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    bridge.add_products([("ECHO-POP-US-BLK", "Echo Pop", "39.99")])
    bridge.seed_amazon([example])

    bridge.sync()

    [magento_order] = bridge.magento_orders(ext_order_id="114-9876543-1234567")
    assert D(magento_order["grand_total"]) == Decimal("49.99")
    assert D(magento_order["tax_amount"]) == Decimal("10.00")


def test_generated_orders_import_with_exact_totals(bridge):
    catalog = generate_catalog(11, 12)
    bridge.add_products([(p.sku, p.name, p.price) for p in catalog])
    orders = generate_orders(40, 11, catalog, marketplaces=("US",))
    bridge.seed_amazon(orders)

    bridge.sync()

    # US sales tax is collected by Amazon (marketplace facilitator) and, by default, left off the Commerce order.
    mapped = {o["orderId"]: order_from_v2026(o) for o in orders}
    imported = {o["ext_order_id"]: D(o["grand_total"]) for o in bridge.magento_orders()}
    assert imported, "no order was imported"
    for amazon_order_id, total in imported.items():
        amazon = mapped[amazon_order_id]
        assert total + amazon.facilitator_tax == amazon.order_total, amazon_order_id
    should_import = {o["orderId"] for o in orders if _importable(o["fulfillment"])}
    assert set(imported) == should_import


@pytest.mark.parametrize(
    ("status", "fulfilled_by", "created"),
    [
        ("PENDING", "MERCHANT", False),
        ("PENDING_AVAILABILITY", "MERCHANT", False),
        ("CANCELLED", "MERCHANT", False),
        ("PARTIALLY_SHIPPED", "MERCHANT", True),
        ("SHIPPED", "MERCHANT", True),
        ("UNSHIPPED", "AMAZON", False),
        ("SHIPPED", "AMAZON", True),
    ],
)
def test_asc_import_rules(bridge, status, fulfilled_by, created):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000002-0000001", status=status, fulfilled_by=fulfilled_by)])
    bridge.sync()
    assert len(bridge.magento_orders()) == (1 if created else 0)


def test_fba_orders_are_completed_without_touching_stock(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")], qty=0)  # no stock in Commerce: Amazon shipped it
    bridge.seed_amazon([v2026_order("111-0000003-0000001", status="SHIPPED", fulfilled_by="AMAZON")])
    requests.delete(f"{bridge.magento.url}/_sandbox/stats", timeout=10).raise_for_status()
    bridge.sync()
    [order] = bridge.magento_orders()
    full = bridge.magento_order(order["entity_id"])
    assert (full["state"], full["status"]) == ("complete", "complete")
    assert Decimal(str(full["total_invoiced"])) == Decimal(str(full["grand_total"]))  # offline invoice, as ASC
    assert all(i["qty_shipped"] == i["qty_ordered"] for i in full["items"])  # nothing left to ship in Commerce
    # Magento completed it when the invoice left nothing to do: no order save of its own
    assert "POST /V1/orders" not in bridge.magento.stats()["routes"]


def test_fba_orders_are_completed_without_an_invoice_too(bridge):
    bridge.set_settings(create_invoice=False)
    bridge.add_products([("SKU-1", "Thing", "10.00")], qty=0)
    bridge.seed_amazon([v2026_order("111-0000003-0000002", status="SHIPPED", fulfilled_by="AMAZON")])
    bridge.sync()
    [order] = bridge.magento_orders()
    full = bridge.magento_order(order["entity_id"])
    assert full["state"] == "complete" and not full.get("total_invoiced")


def test_orders_placed_before_the_store_was_connected_are_listed_but_never_created(bridge):
    bridge.set_settings(import_from=datetime.now(UTC) - timedelta(hours=1))
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000004-0000001", created=datetime.now(UTC) - timedelta(days=2))])
    bridge.sync()
    assert bridge.magento_orders() == []
    assert bridge.record("111-0000004-0000001").import_state == ImportState.SKIPPED.value


def test_import_disabled_creates_nothing_and_enabling_it_imports(bridge):
    bridge.set_settings(import_enabled=False)
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000005-0000001")])
    bridge.sync()
    assert bridge.magento_orders() == []
    assert bridge.record("111-0000005-0000001").status == "Unshipped"  # listed all the same

    bridge.set_settings(import_enabled=True)
    bridge.sync()
    assert len(bridge.magento_orders()) == 1


def test_unknown_sku_waits_in_error_and_imports_once_the_mapping_is_fixed(bridge):
    bridge.add_products([("CATALOG-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000006-0000001", items=[line("AMZ-SKU-1", "Thing", "1", "10.00")])])
    bridge.sync()
    record = bridge.record("111-0000006-0000001")
    assert record.import_state == ImportState.ERROR.value
    assert record.notes == 'Cannot create sales order: Product "AMZ-SKU-1" does not exist'
    assert bridge.magento_orders() == []

    with bridge.runtime.db.session() as session:
        session.add(SkuMapping(store_id=bridge.store_id, seller_sku="AMZ-SKU-1", catalog_sku="CATALOG-1"))
    outcome = make_importer(bridge.runtime).import_order(bridge.store_id, "111-0000006-0000001")  # "Retry import"
    assert outcome.state is ImportState.IMPORTED
    [order] = bridge.magento_orders()
    assert [i["sku"] for i in bridge.magento_order(order["entity_id"])["items"]] == ["CATALOG-1"]


def test_out_of_stock_product_waits_in_error_with_ascs_wording(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")], qty=0)
    bridge.seed_amazon([v2026_order("111-0000007-0000001")])
    bridge.sync()
    record = bridge.record("111-0000007-0000001")
    assert record.import_state == ImportState.ERROR.value
    assert record.notes == 'Cannot create sales order: Product "SKU-1" in order is not salable'


def test_a_response_lost_after_magento_saved_the_order_leaves_exactly_one_order(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000008-0000001")])
    faults = f"{bridge.magento.url}/_sandbox/faults"
    bridge.magento.session().post(faults, json={"rate_drop": 1.0, "seed": 1})  # every write: saved, then dropped
    with pytest.raises(ImportDeferred):  # the job fails; RQ retries it later
        bridge.sync()
    assert len(bridge.magento_orders()) == 1
    record = bridge.record("111-0000008-0000001")
    assert "Create response lost; found the saved Commerce order #000000001." in [e.message for e in record.events]
    bridge.magento.session().post(faults, json={"rate_drop": 0.0})

    make_importer(bridge.runtime).import_order(bridge.store_id, "111-0000008-0000001")  # the retry

    [order] = bridge.magento_orders()
    record = bridge.record("111-0000008-0000001")
    assert record.import_state == ImportState.IMPORTED.value
    assert record.magento_entity_id == order["entity_id"]
    full = bridge.magento_order(order["entity_id"])
    links = [h for h in full["status_histories"] if "View or Cancel Amazon Order" in (h.get("comment") or "")]
    assert len(links) == 1  # the comment saved before the drop is not written twice
    assert full["state"] == "processing"


def test_two_workers_racing_on_one_order_leave_exactly_one(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order("111-0000009-0000001")])
    bridge.sync(importer=_NoImport())  # store it, queue it, import nothing yet

    barrier = threading.Barrier(4)
    outcomes = []

    def work():
        importer = make_importer(bridge.runtime)
        barrier.wait()
        outcomes.append(importer.import_order(bridge.store_id, "111-0000009-0000001"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(bridge.magento_orders()) == 1
    assert sum(1 for o in outcomes if o.created) == 1


def test_a_429_storm_slows_the_sync_but_fails_nothing(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.seed_amazon([v2026_order(f"111-0000010-{n:07d}") for n in range(5)])
    bridge.amazon.set_faults(rate_429=0.6, seed=3)
    bridge.sync()
    assert len(bridge.magento_orders()) == 5
    stats = bridge.amazon.stats()
    assert stats["throttledTotal"] + sum(stats["faults"].values()) > 0, "the storm never happened"


def _importable(fulfillment: dict) -> bool:
    """ASC's matrix, stated independently of the code under test."""
    status, by = fulfillment["fulfillmentStatus"], fulfillment["fulfilledBy"]
    if by == "AMAZON":
        return status == "SHIPPED"
    return status in ("UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED")


class _NoImport:
    """An importer that links nothing and imports nothing: leaves due orders queued."""

    def link_existing(self, store_id, ids):
        return 0

    def import_order(self, store_id, amazon_order_id, **kwargs):
        return None


def test_an_unreadable_amazon_order_waits_in_error_and_the_rest_import(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    broken = v2026_order("111-0000011-0000002")
    broken["orderItems"][0]["quantityOrdered"] = "two"  # not a number: the order can't be mapped
    bridge.seed_amazon([v2026_order("111-0000011-0000001"), broken])

    bridge.sync()

    assert [o["ext_order_id"] for o in bridge.magento_orders()] == ["111-0000011-0000001"]
    record = bridge.record("111-0000011-0000002")
    assert record.import_state == ImportState.ERROR.value
    assert record.notes.startswith("Cannot read this order from Amazon")
    assert "quantityOrdered" in record.notes


def test_an_operators_address_correction_is_used_and_survives_later_syncs(bridge):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    bridge.set_settings(import_enabled=False)  # hold the import while the address is fixed
    bridge.seed_amazon([v2026_order("111-0000012-0000001")])
    bridge.sync()
    with bridge.runtime.db.session() as session:
        record = session.query(AmazonOrderRecord).filter_by(amazon_order_id="111-0000012-0000001").one()
        record.address_override = {"line1": "500 Pine Street", "line2": "Suite 4", "city": "Portland",
                                   "region": "Oregon", "postal_code": "97204"}
    bridge.sync()  # Amazon's snapshot is read again; the correction stays
    assert bridge.record("111-0000012-0000001").address_override["city"] == "Portland"

    bridge.set_settings(import_enabled=True)
    bridge.sync()

    [order] = bridge.magento_orders()
    full = bridge.magento_order(order["entity_id"])
    shipping = full["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]
    assert shipping["street"] == ["500 Pine Street", "Suite 4"]
    assert (shipping["city"], shipping["postcode"], shipping["region_id"]) == ("Portland", "97204", 49)


def source_quantity(bridge, sku: str) -> Decimal:
    response = bridge.magento.session().get(
        f"{bridge.magento.url}/rest/V1/inventory/source-items",
        params={"searchCriteria[filter_groups][0][filters][0][field]": "sku",
                "searchCriteria[filter_groups][0][filters][0][value]": sku}, timeout=30)
    return D(response.json()["items"][0]["quantity"])


def test_stock_is_reserved_for_pending_orders_once_and_given_back_when_amazon_cancels(bridge):
    bridge.set_settings(stock_handling="decrement_source", reserve_pending=True)
    bridge.add_products([("SKU-1", "Thing", "10.00")], qty=100)
    items = [line("SKU-1", "Thing", "2", "10.00")]
    bridge.seed_amazon([v2026_order("111-0000013-0000001", status="PENDING", items=items),
                        v2026_order("111-0000013-0000002", status="PENDING", items=items)])
    bridge.sync()
    assert source_quantity(bridge, "SKU-1") == 96  # both Pending orders reserved
    assert bridge.record("111-0000013-0000001").notes == "Inventory reserved"

    bridge.amazon.set_status("111-0000013-0000001", "UNSHIPPED")
    bridge.amazon.set_status("111-0000013-0000002", "CANCELLED", cancelledBy="BUYER", reason="Changed my mind")
    bridge.amazon.advance_clock(180)
    bridge.sync()

    assert [o["ext_order_id"] for o in bridge.magento_orders()] == ["111-0000013-0000001"]
    assert source_quantity(bridge, "SKU-1") == 98  # created without a second decrement; the cancel gave 2 back
    bridge.sync()
    assert source_quantity(bridge, "SKU-1") == 98


def test_stock_for_many_pending_orders_is_reserved_reading_a_bounded_batch_at_a_time(bridge):
    """A first sync (or a backfill) can find thousands of Pending orders: each query reads at most a batch of
    records, and every order is still reserved once."""
    from sqlalchemy import event

    from bridge.service import stock_locks
    from bridge.stock import reconcile_reservations

    bridge.add_products([("SKU-1", "Thing", "10.00")], qty=100)
    items = [line("SKU-1", "Thing", "2", "10.00")]
    bridge.seed_amazon([v2026_order(f"111-0000015-000000{i}", status="PENDING", items=items) for i in range(5)])
    bridge.sync()  # recorded; no stock handling yet
    bridge.set_settings(stock_handling="decrement_source", reserve_pending=True)
    loaded: dict[int, int] = {}

    def count(record, context):  # records loaded per query
        loaded[id(context)] = loaded.get(id(context), 0) + 1

    event.listen(AmazonOrderRecord, "load", count)
    try:
        result = reconcile_reservations(bridge.runtime.db.sessionmaker, bridge.store_id,
                                        bridge.runtime.magento_client(None), locks=stock_locks(bridge.runtime),
                                        batch_size=2)
    finally:
        event.remove(AmazonOrderRecord, "load", count)
    assert (result.reserved, result.failed) == (5, 0)
    assert source_quantity(bridge, "SKU-1") == 90
    assert loaded and max(loaded.values()) <= 2, loaded
    assert all(bridge.record(f"111-0000015-000000{i}").notes == "Inventory reserved" for i in range(5))


def test_new_mfn_orders_decrement_the_source_once(bridge):
    bridge.set_settings(stock_handling="decrement_source", reserve_pending=False)
    bridge.add_products([("SKU-1", "Thing", "10.00")], qty=100)
    bridge.seed_amazon([v2026_order("111-0000014-0000001", items=[line("SKU-1", "Thing", "3", "10.00")]),
                        v2026_order("111-0000014-0000002", status="PENDING")])
    bridge.sync()
    bridge.sync()
    assert source_quantity(bridge, "SKU-1") == 97


def test_an_integration_without_the_create_permission_parks_the_order_with_magentos_words(
        sqlite_url, redis_url, amazon_twin, monkeypatch):
    from sandbox.magento.testing import start_magento_twin

    magento = start_magento_twin(acl_resources={"Magento_Sales::actions_view", "Magento_Catalog::products",
                                                "Magento_Backend::store", "Magento_InventoryApi::source",
                                                "Magento_InventorySalesApi::stock",
                                                "Magento_InventoryApi::stock_source_item_assign"})
    try:
        bridge = make_bridge(database_url=sqlite_url, redis_url=redis_url, magento=magento, amazon=amazon_twin,
                             monkeypatch=monkeypatch)
        bridge.add_products([("SKU-1", "Thing", "10.00")])
        bridge.seed_amazon([v2026_order("111-0000015-0000001")])
        bridge.sync()
        record = bridge.record("111-0000015-0000001")
        assert record.import_state == ImportState.ERROR.value
        assert record.notes == ("Cannot create sales order: The consumer isn't authorized to access "
                                "Magento_Sales::create. (HTTP 401)")
        bridge.runtime.close()
    finally:
        magento.stop()


def test_an_order_in_error_imports_at_the_next_sync_once_the_product_exists(bridge):
    bridge.seed_amazon([v2026_order("111-0000016-0000001", items=[line("NEW-SKU", "New thing", "1", "10.00")])])
    bridge.sync()
    assert bridge.record("111-0000016-0000001").import_state == ImportState.ERROR.value

    bridge.add_products([("NEW-SKU", "New thing", "10.00")])  # the merchant creates the product in Magento
    bridge.sync()  # nothing new from Amazon; the order in error is retried all the same

    assert bridge.record("111-0000016-0000001").import_state == ImportState.IMPORTED.value
    assert len(bridge.magento_orders()) == 1


def test_a_sync_asks_magento_about_products_and_stock_once_for_the_whole_batch(bridge):
    """The sync looks up the batch's products and salable quantities in one call each; imports ask nothing
    more, except for an order whose product is not salable, which is asked about live and parked."""
    bridge.add_products([("SKU-1", "Thing", "10.00"), ("SKU-2", "Other", "5.00")], qty=10)
    bridge.add_products([("SKU-0", "Last one", "3.00")], qty=1)
    orders = [v2026_order(f"111-0000009-000000{n}", items=[line("SKU-1", "Thing", "2", "10.00"),
                                                          line("SKU-2", "Other", "1", "5.00")]) for n in range(4)]
    orders.append(v2026_order("111-0000009-0000009", items=[line("SKU-0", "Last one", "2", "3.00")]))
    bridge.seed_amazon(orders)
    requests.delete(f"{bridge.magento.url}/_sandbox/stats", timeout=10).raise_for_status()

    bridge.sync()

    routes = bridge.magento.stats()["routes"]
    assert routes.get("GET /V1/products", 0) == 1
    assert routes.get("GET /V1/inventory/is-product-salable-for-requested-qty/:sku/:stockId/:requestedQty", 0) == 0
    # one for the batch (SKU-0 is not salable in it, so it gets no budget) and one live for the SKU-0 order
    assert routes["GET /V1/inventory/are-product-salable-for-requested-qty"] == 2
    assert routes["PUT /V1/orders/create"] == 4
    assert [bridge.record(o["orderId"]).import_state for o in orders] == ["imported"] * 4 + ["error"]
    assert 'Product "SKU-0" in order is not salable' in bridge.record("111-0000009-0000009").last_error


def test_a_salable_budget_is_spent_once_and_later_batches_ask_for_theirs_on_top(redis_conn):
    """Two workers never spend the same salable units, and a second batch's grant is checked together
    with what the first batch's orders have not taken yet (Magento said both fit), never instead of it."""
    from bridge.importer.salability import SalableBudget

    budget = SalableBudget(redis_conn, "t:")
    budget.grant(1, {"A": 3})
    assert budget.take(1, {"A": 2}) == {"A"}
    assert budget.take(1, {"A": 2}) == set()  # only 1 left: this order is asked about live
    assert budget.left(1, ["A", "B"]) == {"A": Decimal(1)}
    budget.grant(1, {"A": 4})  # the caller asked Magento about 1 + 4 together
    assert budget.left(1, ["A"]) == {"A": Decimal(5)}
    assert redis_conn.ttl("t:salable-budget:1:a") > 0  # expires: stock sold elsewhere is seen again
