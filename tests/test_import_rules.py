"""ASC's import matrix (§4): which Amazon orders become Commerce orders, and when."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bridge.domain import AmazonStatus as S
from bridge.domain import FulfillmentChannel as C
from bridge.domain import ImportState as I
from bridge.import_rules import decide
from bridge.order_settings import OrderSettings
from tests.factories import T0, make_order

SETTINGS = OrderSettings(import_from=T0 - timedelta(days=1))


@pytest.mark.parametrize(
    ("channel", "status", "expected"),
    [
        (C.MFN, S.PENDING, I.WAITING),
        (C.MFN, S.PENDING_AVAILABILITY, I.WAITING),
        (C.MFN, S.UNSHIPPED, I.QUEUED),
        (C.MFN, S.PARTIALLY_SHIPPED, I.QUEUED),
        (C.MFN, S.SHIPPED, I.QUEUED),
        (C.MFN, S.CANCELED, I.SKIPPED),
        (C.MFN, S.UNFULFILLABLE, I.SKIPPED),
        (C.AFN, S.PENDING, I.WAITING),
        (C.AFN, S.UNSHIPPED, I.WAITING),
        (C.AFN, S.PARTIALLY_SHIPPED, I.WAITING),
        (C.AFN, S.SHIPPED, I.QUEUED),
        (C.AFN, S.CANCELED, I.SKIPPED),
    ],
)
def test_import_matrix(channel, status, expected):
    assert decide(make_order(status=status, channel=channel), SETTINGS).state is expected


def test_fba_orders_are_not_created_when_the_store_does_not_import_them():
    settings = replace(SETTINGS, import_fba=False)
    assert decide(make_order(status=S.SHIPPED, channel=C.AFN), settings).state is I.SKIPPED


def test_orders_placed_before_the_store_was_connected_are_listed_never_created():
    settings = replace(SETTINGS, import_from=T0 + timedelta(hours=1))
    decision = decide(make_order(status=S.UNSHIPPED, purchase_date=T0), settings)
    assert decision.state is I.SKIPPED
    assert "before the store was connected" in decision.note


def test_an_order_in_error_stays_in_error_until_a_retry_succeeds_but_a_cancel_skips_it():
    assert decide(make_order(status=S.UNSHIPPED), SETTINGS, I.ERROR).state is I.ERROR
    assert decide(make_order(status=S.CANCELED), SETTINGS, I.ERROR).state is I.SKIPPED


def test_an_imported_order_stays_imported_whatever_amazon_says():
    assert decide(make_order(status=S.CANCELED), SETTINGS, I.IMPORTED).state is I.IMPORTED


def test_orders_in_error_are_retried_every_sync_then_hourly():
    from datetime import timedelta as td

    from bridge.importer.pipeline import error_backoff

    assert [error_backoff(n) for n in (1, 2, 12)] == [td(0)] * 3
    assert error_backoff(13) == td(hours=1)


@pytest.mark.parametrize("status", [S.CANCELED, S.UNFULFILLABLE, S.PENDING])
def test_an_order_that_may_exist_in_commerce_is_looked_up_not_skipped(status):
    order = make_order(status=status, channel=C.MFN)
    decision = decide(order, SETTINGS, I.QUEUED, may_exist=True)
    assert (decision.state, decision.lookup_only) == (I.QUEUED, True)
    assert decide(order, SETTINGS, I.QUEUED, may_exist=False).state in (I.SKIPPED, I.WAITING)


def test_an_importable_order_that_may_exist_is_imported_as_usual():
    decision = decide(make_order(status=S.UNSHIPPED, channel=C.MFN), SETTINGS, I.QUEUED, may_exist=True)
    assert (decision.state, decision.lookup_only) == (I.QUEUED, False)
