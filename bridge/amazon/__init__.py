"""The bridge's Amazon SP-API layer: mapping, a Redis-shared throttle, feeds XML and the client."""

from __future__ import annotations

from bridge.amazon.errors import (
    AmazonAuthError,
    AmazonDataError,
    AmazonError,
    AmazonInvalidInput,
    AmazonNotFound,
    AmazonServerError,
    AmazonThrottled,
)

__all__ = [
    "AmazonAuthError",
    "AmazonDataError",
    "AmazonError",
    "AmazonInvalidInput",
    "AmazonNotFound",
    "AmazonServerError",
    "AmazonThrottled",
]
