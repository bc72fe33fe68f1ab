"""The twin's clock: real UTC time plus an offset that `/_sandbox/clock` can move forward.

Moving the clock lets tests cross Amazon's two-minute rule, token expiry and feed processing without
sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class TwinClock:
    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        """Seconds on the twin's timeline (for token buckets)."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta()


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with a Z suffix, whole seconds, as Amazon's Orders API writes it."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(dt: datetime) -> str:
    """ISO 8601 with milliseconds, as the Feeds API writes it."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 date-time; naive values are UTC (Amazon treats them so). Raises ValueError."""
    text = value.strip()
    if not text or "T" not in text and len(text) != 10:
        raise ValueError(f"not ISO 8601: {value!r}")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)
