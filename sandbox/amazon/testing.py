"""Run an Amazon twin on a real socket for tests, the demo and benchmarks (no pytest here)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import requests

from sandbox.server import ServerThread

from .app import create_app
from .config import AmazonTwinConfig


class RunningAmazonTwin:
    """A started twin: `url` is the SP-API endpoint, `lwa_url` the LWA token URL."""

    def __init__(self, config: AmazonTwinConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.app = create_app(config)
        self.server = ServerThread(self.app, host=host, port=port).start()
        self.url = self.server.url
        self.lwa_url = f"{self.url}/auth/o2/token"
        self._http = requests.Session()

    @property
    def refresh_token(self) -> str:
        return next(iter(self.config.refresh_tokens))

    @property
    def seller_id(self) -> str:
        return self.config.default_seller_id

    def _post(self, path: str, body: Any, **params: Any) -> Any:
        response = self._http.post(f"{self.url}{path}", json=body, params=params or None, timeout=30)
        response.raise_for_status()
        return response.json()

    def seed_orders(self, orders: list[dict], *, seller_id: str | None = None,
                    keep_last_updated: bool = False) -> int:
        """Upsert v2026 Order dicts (lastUpdatedTime becomes the twin's now unless kept)."""
        params: dict[str, str] = {}
        if seller_id:
            params["sellerId"] = seller_id
        if keep_last_updated:
            params["keepLastUpdated"] = "true"
        return self._post("/_sandbox/orders", orders, **params)["upserted"]

    def set_status(self, order_id: str, status: str | None = None, **fields: Any) -> dict:
        """Move an order, e.g. set_status(id, "CANCELLED", cancelledBy="BUYER", reason="...") or
        set_status(id, buyerCancelRequest="Changed my mind")."""
        body = dict(fields)
        if status is not None:
            body["status"] = status
        return self._post(f"/_sandbox/orders/{order_id}/status", body)

    def get_order(self, order_id: str) -> dict:
        response = self._http.get(f"{self.url}/_sandbox/orders/{order_id}", timeout=30)
        response.raise_for_status()
        return response.json()

    def advance_clock(self, seconds: float) -> str:
        return self._post("/_sandbox/clock", {"advanceSeconds": seconds})["now"]

    def set_faults(self, **settings: Any) -> dict:
        return self._post("/_sandbox/faults", settings)

    def stats(self) -> dict:
        return self._http.get(f"{self.url}/_sandbox/stats", timeout=30).json()

    def adjustments(self) -> list[dict]:
        return self._http.get(f"{self.url}/_sandbox/adjustments", timeout=30).json()["adjustments"]

    def reset(self) -> None:
        self._post("/_sandbox/reset", {})

    def stop(self) -> None:
        self._http.close()
        self.server.stop()

    def __enter__(self) -> RunningAmazonTwin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_amazon_twin(config: AmazonTwinConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                      **config_overrides: Any) -> RunningAmazonTwin:
    """Start a twin; keyword arguments override AmazonTwinConfig fields (rate_scale=100, seed=7, ...)."""
    config = replace(config or AmazonTwinConfig(), **config_overrides)
    return RunningAmazonTwin(config, host=host, port=port)
