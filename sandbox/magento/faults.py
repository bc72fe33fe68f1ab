"""Seeded fault injection: 500s, slow responses, writes committed before the connection drops, and order
creates saved late (held past the client's timeout, then saved, as a Magento under load does).

One RNG draw pair per REST call in arrival order (plus one per order create while `rate_save_late` is set),
so a sequential client with the same seed sees the same faults on the same calls.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict
from typing import Any

from .config import FaultSettings
from .errors import MagentoError


class Faults:
    def __init__(self, settings: FaultSettings):
        self._lock = threading.Lock()
        self.configure(settings)

    def configure(self, settings: FaultSettings) -> None:
        for name in ("rate_500", "rate_timeout", "rate_drop", "rate_save_late"):
            value = getattr(settings, name)
            if not 0 <= value <= 1:
                raise MagentoError('"%1" must be between 0 and 1.', 400, [name])
        for name in ("timeout_seconds", "save_late_seconds"):
            if getattr(settings, name) < 0:
                raise MagentoError('"%1" must not be negative.', 400, [name])
        with self._lock:
            self.settings = settings
            self._rng = random.Random(settings.seed)

    def update(self, data: dict[str, Any]) -> FaultSettings:
        merged = asdict(self.settings)
        for key, value in data.items():
            if key not in merged:
                raise MagentoError('"%1" is not a fault setting.', 400, [key])
            if key == "seed":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise MagentoError('"%1" must be an integer.', 400, [key])
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise MagentoError('"%1" must be a number.', 400, [key])
            merged[key] = value
        settings = FaultSettings(**merged)
        self.configure(settings)
        return settings

    def draw(self, is_write: bool) -> tuple[str | None, bool]:
        """(fault before handling: "500" | "timeout" | None, drop the connection after a committed write)."""
        with self._lock:
            s = self.settings
            r1, r2 = self._rng.random(), self._rng.random()
        fault = None
        if r1 < s.rate_500:
            fault = "500"
        elif r1 < s.rate_500 + s.rate_timeout:
            fault = "timeout"
        return fault, is_write and fault != "500" and r2 < s.rate_drop

    def save_late(self) -> float:
        """Seconds to hold this order create before saving it (0: save now)."""
        with self._lock:
            s = self.settings
            if s.rate_save_late <= 0:
                return 0.0
            late = self._rng.random() < s.rate_save_late
        return s.save_late_seconds if late else 0.0
