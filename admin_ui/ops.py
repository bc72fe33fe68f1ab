"""For load balancers and Prometheus: `/healthz`, `/readyz`, `/metrics`; and a friendly page when the
database does not answer (instead of a 500 on every page).

`/metrics` is open unless AMAZON_BRIDGE_METRICS_TOKEN is set, in which case it wants
`Authorization: Bearer <token>`; without a token, keep it reachable from the monitoring network only
(docs/operations.md).
"""

from __future__ import annotations

import hmac
import logging
import os

from flask import Blueprint, Flask, Response, jsonify, request
from markupsafe import escape
from redis import RedisError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from bridge.config import Settings
from bridge.errors import BridgeError
from bridge.explain import explain, host_of, require_schema, safe_database_url
from bridge.runtime import Runtime

from . import get_runtime, get_settings
from .extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)
PUBLIC = frozenset({"ops.healthz", "ops.readyz", "ops.metrics"})
DATABASE_DOWN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Database unavailable /
Amazon Bridge</title></head><body><div class="message message-error degraded-banner" role="alert"
data-side="database">Degraded: {{ message }}. Pages come back by themselves once it answers.</div></body></html>"""


@bp.route("/healthz")
def healthz():
    """The process is up and serving (no dependency is checked: that is /readyz)."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Ready when the database (with the current schema) and Redis answer and no store's sync is stale or
    failing; 503 with the reasons otherwise."""
    from bridge.health import store_health

    settings = get_settings()
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        require_schema(db.engine, settings.database.url)
        checks["database"] = "ok"
    except (SQLAlchemyError, BridgeError) as exc:  # reported, not raised
        db.session.rollback()
        checks["database"] = explain(exc, settings) or f"{type(exc).__name__}: {exc}"
    try:
        get_runtime().redis.ping()
        checks["redis"] = "ok"
    except RedisError as exc:
        checks["redis"] = f"Redis at {host_of(settings.redis.url)} does not answer ({exc})"
    if checks["database"] == "ok":
        bad = [f"{h.store_code}: {h.side}: {h.last_error}" for h in store_health(db.session(),
                                                                                 schedule=settings.sync.schedule)
               if h.degraded]
        checks["sync"] = "ok" if not bad else "; ".join(bad)
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


@bp.route("/metrics")
def metrics():
    token = os.environ.get("AMAZON_BRIDGE_METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("metrics need Authorization: Bearer <AMAZON_BRIDGE_METRICS_TOKEN>\n", 401,
                            {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
    from prometheus_client.core import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(get_runtime(), get_settings()))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _Collector:
    """Reads everything at scrape time (see bridge.metrics for why)."""

    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        self.runtime, self.settings = runtime, settings

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        from bridge import metrics as bridge_metrics

        up = GaugeMetricFamily("amazon_bridge_dependency_up", "1 when the dependency answers", labels=["dependency"])
        try:
            yield from bridge_metrics.database_families(db.session(), schedule=self.settings.sync.schedule)
            up.add_metric(["database"], 1)
        except SQLAlchemyError as exc:  # a scrape during an outage still answers
            db.session.rollback()
            log.warning("metrics: database: %s", exc)
            up.add_metric(["database"], 0)
        try:
            redis = self.runtime.redis
            yield from bridge_metrics.counter_families(redis)
            yield from _queue_families(redis)
            up.add_metric(["redis"], 1)
        except RedisError as exc:
            log.warning("metrics: redis: %s", exc)
            up.add_metric(["redis"], 0)
        yield up


def _queue_families(redis):
    from prometheus_client.core import GaugeMetricFamily
    from rq import Queue

    from jobs.queues import ALL_QUEUES

    depth = GaugeMetricFamily("amazon_bridge_queue_jobs", "RQ jobs by queue and state", labels=["queue", "state"])
    for name in ALL_QUEUES:
        q = Queue(name, connection=redis)
        depth.add_metric([name, "queued"], q.count)
        depth.add_metric([name, "started"], q.started_job_registry.count)
        depth.add_metric([name, "scheduled"], q.scheduled_job_registry.count)
        depth.add_metric([name, "failed"], q.failed_job_registry.count)
    yield depth


def register(app: Flask) -> None:
    """The ops routes, and a 503 page instead of a 500 when the database does not answer."""
    app.register_blueprint(bp)

    @app.errorhandler(OperationalError)
    @app.errorhandler(ProgrammingError)
    def database_unavailable(error):
        db.session.rollback()
        settings = get_settings()
        message = explain(error, settings) or f"the database {safe_database_url(settings.database.url)} failed"
        log.error("admin page: %s", message)
        # No template: the menu, the banners and even current_user would ask the database again.
        return Response(DATABASE_DOWN_PAGE.replace("{{ message }}", str(escape(message))), 503,
                        mimetype="text/html")
