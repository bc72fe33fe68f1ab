"""A token bucket per (seller, operation), shared by every worker process through Redis.

Amazon's usage plans are per application and seller, not per process: RQ runs one work-horse per job
and several workers, so an in-process bucket would let N workers spend N bursts. The bucket lives in a
Redis hash and is changed only by one Lua script (atomic), which reads Redis' own clock (`TIME`), so the
clocks of the worker hosts never matter.

The script *reserves*: when no token is left but the wait is within the caller's bound, it takes the
token anyway (the level goes negative) and returns how long to sleep. Callers are thus served in arrival
order and the grants never exceed `burst + rate x elapsed`. A wait beyond the bound takes nothing, so a
job can give up (and be retried later by RQ) without burning a token.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

# Amazon's documented default usage plans (rate in requests per second, burst), sp-api.md §1.1, §2, §3.4.
DEFAULT_PLANS: dict[str, tuple[float, int]] = {
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "confirmShipment": (2.0, 10),  # v0
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeeds": (0.0222, 10),
    "cancelFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
}

RATE_OVERRIDE_TTL_SECONDS = 24 * 3600  # Amazon adjusts usage plans per seller; re-learned from headers

# KEYS[1] bucket hash {tokens, ts}; KEYS[2] rate learned from x-amzn-RateLimit-Limit (string)
# ARGV[1] default rate, ARGV[2] burst, ARGV[3] max wait in seconds (negative: never reserve)
# Returns {granted 0|1, wait seconds as text, redis now as text}.
_ACQUIRE = """
local rate = tonumber(redis.call('GET', KEYS[2]) or ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
else
  now = ts
end
local granted = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  granted = 1
else
  wait = (1 - tokens) / rate
  if max_wait >= 0 and wait <= max_wait then
    tokens = tokens - 1
    granted = 1
  end
end
if granted == 1 then
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens), 'ts', string.format('%.6f', now))
  local ttl = math.ceil((burst - tokens) / rate) + 60
  redis.call('EXPIRE', KEYS[1], ttl)
end
return {granted, string.format('%.6f', wait), string.format('%.6f', now)}
"""

# After a 429 Amazon's bucket is empty whatever ours says: refill to now, then cap at zero (outstanding
# reservations stay negative). KEYS[1] bucket hash; ARGV[1] default rate (unused but for TTL), ARGV[2] burst.
_DRAIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil or tokens > 0 then
  tokens = 0
end
if ts ~= nil and ts > now then
  now = ts
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens), 'ts', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) / tonumber(ARGV[1])) + 60)
return 1
"""


@dataclass(frozen=True, slots=True)
class Grant:
    """Result of one acquire: whether a token is ours, and when (Redis time) we may use it."""

    granted: bool
    wait: float  # seconds to sleep before the call (or, when not granted, until a token would be free)
    redis_now: float

    @property
    def allowed_at(self) -> float:
        return self.redis_now + self.wait


class RedisThrottle:
    """The shared buckets of one Redis. `rate_scale` multiplies the default rates (tests run the twin
    with `--rate-scale N`); rates learned from headers are already the applied rate and are kept as is.
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        *,
        prefix: str = "amazon-bridge:throttle",
        rate_scale: float = 1.0,
        plans: dict[str, tuple[float, int]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_scale <= 0:
            raise ValueError("rate_scale must be positive")
        self.redis = redis_client
        self.prefix = prefix
        self.rate_scale = rate_scale
        self.plans = dict(DEFAULT_PLANS if plans is None else plans)
        self.sleep = sleep
        self._script = redis_client.register_script(_ACQUIRE)
        self._drain = redis_client.register_script(_DRAIN)

    def _keys(self, seller_id: str, operation: str) -> list[str]:
        base = f"{self.prefix}:{seller_id}:{operation}"
        return [base, f"{base}:rate"]

    def plan(self, operation: str) -> tuple[float, int]:
        """(default rate x rate_scale, burst) of an operation."""
        try:
            rate, burst = self.plans[operation]
        except KeyError as exc:
            raise ValueError(f"no usage plan for SP-API operation {operation!r}") from exc
        return rate * self.rate_scale, burst

    def try_acquire(self, seller_id: str, operation: str, *, max_wait: float = math.inf) -> Grant:
        """Take (or reserve, if it is free within `max_wait` seconds) one token; never sleeps."""
        rate, burst = self.plan(operation)
        bound = -1.0 if max_wait < 0 else min(max_wait, 1e12)
        granted, wait, now = self._script(keys=self._keys(seller_id, operation), args=[repr(rate), burst, repr(bound)])
        return Grant(bool(int(granted)), float(wait), float(now))

    def acquire(self, seller_id: str, operation: str, *, max_wait: float = math.inf) -> Grant:
        """Take one token, sleeping for it when needed. Returns the grant; `granted` is False (and
        nothing slept) when the token is further away than `max_wait`."""
        grant = self.try_acquire(seller_id, operation, max_wait=max_wait)
        if grant.granted and grant.wait > 0:
            self.sleep(grant.wait)
        return grant

    def update_rate(self, seller_id: str, operation: str, header_value: str | None) -> float | None:
        """Learn the applied rate from `x-amzn-RateLimit-Limit` (best effort; bad values ignored)."""
        if not header_value:
            return None
        try:
            rate = float(header_value.strip())
        except ValueError:
            return None
        if not math.isfinite(rate) or rate <= 0:
            return None
        self.redis.set(self._keys(seller_id, operation)[1], repr(rate), ex=RATE_OVERRIDE_TTL_SECONDS)
        return rate

    def drain(self, seller_id: str, operation: str) -> None:
        """Amazon answered 429: empty our bucket too, so every worker slows down at once."""
        rate, burst = self.plan(operation)
        self._drain(keys=self._keys(seller_id, operation)[:1], args=[repr(rate), burst])

    def current_rate(self, seller_id: str, operation: str) -> float:
        learned = self.redis.get(self._keys(seller_id, operation)[1])
        return float(learned) if learned is not None else self.plan(operation)[0]

    def reset(self, seller_id: str, operation: str) -> None:
        self.redis.delete(*self._keys(seller_id, operation))
