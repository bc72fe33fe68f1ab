"""Short Redis leases kept alive by a heartbeat while their holder lives.

A lock that guards running work must not outlive the worker holding it: a SIGKILLed process cannot
release anything. So the lock's time-to-live is short (`ttl`, seconds) and a daemon thread renews it
every `ttl / 3` seconds, as RQ does for its own started jobs. When the holder dies, the thread dies with
it and the lease runs out within `ttl` seconds; the next holder takes over.
"""

from __future__ import annotations

import logging
import threading

from redis import Redis, RedisError
from redis.exceptions import LockNotOwnedError
from redis.lock import Lock

log = logging.getLogger(__name__)


class Lease:
    """A non-blocking Redis lock renewed in the background from `acquire()` until `release()`."""

    def __init__(self, redis: Redis, name: str, *, ttl: float = 30.0):
        if ttl <= 0:
            raise ValueError("a lease needs a positive ttl")
        self.name = name
        self.ttl = ttl
        self._lock: Lock = redis.lock(name, timeout=ttl, blocking=False, thread_local=False)  # renewed by a thread
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False  # set when a renewal found the lease taken or gone (e.g. Redis restarted)

    def acquire(self) -> bool:
        if not self._lock.acquire(blocking=False):
            return False
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew, name=f"lease:{self.name}", daemon=True)
        self._thread.start()
        return True

    def _renew(self) -> None:
        interval = self.ttl / 3
        while not self._stop.wait(interval):
            try:
                self._lock.reacquire()  # back to the full ttl, only if this holder still owns it
            except LockNotOwnedError:  # it ran out (a stalled process) and someone else may own it now
                self.lost = True
                log.warning("lease %s: lost; another holder may own it now", self.name)
                return
            except RedisError as exc:  # Redis away for a moment: keep trying while the holder lives
                log.warning("lease %s: renewal failed (%s)", self.name, type(exc).__name__)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.ttl)
            self._thread = None
        try:
            self._lock.release()
        except RedisError:  # expired, taken over, or Redis gone: nothing left to release
            log.info("lease %s: already gone at release", self.name)
