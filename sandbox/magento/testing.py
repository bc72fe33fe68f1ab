"""Start a Magento twin on a free port for tests, the demo and benchmarks (no pytest dependency)."""

from __future__ import annotations

from typing import Any

import requests
from requests_oauthlib import OAuth1

from sandbox.server import ServerThread

from .app import create_app
from .config import MagentoTwinConfig


class RunningMagentoTwin:
    """A twin served by a background ServerThread; `url` is the base (append `/rest/V1/...`)."""

    def __init__(self, config: MagentoTwinConfig, host: str = "127.0.0.1", port: int = 0, quiet: bool = True):
        self.config = config
        self.app = create_app(config)
        self.twin = self.app.extensions["magento_twin"]
        self._server = ServerThread(self.app, host, port)
        if quiet:
            # Per-server subclass: no access-log line per request (benchmarks make thousands); errors still log.
            handler = self._server.server.RequestHandlerClass
            self._server.server.RequestHandlerClass = type(
                "QuietMagentoTwinHandler", (handler,), {"log_request": lambda self, *args, **kwargs: None}
            )
        self._server.start()
        self.url = self._server.url
        self.rest_url = f"{self.url}/rest/V1"

    def oauth(self) -> OAuth1:
        c = self.config
        return OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret,
                      signature_method="HMAC-SHA256")

    def session(self) -> requests.Session:
        s = requests.Session()
        s.auth = self.oauth()
        return s

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Same as `POST /_sandbox/faults`: seed, rate_500, rate_timeout, timeout_seconds, rate_drop."""
        resp = requests.post(f"{self.url}/_sandbox/faults", json=settings, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def stats(self) -> dict[str, Any]:
        """`GET /_sandbox/stats`: {"total", "routes": {"GET /V1/orders": n, ...}, "faults"}."""
        resp = requests.get(f"{self.url}/_sandbox/stats", timeout=10)
        resp.raise_for_status()
        return resp.json()

    def reset(self) -> None:
        requests.post(f"{self.url}/_sandbox/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        self._server.stop()
        self.twin.store.close()

    def __enter__(self) -> RunningMagentoTwin:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_magento_twin(
    host: str = "127.0.0.1", port: int = 0, quiet: bool = True, **config_overrides: Any
) -> RunningMagentoTwin:
    """`start_magento_twin(acl_resources=frozenset({...}), enable_integration_as_bearer=True, ...)`.

    Fault settings may be given as `faults=FaultSettings(...)` or flat (`rate_500=0.1, seed=1`).
    """
    return RunningMagentoTwin(MagentoTwinConfig(**config_overrides), host, port, quiet)
