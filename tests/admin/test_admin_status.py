"""Sync status: last sync per store, cursor, order counts, and RQ queues, workers and failed jobs with requeue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from redis import Redis
from rq import Queue, SimpleWorker, Worker

from bridge.storage.models import SyncCursor, SyncRun
from tests.admin_support import AdminHarness


@pytest.fixture
def h(sqlite_url, redis_url):
    harness = AdminHarness(sqlite_url, redis_url)
    store = harness.add_store()
    harness.store_id = store.id
    yield harness
    harness.close()


def failed_job(h) -> str:
    """A job that really failed in a worker, so it sits in rq's FailedJobRegistry with its traceback."""
    queue = Queue("orders", connection=h.runtime.redis)
    job = queue.enqueue("builtins.int", "not a number", job_id="import-1-broken")
    SimpleWorker([queue], connection=h.runtime.redis).work(burst=True)
    assert job.id in queue.failed_job_registry.get_job_ids()
    return job.id


def test_status_shows_the_last_sync_cursor_and_counts(h):
    with h.runtime.db.session() as session:
        session.add(
            SyncRun(
                store_id=h.store_id,
                result="ok",
                started_at=datetime(2026, 11, 26, 9, tzinfo=UTC),
                finished_at=datetime(2026, 11, 26, 9, 1, tzinfo=UTC),
                orders_seen=12,
                imported=9,
                errors=1,
            )
        )
        session.get(SyncCursor, h.store_id).last_updated_after = datetime(2026, 11, 26, 8, 55, tzinfo=UTC)
    for n, state in enumerate(["waiting", "waiting", "queued", "error", "imported"]):
        h.add_order(h.store_id, f"111-0000000-000000{n}", import_state=state)
    html = h.client("viewer").get("/status").get_data(as_text=True)
    for text in ("2026-11-26 09:00 UTC", "2026-11-26 09:01 UTC", "result-ok", ">12<", ">9<", "2026-11-26 08:55 UTC"):
        assert text in html, text
    assert '<td class="num">2</td>' in html  # waiting
    assert 'href="/orders?store=us&amp;import_state=error">1</a>' in html
    assert "No worker is running" in html
    assert "No failed jobs." in html


def test_status_lists_queues_workers_and_failed_jobs(h):
    job_id = failed_job(h)
    Queue("sync", connection=h.runtime.redis).enqueue("builtins.len", "abc", job_id="sync-store-1")
    worker = Worker(["sync", "orders", "actions"], connection=h.runtime.redis, name="bridge-worker-1")
    worker.register_birth()
    try:
        html = h.client("viewer").get("/status").get_data(as_text=True)
    finally:
        worker.register_death()
    assert "bridge-worker-1" in html and "sync, orders, actions" in html
    assert job_id in html
    assert "ValueError: invalid literal for int() with base 10: &#39;not a number&#39;" in html
    assert "Requeue" not in html  # viewers see, operators act


def test_operator_requeues_a_failed_job(h):
    job_id = failed_job(h)
    client = h.client("operator")
    page = client.get("/status").get_data(as_text=True)
    assert f"/status/failed/orders/{job_id}/requeue" in page
    response = client.post(f"/status/failed/orders/{job_id}/requeue", follow_redirects=True)
    assert f"Job {job_id} is back on the orders queue." in response.get_data(as_text=True)
    queue = Queue("orders", connection=h.runtime.redis)
    assert queue.job_ids == [job_id]
    assert job_id not in queue.failed_job_registry.get_job_ids()


def test_operator_requeues_all_failed_jobs_of_a_queue(h):
    failed_job(h)
    response = h.client("operator").post("/status/failed/orders/requeue-all", follow_redirects=True)
    assert "1 failed job(s) of the orders queue are back on it." in response.get_data(as_text=True)
    assert Queue("orders", connection=h.runtime.redis).count == 1


def test_viewer_cannot_requeue(h):
    job_id = failed_job(h)
    client = h.client("viewer")
    assert client.post(f"/status/failed/orders/{job_id}/requeue").status_code == 403
    assert client.post("/status/failed/orders/requeue-all").status_code == 403
    assert job_id in Queue("orders", connection=h.runtime.redis).failed_job_registry.get_job_ids()


def test_requeue_of_unknown_queue_or_job_is_reported(h):
    client = h.client("operator")
    assert "No queue nope." in client.post("/status/failed/nope/x/requeue", follow_redirects=True).get_data(
        as_text=True
    )
    html = client.post("/status/failed/orders/missing-job/requeue", follow_redirects=True).get_data(as_text=True)
    assert "Could not requeue job missing-job" in html


def test_status_page_survives_redis_being_down(h):
    h.runtime.__dict__["redis"] = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    response = h.client("viewer").get("/status")
    assert response.status_code == 200
    assert "The job queue (Redis) does not answer" in response.get_data(as_text=True)
