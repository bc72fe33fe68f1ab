"""Order storage: one row per Amazon order whatever happens, newer snapshots win, claims are exclusive.

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bridge.config import DatabaseSettings
from bridge.domain import AmazonStatus, ImportState
from bridge.importer.pipeline import OrderImporter
from bridge.storage.db import Database
from bridge.storage.migrate import upgrade
from bridge.storage.models import AmazonOrderRecord, OrderEvent, Store
from bridge.storage.orders import upsert_orders
from bridge.storage.stores import create_store, order_settings
from tests.factories import T0, make_order


@pytest.fixture
def db(database_url):
    database = Database(DatabaseSettings(url=database_url))
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def store_id(db):
    with db.session() as session:
        store = create_store(
            session, code="us", name="US", seller_id="S1", marketplace_id="ATVPDKIKX0DER",
            refresh_token_env="TOKEN", import_from=T0 - timedelta(days=30),
        )
        return store.id


def upsert(db, store_id, *orders):
    with db.session() as session:
        settings = order_settings(session.get(Store, store_id).order_settings)
        return upsert_orders(session, store_id, [(o, {"orderId": o.amazon_order_id, "v": str(o.last_updated)})
                                                 for o in orders], settings)


def count(db, model=AmazonOrderRecord):
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_reading_the_same_page_twice_changes_nothing(db, store_id):
    first = upsert(db, store_id, make_order("A"), make_order("B", status=AmazonStatus.PENDING))
    assert (first.new, first.queued) == (2, ["A"])
    events = count(db, OrderEvent)
    second = upsert(db, store_id, make_order("A"), make_order("B", status=AmazonStatus.PENDING))
    assert (second.new, second.updated) == (0, 0)
    assert count(db) == 2
    assert count(db, OrderEvent) == events


def test_an_older_snapshot_never_overwrites_a_newer_one(db, store_id):
    upsert(db, store_id, make_order("A", status=AmazonStatus.SHIPPED, last_updated=T0 + timedelta(hours=2)))
    upsert(db, store_id, make_order("A", status=AmazonStatus.UNSHIPPED, last_updated=T0 + timedelta(hours=1)))
    with db.session() as session:
        record = session.scalar(select(AmazonOrderRecord))
        assert record.status == "Shipped"


def test_status_change_is_recorded_in_the_history(db, store_id):
    upsert(db, store_id, make_order("A", status=AmazonStatus.PENDING))
    upsert(db, store_id, make_order("A", status=AmazonStatus.UNSHIPPED, last_updated=T0 + timedelta(hours=1)))
    with db.session() as session:
        record = session.scalar(select(AmazonOrderRecord))
        assert record.import_state == ImportState.QUEUED.value
        assert [e.kind for e in record.events] == ["received", "status_changed"]
        assert "from Pending to Unshipped" in record.events[-1].message


def test_the_database_refuses_a_second_copy_of_an_order(db, store_id):
    upsert(db, store_id, make_order("A"))
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(AmazonOrderRecord(
            store_id=store_id, amazon_order_id="A", status="Unshipped", fulfillment_channel="MFN",
            purchase_date=T0, last_updated=T0, currency="USD", order_total=0, snapshot={},
        ))


def test_only_one_worker_holds_an_order_and_a_dead_workers_claim_expires(db, store_id):
    upsert(db, store_id, make_order("A"))
    clock = {"now": T0}
    importer = lambda: OrderImporter(db.session, lambda code: None, public_base_url="http://x",  # noqa: E731
                                     lease=timedelta(minutes=5), now=lambda: clock["now"])
    first, second = importer(), importer()
    token = first.claim(store_id, "A")
    assert token is not None
    assert second.claim(store_id, "A") is None
    clock["now"] = T0 + timedelta(minutes=6)  # the first worker died; its lease ran out
    assert second.claim(store_id, "A") is not None
    first.release(store_id, "A", token)  # a stale release must not free the new owner's claim
    assert importer().claim(store_id, "A") is None


def test_amounts_come_back_as_exact_decimals(db, store_id):
    order = make_order("A", price="19.99", qty=3)
    upsert(db, store_id, replace(order))
    with db.session() as session:
        record = session.scalar(select(AmazonOrderRecord))
        assert str(record.order_total.normalize()) == "59.97"
        assert record.purchase_date.tzinfo is not None
