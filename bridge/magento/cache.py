"""A cache of Magento's reference data (store views, store configs, websites, directory, stock ids) and,
for a few minutes, of the products a sync's orders need.

RQ runs every job in a freshly forked work-horse, so a per-client dict is empty for every order; without
this, each import would re-read five unchanging resources. Answers are kept as JSON in Redis for a short
time (they change only when a merchant edits stores or the directory), shared by all workers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import redis

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 600


class ReferenceCache:
    def __init__(self, connection: redis.Redis, namespace: str, ttl_seconds: int = DEFAULT_TTL_SECONDS):
        self.connection = connection
        self.prefix = "amazon-bridge:magento-ref:" + hashlib.sha256(namespace.encode()).hexdigest()[:16] + ":"
        self.ttl_seconds = ttl_seconds

    def get(self, key: str) -> Any | None:
        try:
            raw = self.connection.get(self.prefix + key)
        except redis.RedisError as exc:  # a cache outage must not stop imports
            log.warning("reference cache unavailable: %s", exc)
            return None
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any) -> None:
        try:
            self.connection.set(self.prefix + key, json.dumps(value), ex=self.ttl_seconds)
        except redis.RedisError as exc:
            log.warning("reference cache unavailable: %s", exc)

    def get_many(self, keys: list[str]) -> list[Any | None]:
        """One round trip for many keys; all None when Redis is down."""
        if not keys:
            return []
        try:
            raws = self.connection.mget([self.prefix + k for k in keys])
        except redis.RedisError as exc:
            log.warning("reference cache unavailable: %s", exc)
            return [None] * len(keys)
        return [None if raw is None else json.loads(raw) for raw in raws]

    def set_many(self, values: dict[str, Any], ttl_seconds: int | None = None) -> None:
        if not values:
            return
        try:
            with self.connection.pipeline(transaction=False) as pipe:
                for key, value in values.items():
                    pipe.set(self.prefix + key, json.dumps(value), ex=ttl_seconds or self.ttl_seconds)
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("reference cache unavailable: %s", exc)

    def clear(self) -> None:
        for key in self.connection.scan_iter(self.prefix + "*"):
            self.connection.delete(key)
