"""The sync cursor: no order is missed because of pagination, a crash between pages, or clock edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bridge.storage.models import AmazonOrderRecord, Store, SyncCursor
from bridge.sync import pull_changes
from tests.harness import v2026_order


@pytest.fixture
def bridge(bridge):
    bridge.set_settings(import_enabled=False)  # these tests are about reading Amazon, not creating orders
    return bridge


class Crash(Exception):
    pass


class CrashingAmazon:
    """The real client, but the process 'dies' when it asks for page `die_on`."""

    def __init__(self, client, die_on: int):
        self.client = client
        self.die_on = die_on
        self.pages = 0

    def search_orders(self, **kwargs):
        self.pages += 1
        if self.pages == self.die_on:
            raise Crash("worker killed")
        return self.client.search_orders(**kwargs)


def amazon_client(bridge):
    with bridge.runtime.db.session() as session:
        return bridge.runtime.amazon_client(session.get(Store, bridge.store_id))


def pull(bridge, amazon):
    return pull_changes(bridge.runtime.db.sessionmaker, bridge.store_id, amazon, bridge.runtime.settings.sync)


def stored(bridge) -> int:
    with bridge.runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(AmazonOrderRecord))


def test_a_crash_between_pages_resumes_from_the_saved_page_and_misses_nothing(bridge):
    created = datetime.now(UTC) - timedelta(days=1)
    bridge.seed_amazon([v2026_order(f"111-0000040-{n:07d}", created=created) for n in range(250)])

    with pytest.raises(Crash):
        pull(bridge, CrashingAmazon(amazon_client(bridge), die_on=2))
    assert stored(bridge) == 100  # the first page was stored before the crash
    with bridge.runtime.db.session() as session:
        cursor = session.get(SyncCursor, bridge.store_id)
        assert cursor.next_token and cursor.last_updated_after is None  # the pass is remembered, not finished

    before = bridge.amazon.stats()["calls"].get("searchOrders", 0)
    result = pull(bridge, amazon_client(bridge))

    assert stored(bridge) == 250
    assert result.pages == 2  # resumed at page two, did not start over
    assert result.queued == 150  # counted, not listed: a first pass over 100,000 orders holds no list of ids
    assert bridge.amazon.stats()["calls"]["searchOrders"] - before == 2
    with bridge.runtime.db.session() as session:
        cursor = session.get(SyncCursor, bridge.store_id)
        assert cursor.next_token is None and cursor.last_updated_after is not None


def test_an_update_stamped_just_before_the_cursor_is_still_read(bridge):
    bridge.seed_amazon([v2026_order("111-0000041-0000001")])
    pull(bridge, amazon_client(bridge))
    with bridge.runtime.db.session() as session:
        cursor = session.get(SyncCursor, bridge.store_id).last_updated_after

    # Amazon records a change with a timestamp a few minutes behind the cursor (its clocks and replicas
    # are not ours): the overlap window still covers it.
    late = v2026_order("111-0000041-0000002")
    late["lastUpdatedTime"] = (cursor - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bridge.amazon.seed_orders([late], keep_last_updated=True)
    bridge.amazon.advance_clock(180)
    pull(bridge, amazon_client(bridge))

    assert stored(bridge) == 2


def test_the_cursor_moves_to_amazons_last_updated_before_and_only_after_the_pass(bridge):
    bridge.seed_amazon([v2026_order("111-0000042-0000001")])
    result = pull(bridge, amazon_client(bridge))
    twin_now = datetime.fromisoformat(bridge.amazon._http.get(f"{bridge.amazon.url}/_sandbox/clock",
                                                              timeout=10).json()["now"].replace("Z", "+00:00"))
    assert result.cursor is not None
    assert result.cursor <= twin_now - timedelta(minutes=2)  # never ahead of what Amazon could list
