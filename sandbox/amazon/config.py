"""Settings of one Amazon twin: credentials, time compression and faults."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_CLIENT_ID = "amzn1.application-oa2-client.sandboxtwin0000000000000000"
DEFAULT_CLIENT_SECRET = "amzn1.oa2-cs.v1.sandbox-twin-not-a-secret"  # noqa: S105 - public sandbox default
DEFAULT_REFRESH_TOKEN = "Atzr|sandbox_twin_refresh_token_seller_1"  # noqa: S105 - public sandbox default
DEFAULT_SELLER_ID = "A2SANDBOXSELLER1"


@dataclass
class AmazonTwinConfig:
    """Everything a twin needs; the defaults are public sandbox values, never real credentials.

    `rate_scale` multiplies every token-bucket rate and divides feed processing durations, so tests and
    benchmarks can run Amazon's hour-long rhythms in seconds.
    """

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    # refresh token -> selling partner (seller) id
    refresh_tokens: dict[str, str] = field(default_factory=lambda: {DEFAULT_REFRESH_TOKEN: DEFAULT_SELLER_ID})
    rate_scale: float = 1.0
    access_token_ttl_seconds: int = 3600
    # Feed lifecycle at rate_scale 1: IN_QUEUE for feed_queue_seconds, then IN_PROGRESS for
    # feed_processing_seconds, then DONE/FATAL.
    feed_queue_seconds: float = 30.0
    feed_processing_seconds: float = 60.0
    # Serve processing reports GZIP-compressed (`compressionAlgorithm: GZIP`), as Amazon often does.
    gzip_reports: bool = False
    # Faults on SP-API operations (never on LWA or /_sandbox), drawn from random.Random(seed).
    seed: int = 0
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_timeout: float = 0.0
    timeout_seconds: float = 30.0
    # Optional JSON file the twin loads its orders from at start and writes them back to on change.
    data_path: str | None = None

    @property
    def default_seller_id(self) -> str:
        return next(iter(self.refresh_tokens.values()), DEFAULT_SELLER_ID)

    def scaled(self, seconds: float) -> float:
        """A real-world duration compressed by `rate_scale`."""
        return seconds / self.rate_scale if self.rate_scale > 0 else seconds
