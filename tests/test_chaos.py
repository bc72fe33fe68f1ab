"""The chaos run, small (`bench/chaos.py`): 40 orders, two stores, 3 workers SIGKILLed every ~2 s, the
scheduler and Redis killed once, Magento and Amazon faults and outages; judged from the twins' data."""

from __future__ import annotations

import pytest

from bench.chaos import MAX_WAIT_TARGET, run


@pytest.mark.slow
def test_a_small_chaos_run_settles_with_every_order_once_and_nothing_stalled(capsys):
    report = run(40, seed=7, chaos_seconds=30, settle_timeout=240)
    assert report.settled, report.line()
    assert report.worker_kills >= 5 and report.events.get("redis restarted") == 1
    assert report.missing == 0, report.line()
    assert report.total_mismatches == 0, report.line()
    assert report.double_actions == 0, report.line()
    assert report.failed_jobs == 0, report.line()
    assert report.max_wait_s <= MAX_WAIT_TARGET, report.line()
    assert report.duplicates == 0, report.line()  # a create Magento saves after the client gave up included
    assert report.stock_mismatches == 0, report.line()  # decrement_source, exact to the unit
