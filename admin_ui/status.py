"""Sync status: per store the last sync and its cursor, order counts by import state, and RQ's queues,
workers and failed jobs (read from rq's own registries), with requeue for operators."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from redis import RedisError
from rq import Queue, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from bridge.service import import_counts_by_store
from bridge.storage.models import Role, SyncCursor

from . import get_runtime
from .auth import require_role
from .banners import all_stores, last_runs
from .extensions import db
from .scope import can_see, job_visible, store_condition, visible_store_ids

log = logging.getLogger(__name__)

bp = Blueprint("status", __name__)

FAILED_JOBS_SHOWN = 50


@dataclass(frozen=True)
class QueueInfo:
    name: str
    queued: int
    started: int
    scheduled: int
    deferred: int
    failed: int


@dataclass(frozen=True)
class FailedJob:
    queue: str
    id: str
    description: str
    ended_at: datetime | None
    error: str


@dataclass(frozen=True)
class WorkerInfo:
    name: str
    state: str
    queues: str
    current_job: str | None
    last_heartbeat: datetime | None


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def rq_overview(connection: Any) -> tuple[list[QueueInfo], list[WorkerInfo], list[FailedJob]]:
    from jobs.queues import ALL_QUEUES

    queues: list[QueueInfo] = []
    failed: list[FailedJob] = []
    for name in ALL_QUEUES:
        q = Queue(name, connection=connection)
        registry = q.failed_job_registry
        queues.append(
            QueueInfo(
                name=name,
                queued=q.count,
                started=q.started_job_registry.count,
                scheduled=q.scheduled_job_registry.count,
                deferred=q.deferred_job_registry.count,
                failed=registry.count,
            )
        )
        for job_id in registry.get_job_ids(0, FAILED_JOBS_SHOWN - 1):
            try:
                job = Job.fetch(job_id, connection=connection)
            except NoSuchJobError:
                continue
            result = job.latest_result()
            error = _last_line(result.exc_string if result is not None else getattr(job, "exc_info", None))
            failed.append(FailedJob(name, job.id, job.description or job.func_name or job.id, job.ended_at, error))
    workers = [
        WorkerInfo(
            name=w.name,
            state=str(w.get_state()),
            queues=", ".join(w.queue_names()),
            current_job=w.get_current_job_id(),
            last_heartbeat=w.last_heartbeat,
        )
        for w in Worker.all(connection=connection)
    ]
    return queues, workers, failed


@bp.route("/status")
def index():
    stores = all_stores()
    runs = last_runs()
    cursors = {c.store_id: c for c in db.session.scalars(select(SyncCursor))}
    counts = import_counts_by_store(db.session())
    redis_error = None
    queues: list[QueueInfo] = []
    workers: list[WorkerInfo] = []
    failed: list[FailedJob] = []
    try:
        queues, workers, failed = rq_overview(get_runtime().redis)
        failed = [job for job in failed if job_visible(job.id)]  # a store-scoped user sees their stores' only
    except RedisError as exc:  # the page still shows the database side
        log.warning("status page: Redis did not answer: %s", exc)
        redis_error = str(exc)
    from bridge.health import store_health
    from bridge.storage.models import ReconcileRun

    from . import get_settings
    from .chart import chart_data, render_svg

    health = [h for h in store_health(db.session(), schedule=get_settings().sync.schedule) if can_see(h.store_id)]
    chart = render_svg(chart_data(db.session(), visible_store_ids()))
    reconciles = list(db.session.scalars(
        select(ReconcileRun).where(store_condition(ReconcileRun.store_id))
        .order_by(ReconcileRun.started_at.desc(), ReconcileRun.id.desc()).limit(10)
    ))
    return render_template(
        "status/index.html",
        health=health,
        chart=chart,
        reconciles=reconciles,
        store_codes={s.id: s.code for s in stores},
        stores=stores,
        runs=runs,
        cursors=cursors,
        counts=counts,
        queues=queues,
        workers=workers,
        failed=failed,
        redis_error=redis_error,
        can_requeue=current_user.can(Role.OPERATOR),
    )


@bp.route("/status/reconcile/<int:run_id>")
def reconcile_run(run_id: int):
    """One reconcile: Amazon's orders of the period against Commerce's, finding by finding."""
    from flask import abort

    from bridge.storage.models import ReconcileRun, Store

    run = db.session.get(ReconcileRun, run_id)
    if run is None or not can_see(run.store_id):
        abort(404, f"No reconcile run {run_id}.")
    store = db.session.get(Store, run.store_id)
    return render_template("status/reconcile.html", run=run, store=store, findings=run.findings)


@bp.route("/status/failed/<queue_name>/<job_id>/requeue", methods=["POST"])
@require_role(Role.OPERATOR)
def requeue(queue_name: str, job_id: str):
    """Put a failed job back on its queue (rq's FailedJobRegistry.requeue)."""
    from jobs.queues import ALL_QUEUES

    if queue_name not in ALL_QUEUES:
        flash(f"No queue {queue_name}.", "error")
        return redirect(url_for("status.index"))
    if not job_visible(job_id):
        abort(404, f"No failed job {job_id}.")
    registry = FailedJobRegistry(queue_name, connection=get_runtime().redis)
    try:
        registry.requeue(job_id)
    except (RedisError, NoSuchJobError, InvalidJobOperation) as exc:  # e.g. the job expired meanwhile
        flash(f"Could not requeue job {job_id}: {exc}", "error")
    else:
        flash(f"Job {job_id} is back on the {queue_name} queue.", "success")
    return redirect(url_for("status.index"))


@bp.route("/status/failed/<queue_name>/requeue-all", methods=["POST"])
@require_role(Role.OPERATOR)
def requeue_all(queue_name: str):
    from jobs.queues import ALL_QUEUES

    if queue_name not in ALL_QUEUES:
        flash(f"No queue {queue_name}.", "error")
        return redirect(url_for("status.index"))
    registry = FailedJobRegistry(queue_name, connection=get_runtime().redis)
    count = 0
    for job_id in registry.get_job_ids():
        if not job_visible(job_id):  # a store-scoped operator requeues their stores' jobs only
            continue
        try:
            registry.requeue(job_id)
            count += 1
        except (RedisError, NoSuchJobError, InvalidJobOperation) as exc:
            log.warning("requeue %s failed: %s", job_id, exc)
    flash(f"{count} failed job(s) of the {queue_name} queue are back on it.", "success")
    return redirect(url_for("status.index", _anchor="failed"))
