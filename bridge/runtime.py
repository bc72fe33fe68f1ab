"""What a process needs to do the bridge's work: settings, database, Redis, and API clients.

One object per process (worker, CLI, web app), built from settings; clients are created on demand so a
command that needs only the database never touches Amazon or Magento.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING

import redis

from bridge.config import ConfigError, Settings, load_settings, missing_magento_credentials
from bridge.storage.db import Database
from bridge.storage.models import Store

if TYPE_CHECKING:  # imported where used: a command that needs only the database never loads the SP-API SDK
    from bridge.amazon.client import AmazonClient
    from bridge.magento.client import MagentoClient


class Runtime:
    def __init__(self, settings: Settings, *, amazon_rate_scale: float = 1.0) -> None:
        self.settings = settings
        self.amazon_rate_scale = amazon_rate_scale

    @classmethod
    def from_config(cls, path: str | None = None) -> Runtime:
        return cls(load_settings(path), amazon_rate_scale=float(os.environ.get("AMAZON_BRIDGE_RATE_SCALE", "1")))

    def forked(self) -> Runtime:
        """This process's Runtime, made from one built before a fork (an RQ work-horse from its worker).

        Same settings and the same engine, whose pool is replaced (`dispose(close=False)`, SQLAlchemy's
        recipe for forks) so no database connection is ever shared with the parent; Redis connections are
        this process's own too. Saves every job re-reading the config and building an engine."""
        child = Runtime(self.settings, amazon_rate_scale=self.amazon_rate_scale)
        if "db" in self.__dict__:
            self.db.engine.dispose(close=False)
            child.__dict__["db"] = self.db
        return child

    def prepare_for_forks(self) -> None:
        """Do once, before forking, what every forked job would otherwise repeat: build the engine (it
        opens no connection) and configure the ORM mappers."""
        from sqlalchemy.orm import configure_mappers

        _ = self.db
        configure_mappers()

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database)

    @cached_property
    def redis(self) -> redis.Redis:
        from bridge import metrics

        metrics.configure(self.settings.redis.url)  # call counters for /metrics, shared by every process
        return redis.Redis.from_url(self.settings.redis.url)

    def amazon_client(self, store: Store) -> AmazonClient:
        """The SP-API client for one store (its seller's refresh token comes from the environment)."""
        from bridge.amazon.client import AmazonClient

        token = os.environ.get(store.refresh_token_env, "")
        if not token:
            from bridge.amazon.errors import AmazonAuthError

            raise AmazonAuthError(
                f"store {store.code}: the LWA refresh token is missing; set the environment variable "
                f"{store.refresh_token_env}"
            )
        return AmazonClient(
            self.settings.amazon,
            refresh_token=token,
            seller_id=store.seller_id,
            marketplace_ids=[store.marketplace_id],
            redis=self.redis,
            rate_scale=self.amazon_rate_scale,
        )

    def magento_client(self, store_code: str | None = None) -> MagentoClient:
        from bridge.magento.cache import ReferenceCache
        from bridge.magento.client import MagentoClient

        missing = missing_magento_credentials(self.settings.magento)
        if missing:  # refuse before anything is sent: unsigned requests only earn "oauth_consumer_key is required"
            raise ConfigError(f"Magento credentials are missing: set {', '.join(missing)} "
                              f"(magento.auth_mode = {self.settings.magento.auth_mode!r})")

        cache = ReferenceCache(self.redis, namespace=self.settings.magento.base_url)
        return MagentoClient(self.settings.magento, store_code=store_code, reference_cache=cache)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
        if "redis" in self.__dict__:
            self.redis.close()
