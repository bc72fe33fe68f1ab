"""Injected faults (extra 429s, 500s, 503s, slow responses), drawn from a seeded generator.

A given seed and request sequence always yields the same faults, so a failing test can be replayed.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field


@dataclass
class FaultSettings:
    seed: int = 0
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_timeout: float = 0.0
    timeout_seconds: float = 30.0
    # operation name -> seconds the answer is held back AFTER the operation took effect: the network
    # losing time on the way back, so a client may die between "Amazon did it" and "the client knows".
    slow_answer: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class FaultInjector:
    def __init__(self, settings: FaultSettings) -> None:
        self._lock = threading.Lock()
        self.configure(settings)

    def configure(self, settings: FaultSettings) -> None:
        for name in ("rate_429", "rate_500", "rate_503", "rate_timeout"):
            value = getattr(settings, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if settings.timeout_seconds < 0:
            raise ValueError("timeout_seconds must be >= 0")
        if not isinstance(settings.slow_answer, dict) or not all(
                isinstance(k, str) and isinstance(v, int | float) and v >= 0 for k, v in settings.slow_answer.items()):
            raise ValueError("slow_answer maps operation names to seconds >= 0")
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.seed)

    def draw(self) -> str | None:
        """One of "429", "500", "503", "timeout" or None; one random draw per SP-API request."""
        with self._lock:
            s = self.settings
            if not (s.rate_429 or s.rate_500 or s.rate_503 or s.rate_timeout):
                return None
            roll = self._random.random()
        for kind, rate in (("429", s.rate_429), ("500", s.rate_500), ("503", s.rate_503),
                           ("timeout", s.rate_timeout)):
            if roll < rate:
                return kind
            roll -= rate
        return None
