"""The bridge's RQ worker: short job heartbeats, and it outlives a Redis restart.

* RQ marks a running job's entry in StartedJobRegistry with a heartbeat that expires `monitoring interval +
  60 s` after the last beat; only after that can a killed worker's job be seen as abandoned. Here the beat
  comes every `HEARTBEAT_SECONDS` and lives `HEARTBEAT_GRACE_SECONDS` longer, so the scheduler's sweep
  (`jobs.scheduler`) finds a SIGKILLed worker's job within about 30 s and re-queues it (RQ's own
  maintenance alone takes up to ~11 minutes).
* `Worker.work` quits when Redis goes away (RQ only retries its dequeue; any other error ends the loop);
  `run_worker` builds a fresh worker and tries again with back-off, and exits only on a stop request.
* By default jobs run in the worker process (`InProcessWorker`, RQ's `SimpleWorker` plus a heartbeat thread):
  a forked work-horse per job cost about two thirds of the bridge's CPU per imported order (a fresh process
  opens its connections and compiles every SQL statement again; docs/benchmarks.md). A job's heartbeat then
  comes from a thread of the worker, so a SIGKILLed worker's job is still found abandoned within ~30 s.
  `amazon-bridge worker --fork` keeps RQ's work-horse per job (isolation from a job that leaks or crashes).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker, Worker
from rq.job import Job
from rq.worker import WorkerStatus

from jobs.queues import ALL_QUEUES, queue

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
HEARTBEAT_GRACE_SECONDS = 20
RECONNECT_MAX_SECONDS = 30.0


class _StopMixin:
    stop_signalled = False

    def request_stop(self, signum, frame):
        """SIGTERM/SIGINT. RQ marks `_stop_requested` only when a job is running; an idle worker just leaves
        its loop, which `run_worker` must not take for a lost Redis and restart (systemd's stop would then
        end in a SIGKILL)."""
        self.stop_signalled = True
        super().request_stop(signum, frame)  # type: ignore[misc]


def _short_heartbeat_ttl(worker: Worker | SimpleWorker, job: Job) -> int:
    if job.timeout and job.timeout > 0:
        remaining = job.timeout - worker.current_job_working_time
        return int(max(1, min(remaining, worker.job_monitoring_interval))) + HEARTBEAT_GRACE_SECONDS
    return worker.job_monitoring_interval + HEARTBEAT_GRACE_SECONDS


class InProcessWorker(_StopMixin, SimpleWorker):
    """Runs each job in this process (no fork), with RQ's job heartbeats kept by a thread while it runs, every
    `HEARTBEAT_SECONDS`, as a forking worker's monitoring loop does: a SIGKILLed worker's job looks abandoned
    ~30 s later (RQ's `SimpleWorker` alone sets one heartbeat worth the job's whole time-out plus 60 s)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("job_monitoring_interval", HEARTBEAT_SECONDS)
        super().__init__(*args, **kwargs)

    def get_heartbeat_ttl(self, job: Job) -> int:
        return _short_heartbeat_ttl(self, job)

    def execute_job(self, job: Job, queue) -> None:
        self.prepare_execution(job)
        started = time.monotonic()
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.job_monitoring_interval):
                self.set_current_job_working_time(time.monotonic() - started)
                try:
                    self.maintain_heartbeats(job)
                except (RedisConnectionError, RedisTimeoutError) as exc:  # the job's own calls will see it too
                    log.warning("job %s: heartbeat not sent: %s", job.id, exc)

        beating = threading.Thread(target=beat, name=f"heartbeat-{job.id}", daemon=True)
        beating.start()
        try:
            self.perform_job(job, queue)
        finally:
            done.set()
            beating.join()
            self.set_current_job_working_time(0)
        self.set_state(WorkerStatus.IDLE)


class BridgeWorker(_StopMixin, Worker):
    """An RQ worker forking a work-horse per job, whose running jobs look abandoned ~30 s after it dies."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("job_monitoring_interval", HEARTBEAT_SECONDS)
        super().__init__(*args, **kwargs)

    def get_heartbeat_ttl(self, job: Job) -> int:
        return _short_heartbeat_ttl(self, job)


def run_worker(
    connection: Redis,
    *,
    name: str | None = None,
    burst: bool = False,
    logging_level: str = "INFO",
    queue_names: tuple[str, ...] = ALL_QUEUES,
    fork: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Work until stopped (or, with `burst`, until the queues are empty); reconnect when Redis goes away."""
    delay = 1.0
    while True:
        started = time.monotonic()
        try:
            connection.ping()
            if name:  # a worker of this name that died with the connection left its key behind: ours
                connection.delete(Worker.redis_worker_namespace_prefix + name)
                connection.srem(Worker.redis_workers_keys, Worker.redis_worker_namespace_prefix + name)
            worker_class = BridgeWorker if fork else InProcessWorker
            worker = worker_class([queue(q, connection) for q in queue_names], connection=connection, name=name)
            worker.work(burst=burst, with_scheduler=True, logging_level=logging_level)
            # RQ's work loop also ends (logging "quitting") on any error, a lost Redis included.
            if worker.stop_signalled or worker._stop_requested:  # SIGTERM/SIGINT: a real stop
                return
            connection.ping()
            if burst:
                return
            log.warning("worker loop ended without a stop request; starting it again in %.0f s", delay)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("Redis unavailable (%s); worker reconnects in %.0f s", type(exc).__name__, delay)
        if time.monotonic() - started > 60:  # it had been working: the back-off starts afresh
            delay = 1.0
        sleep(delay)
        delay = min(delay * 2, RECONNECT_MAX_SECONDS)
