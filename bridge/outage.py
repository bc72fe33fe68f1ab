"""Per-store "Amazon unavailable until": an outage backs off outside the workers.

When Amazon answers 5xx, times out or refuses connections beyond the client's few quick retries, the
store's sync ends at once (freeing its worker for other stores and for imports) and records here until
when Amazon counts as unavailable for that store. The scheduler queues the store's sync again as soon as
that moment has passed, so sync recovers within seconds of the outage's end, not at the next cron tick.
Back-off doubles per consecutive failure and stays short (at most `BACKOFF_SECONDS[-1]`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis import Redis

OUTAGE_KEY = "amazon-bridge:amazon-outage:{store_id}"
BACKOFF_SECONDS = (15, 30, 60)
FORGET_AFTER = timedelta(hours=1)  # a store without failures for this long starts its back-off afresh


@dataclass(frozen=True)
class AmazonOutage:
    store_id: int
    until: datetime
    failures: int
    reason: str
    retry_pending: bool  # True until the scheduler has queued the sync that tries again

    def passed(self, now: datetime) -> bool:
        return now >= self.until


def backoff(failures: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1])


def record_outage(redis: Redis, store_id: int, reason: str, now: datetime) -> AmazonOutage:
    key = OUTAGE_KEY.format(store_id=store_id)
    failures = int(redis.hincrby(key, "failures", 1))
    until = now + backoff(failures)
    redis.hset(key, mapping={"until": until.timestamp(), "reason": reason[:500], "retry": 1})
    redis.expire(key, int((backoff(failures) + FORGET_AFTER).total_seconds()))
    return AmazonOutage(store_id, until, failures, reason, True)


def clear_outage(redis: Redis, store_id: int) -> None:
    redis.delete(OUTAGE_KEY.format(store_id=store_id))


def current_outage(redis: Redis, store_id: int) -> AmazonOutage | None:
    data = redis.hgetall(OUTAGE_KEY.format(store_id=store_id))
    if not data or b"until" not in data:
        return None
    reason = data.get(b"reason", b"")
    return AmazonOutage(
        store_id,
        datetime.fromtimestamp(float(data[b"until"]), UTC),
        int(data.get(b"failures", 1)),
        reason.decode(errors="replace") if isinstance(reason, bytes) else reason,
        data.get(b"retry") == b"1",
    )


def retry_queued(redis: Redis, store_id: int) -> None:
    """The scheduler queued the sync that tries again; the next failure records a longer back-off."""
    key = OUTAGE_KEY.format(store_id=store_id)
    if redis.exists(key):
        redis.hset(key, "retry", 0)


def backing_off(redis: Redis, store_id: int, now: datetime) -> bool:
    """True while the store waits out an Amazon outage (its retry not yet queued): no job that would only fail."""
    outage = current_outage(redis, store_id)
    return outage is not None and outage.retry_pending and not outage.passed(now)
