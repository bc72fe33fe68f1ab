"""The root of every error the bridge raises on purpose, and the one place that decides what follows one.

Every failure ends one of two ways, and a merchant can tell them apart:
- *retry later* (`transient`): an outage, a 5xx, a timeout, throttling, a busy lock, a create still in
  doubt. Nothing needs changing; the job ends quietly and the order is tried again by a later sync.
- *needs a person*: an unknown SKU, an out-of-stock product, a missing store view, a website without a
  stock, bad credentials, invalid data. Retrying alone would fail the same way, so the order is parked in
  the visible error state with a message saying what to fix, and retried after the fix.

Each class says which it is (`transient`); `disposition()` reads that, and also sorts the foreign
exceptions that reach the bridge's edges (Redis, HTTP and database drivers). Import, sync, the outbox,
the lifecycle and the admin actions all ask it, so a kind of failure ends the same way everywhere.
"""

from __future__ import annotations

from enum import StrEnum

import redis
import requests
import sqlalchemy.exc
import urllib3.exceptions


class Disposition(StrEnum):
    RETRY_LATER = "retry later"
    NEEDS_PERSON = "needs a person"


class BridgeError(Exception):
    """Root of everything the bridge raises on purpose. `transient`: trying again later, unchanged, may work."""

    transient: bool = False

    @property
    def needs_person(self) -> bool:
        return not self.transient


class RetryLater(BridgeError):
    """Base of the bridge's own "not now" signals (busy, deferred, in doubt): always transient."""

    transient = True


# Foreign exceptions that mean "the other side is away for now": a later attempt may work unchanged.
_TRANSIENT_FOREIGN: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.BusyLoadingError,
    requests.ConnectionError,
    requests.Timeout,
    urllib3.exceptions.HTTPError,
    sqlalchemy.exc.OperationalError,  # database locked, connection lost, server restarting
    sqlalchemy.exc.TimeoutError,  # no pooled connection free
    sqlalchemy.exc.DisconnectionError,
    ConnectionError,
    TimeoutError,
)


def disposition(exc: BaseException) -> Disposition:
    """Retry later, or park for a person: the bridge's one answer, for its own errors and foreign ones.

    A foreign exception not known to be an outage needs a person: retrying a bug only hides it.
    """
    if isinstance(exc, BridgeError):
        return Disposition.RETRY_LATER if exc.transient else Disposition.NEEDS_PERSON
    if isinstance(exc, _TRANSIENT_FOREIGN):
        return Disposition.RETRY_LATER
    return Disposition.NEEDS_PERSON


def is_transient(exc: BaseException) -> bool:
    return disposition(exc) is Disposition.RETRY_LATER


def retry_hint(exc: BaseException) -> str:
    """The sentence a person reads after `exc`: wait and try again, or fix what the message names first."""
    if is_transient(exc):
        return "Try again later."
    return "Trying again will not help until what it names is fixed."
