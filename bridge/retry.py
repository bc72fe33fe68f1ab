"""The one retry policy type of the bridge's HTTP clients (Magento and Amazon).

A policy only bounds and paces retries; which failures are worth another attempt is each client's own
knowledge (Magento: never re-send a write it may have processed; Amazon: a 429 waits for the shared bucket,
an outage gets only `max_outage_wait` of quick retries). Each client has its default (`MAGENTO_RETRY`,
`AMAZON_RETRY`); tests and tools pass another one, e.g. `NO_RETRY` to fail at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failed call is tried again, after how long, and how long a client may wait in all.

    Back-off doubles from `base_delay` up to `max_delay` (`jitter`: a random half of it is dropped, so
    workers never retry in lock-step). A server's `Retry-After` is obeyed up to `retry_after_max`.
    `max_total_wait` bounds back-off plus rate-limit waits of one call; `max_outage_wait` bounds the
    back-off spent on outages (5xx, lost connections), which a job is better off leaving to the scheduler.
    Reads are retried on `retry_statuses`, writes only on `write_retry_statuses` (the server refused them
    unprocessed).
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: bool = False
    retry_after_max: float = 60.0
    max_total_wait: float = 240.0
    max_outage_wait: float = 240.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    write_retry_statuses: frozenset[int] = frozenset({429})

    def may_retry(self, attempt: int) -> bool:
        """Whether another attempt follows attempt number `attempt` (1-based)."""
        return attempt < self.max_attempts

    def backoff(self, attempt: int, *, scale: float = 1.0, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt `attempt`; `scale` divides real-world seconds (the twins' clock)."""
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.retry_after_max) / scale
            except ValueError:
                pass
        base = min(self.base_delay * 2.0 ** (attempt - 1), self.max_delay) / scale
        if self.jitter:
            return base / 2 + random.uniform(0, base / 2)  # "equal jitter": never zero, never in lock-step
        return base


MAGENTO_RETRY = RetryPolicy()
# Amazon throttles for minutes at a time; an outage gets a few quick retries, then the job ends and the
# scheduler retries outside the worker.
AMAZON_RETRY = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=60.0, jitter=True, max_outage_wait=8.0)
NO_RETRY = RetryPolicy(max_attempts=1)
