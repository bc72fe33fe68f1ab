"""`AmazonClient`: the thin layer the bridge owns around Amazon's SDK (`amzn-sp-api`).

The SDK builds the requests (paths, query encoding, auth header); this layer adds what it lacks:

* LWA access tokens cached in Redis, because RQ forks a fresh work-horse per job and the SDK's
  in-process cache would otherwise call LWA for every job (`RedisAccessTokenCache`);
* the shared token bucket of `bridge.amazon.throttle`, and the rate learned from `x-amzn-RateLimit-Limit`;
* one retry loop (`_with_retries`, bounded by a `bridge.retry.RetryPolicy`): 429/500/502/503/504 and
  connection failures, with exponential back-off and jitter, bounded attempts and a bounded total wait;
  a 429 waits for the bucket, an outage (5xx, connection failures) gets only a few seconds of retries
  (`max_outage_wait`) and then goes up as `AmazonServerError`, so the job ends and the scheduler retries;
  urllib3's own retries are switched off so nothing retries behind its back;
* typed errors (`bridge.amazon.errors`) instead of `ApiException`/`LwaException`;
* responses read raw (`_preload_content=False`) and parsed with `json.loads(parse_float=Decimal)`.
  Measured on the model's sandbox examples, the SDK's own deserialisation is unusable for us: `to_dict()`
  gives snake_case keys and datetime objects instead of Amazon's JSON, it drops fields the SDK version
  does not know, a numeric amount becomes `str(float)` (12345678901234567.99 -> '1.2345678901234568e+16'),
  and one enum value newer than the SDK (e.g. a new package status) raises ValueError and loses the whole
  page. The mapping works on Amazon's JSON as sent.

Tokens, secrets, buyer e-mails and addresses are never logged; the SDK's `spapi` loggers are set to
WARNING (its REST client logs whole response bodies at DEBUG) and the root handler that
`spapi.client` installs with `logging.basicConfig(level=INFO)` on import is removed again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar, cast, overload

import redis
import requests
import urllib3

from bridge.amazon.errors import (
    AmazonAuthError,
    AmazonDataError,
    AmazonError,
    AmazonInvalidInput,
    AmazonNotFound,
    AmazonServerError,
    AmazonThrottled,
)
from bridge.amazon.feeds import XML_CONTENT_TYPE, ProcessingReport, parse_processing_report
from bridge.amazon.mapping import maybe_amazon_datetime, order_from_v2026
from bridge.amazon.throttle import RedisThrottle
from bridge.config import AmazonSettings
from bridge.domain import AmazonOrder
from bridge.retry import AMAZON_RETRY, RetryPolicy


def _import_sdk_quietly() -> None:
    """Import `spapi.client` and undo its `logging.basicConfig(level=INFO)` (which would otherwise turn
    on INFO output for every library and make the application's own basicConfig a no-op)."""
    root = logging.getLogger()
    handlers_before, level_before = list(root.handlers), root.level
    import spapi.client  # noqa: F401

    added = [h for h in root.handlers if h not in handlers_before]
    if not handlers_before and len(added) == 1:
        root.removeHandler(added[0])
        root.setLevel(level_before)
    logging.getLogger("spapi").setLevel(logging.WARNING)


_import_sdk_quietly()

from spapi.api.feeds_v2021_06_30.feeds_api import FeedsApi  # noqa: E402
from spapi.api.orders_v0.orders_v0_api import OrdersV0Api  # noqa: E402
from spapi.api.orders_v2026_01_01.get_order_api import GetOrderApi  # noqa: E402
from spapi.api.orders_v2026_01_01.search_orders_api import SearchOrdersApi  # noqa: E402
from spapi.auth.credentials import SPAPIConfig  # noqa: E402
from spapi.auth.lwa_exception import LwaException  # noqa: E402
from spapi.auth.lwa_request import AccessTokenCache  # noqa: E402
from spapi.client import SPAPIClient  # noqa: E402
from spapi.rest import ApiException  # noqa: E402

from bridge import metrics  # noqa: E402

log = logging.getLogger("bridge.amazon")

T = TypeVar("T")

DEFAULT_INCLUDED_DATA = (
    "BUYER", "RECIPIENT", "PROCEEDS", "PROMOTION", "CANCELLATION", "FULFILLMENT", "PACKAGES",
    "TAX",  # taxCollections (tax Amazon remits) and the buyer's taxRegistrations
)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
FEED_DONE_STATUSES = frozenset({"DONE", "CANCELLED", "FATAL"})


def _iso(value: datetime) -> str:
    """Amazon's ISO 8601 form in UTC with `Z`; naive datetimes are refused (they hide bugs)."""
    if value.tzinfo is None:
        raise ValueError("datetimes sent to Amazon must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _loads(data: bytes | str | None) -> Any:
    if not data:
        return None
    return json.loads(data, parse_float=Decimal)


@overload
def jsonable(value: dict[str, Any]) -> dict[str, Any]: ...
@overload
def jsonable(value: Any) -> Any: ...
def jsonable(value: Any) -> Any:
    """Amazon JSON parsed with Decimal -> plain JSON types: a fractional JSON number becomes its exact text
    (as Amazon's own Decimal type is sent), so raw snapshots can be stored with `json.dumps` and mapped
    again later to the same result."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------ LWA tokens


class RedisAccessTokenCache(AccessTokenCache):  # type: ignore[misc]  # spapi ships no type information
    """The SDK's token cache, backed by Redis so every worker process and job reuses one token.

    Keyed by a hash of client id + refresh token (never the secret itself), stored for
    `expires_in - 60` seconds. Replaces the SDK's request method too: the SDK retries *any* failure,
    400 invalid_grant included, three times with 2/4/8 s sleeps and then loses LWA's error text; a wrong
    refresh token must fail at once with LWA's own words.
    """

    def __init__(
        self,
        *,
        redis_client: redis.Redis,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        oauth_endpoint: str,
        timeout: float,
        key_prefix: str = "amazon-bridge",
        seller_id: str = "?",
    ) -> None:
        super().__init__(
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            grant_type="refresh_token",
            oauth_endpoint=oauth_endpoint,
            max_retries=0,
        )
        self.redis = redis_client
        self.timeout = timeout
        self.seller_id = seller_id
        digest = hashlib.sha256(f"{client_id}\0{refresh_token}".encode()).hexdigest()
        self.key = f"{key_prefix}:lwa:{digest}"
        self._local: tuple[str, float] | None = None  # (token, monotonic expiry) to skip Redis round trips
        self.requests_made = 0

    def __repr__(self) -> str:  # never show the secrets
        return f"<RedisAccessTokenCache seller={self.seller_id} key={self.key}>"

    def get_lwa_access_token(self) -> str:
        if self._local and time.monotonic() < self._local[1]:
            return self._local[0]
        token = self._from_redis()
        if token is not None:
            return token
        # Single flight: when many work-horses start with an empty cache, one asks LWA, the others wait
        # briefly for its token. The lock expires by itself, so a crashed holder blocks nobody for long.
        lock_key = f"{self.key}:lock"
        holds_lock = bool(self.redis.set(lock_key, "1", nx=True, ex=max(int(self.timeout) + 5, 10)))
        if not holds_lock:
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline:
                time.sleep(0.05)
                token = self._from_redis()
                if token is not None:
                    return token
                if not self.redis.exists(lock_key):
                    # The holder finished (or died): it may have stored its token just before letting go.
                    token = self._from_redis()
                    if token is not None:
                        return token
                    holds_lock = bool(self.redis.set(lock_key, "1", nx=True, ex=max(int(self.timeout) + 5, 10)))
                    if holds_lock:
                        break
        try:
            if holds_lock:
                # Another worker may have stored a token between our look and our taking the lock.
                token = self._from_redis()
                if token is not None:
                    return token
            return self.request_new_token(
                self.client_id,
                self.client_secret,
                self.refresh_token,
                self.grant_type,
                self.scope,
                self.oauth_endpoint,
            )
        finally:
            if holds_lock:  # never release another worker's lock
                self.redis.delete(lock_key)

    def _from_redis(self) -> str | None:
        cached = self.redis.get(self.key)
        if cached is None:
            return None
        token = cached.decode() if isinstance(cached, bytes) else str(cached)
        ttl = self.redis.ttl(self.key)
        self._local = (token, time.monotonic() + max(min(ttl, 300), 0))
        return token

    def request_new_token(self, client_id: str, client_secret: str, refresh_token: str, grant_type: str,
                          scope: str | None, oauth_endpoint: str) -> str:
        self.validate_token_request(grant_type, refresh_token, scope)
        data = self.prepare_token_request_data(client_id, client_secret, refresh_token, grant_type, scope)
        self.requests_made += 1
        try:
            response = requests.post(oauth_endpoint, data=data, timeout=self.timeout)
        except requests.RequestException as exc:
            raise AmazonServerError(f"Login with Amazon unreachable: {type(exc).__name__}", operation="lwa") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise AmazonServerError(
                f"Login with Amazon answered {response.status_code}", status=response.status_code, operation="lwa"
            )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            error = body.get("error", "unknown_error") if isinstance(body, dict) else "unknown_error"
            description = body.get("error_description", "") if isinstance(body, dict) else ""
            raise AmazonAuthError(
                f"Login with Amazon refused the credentials of seller {self.seller_id} "
                f"(HTTP {response.status_code}): {error}: {description}".rstrip(": "),
                status=response.status_code,
                operation="lwa",
                errors=[{"code": error, "message": description}],
            )
        token = str(body["access_token"])
        try:
            expires_in = int(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            expires_in = 3600
        ttl = max(expires_in - 60, 1)
        self.redis.set(self.key, token, ex=ttl)
        self._local = (token, time.monotonic() + min(ttl, 300))
        log.info("LWA access token refreshed for seller %s (valid %d s)", self.seller_id, expires_in)
        return token

    def invalidate(self) -> None:
        """Forget the token everywhere (Amazon said 403: it may have been revoked before expiry)."""
        self._local = None
        self.redis.delete(self.key)


class _BridgeSPAPIClient(SPAPIClient):  # type: ignore[misc]  # spapi ships no type information
    """`SPAPIClient` with our token cache swapped in before the SDK's ApiClient first asks for a token."""

    def __init__(self, config: SPAPIConfig, *, token_cache: AccessTokenCache, oauth_endpoint: str, endpoint: str):
        self._bridge_token_cache = token_cache
        super().__init__(config, oauth_endpoint=oauth_endpoint, endpoint=endpoint)

    def _initialize_client(self) -> None:
        self.access_token_cache = self._bridge_token_cache
        super()._initialize_client()


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class OrdersPage:
    """One searchOrders page. `raw[i]` is Amazon's JSON for `orders[i]`; orders that could not be mapped
    are in `rejected` (with the error naming the field) instead of failing the whole page."""

    orders: list[AmazonOrder]
    raw: list[dict[str, Any]]
    next_token: str | None
    last_updated_before: datetime | None
    created_before: datetime | None = None
    # Amazon's JSON as sent (usually an object, but a page may carry anything) and why it was not read.
    rejected: list[tuple[Any, AmazonDataError]] = field(default_factory=list)


@dataclass(frozen=True)
class FeedStatus:
    feed_id: str
    feed_type: str | None
    processing_status: str
    result_feed_document_id: str | None = None
    created_time: datetime | None = None
    processing_start_time: datetime | None = None
    processing_end_time: datetime | None = None

    @property
    def done(self) -> bool:
        return self.processing_status in FEED_DONE_STATUSES


@dataclass
class _Response:
    status: int
    headers: Any
    body: Any


# ----------------------------------------------------------------------------------------------- client


class AmazonClient:
    """SP-API for one seller (one refresh token). Cheap to build; nothing is fetched until the first call."""

    def __init__(
        self,
        settings: AmazonSettings,
        *,
        refresh_token: str,
        seller_id: str,
        marketplace_ids: list[str],
        redis: redis.Redis,
        rate_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
        key_prefix: str = "amazon-bridge",
    ) -> None:
        if not settings.client_id or not settings.client_secret:
            raise AmazonAuthError(
                "Amazon LWA client id/secret are not set (AMAZON_LWA_CLIENT_ID, AMAZON_LWA_CLIENT_SECRET)"
            )
        if not refresh_token:
            raise AmazonAuthError(f"no refresh token for seller {seller_id}")
        if rate_scale <= 0:
            raise ValueError("rate_scale must be positive")
        self.settings = settings
        self.seller_id = seller_id
        self.marketplace_ids = list(marketplace_ids)
        self.redis = redis
        self.rate_scale = rate_scale
        self.sleep = sleep
        self.retry = retry or AMAZON_RETRY
        self.throttle = RedisThrottle(redis, prefix=f"{key_prefix}:throttle", rate_scale=rate_scale, sleep=sleep)
        self.token_cache = RedisAccessTokenCache(
            redis_client=redis,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            refresh_token=refresh_token,
            oauth_endpoint=settings.lwa_endpoint,
            timeout=settings.timeout_seconds,
            key_prefix=key_prefix,
            seller_id=seller_id,
        )
        self._refresh_token = refresh_token
        self._sdk: _BridgeSPAPIClient | None = None
        self._http = requests.Session()
        self.calls: dict[str, int] = {}  # SP-API requests sent, per operation (for measurements)

    def __repr__(self) -> str:
        return f"<AmazonClient seller={self.seller_id} endpoint={self.settings.api_endpoint}>"

    # -- SDK plumbing ------------------------------------------------------------------------------

    def _api_client(self) -> Any:  # the SDK's ApiClient (untyped)
        if self._sdk is None:
            config = SPAPIConfig(
                client_id=self.settings.client_id,
                client_secret=self.settings.client_secret,
                refresh_token=self._refresh_token,
                region=self.settings.region,  # explicit: the SDK's default region is SANDBOX
            )
            try:
                sdk = _BridgeSPAPIClient(
                    config,
                    token_cache=self.token_cache,
                    oauth_endpoint=self.settings.lwa_endpoint,
                    endpoint=self.settings.api_endpoint,
                )
            except LwaException as exc:
                raise AmazonAuthError(
                    f"Login with Amazon failed for seller {self.seller_id}: {exc.get_error_code()}", operation="lwa"
                ) from exc
            # One retry policy: ours. urllib3's default (3 retries, also of POSTs) is switched off.
            sdk.api_client.rest_client.pool_manager = urllib3.PoolManager(
                num_pools=4,
                maxsize=4,
                retries=False,
                cert_reqs="CERT_REQUIRED",
                ca_certs=_certifi_where(),
            )
            sdk.api_client.user_agent = f"amazon-bridge/0.1 {sdk.api_client.user_agent}"
            self._sdk = sdk
        return self._sdk.api_client

    def _timeout(self) -> tuple[float, float]:
        return (min(self.settings.timeout_seconds, 10.0), self.settings.timeout_seconds)

    def _with_retries(self, what: str, once: Callable[[], _Attempt[T]], *, operation: str | None = None) -> T:
        """The one retry loop of the Amazon layer: every SP-API call and document transfer runs here.

        `once` makes one attempt and says what happened (`_Attempt`). SP-API calls (`operation` given) first
        take a token from the shared bucket. Bounded by the policy's `max_attempts`, by `max_total_wait` over
        back-off sleeps and bucket waits together, and by `max_outage_wait` for outages.
        """
        waited = 0.0
        outage_waited = 0.0
        attempt = 0
        while True:
            if operation is not None:
                waited += self._wait_for_bucket(what, operation, self.retry.max_total_wait - waited)
            outcome = once()
            if outcome.again:
                continue
            attempt += 1
            if outcome.failure is None:
                return cast(T, outcome.result)  # an attempt without a failure carries its result
            delay = self._retry_delay(outcome.failure, outcome.retry, attempt, waited, outage_waited)
            if delay is None:
                raise outcome.failure
            if isinstance(outcome.failure, AmazonServerError):
                outage_waited += delay
            log.info("%s: %s; retry %d in %.2f s", what, type(outcome.failure).__name__, attempt, delay)
            self.sleep(delay)
            waited += delay

    def _wait_for_bucket(self, what: str, operation: str, budget: float) -> float:
        """Sleep until the shared bucket grants `operation` a request; the seconds slept. AmazonThrottled
        when that would take longer than `budget`."""
        grant = self.throttle.try_acquire(self.seller_id, operation, max_wait=budget)
        # A little past the refill: Amazon's bucket is not in step with ours, and arriving a
        # millisecond early costs a 429 and a whole extra interval.
        pause = grant.wait * 1.01 + 0.01 / self.rate_scale if grant.wait > 0 else 0.0
        if not grant.granted or pause > budget:
            raise AmazonThrottled(
                f"{what}: the shared rate limit frees a request slot only in {grant.wait:.0f} s, beyond "
                f"the {self.retry.max_total_wait:.0f} s budget; try again later",
                status=429,
                operation=operation,
            )
        if pause > 0:
            log.debug("%s: waiting %.2f s for the rate limit", what, pause)
            self.sleep(pause)
        return pause

    def _retry_delay(self, failure: AmazonError, retry: bool, attempt: int, waited: float,
                     outage_waited: float) -> float | None:
        """The back-off before the next attempt, or None when the failure is final or the budget is spent."""
        policy = self.retry
        if not retry or not policy.may_retry(attempt):
            return None
        delay = policy.backoff(attempt, scale=self.rate_scale)
        if waited + delay > policy.max_total_wait:
            return None
        if isinstance(failure, AmazonServerError) and (
            outage_waited + delay > policy.max_outage_wait / self.rate_scale
        ):
            return None
        return delay

    def _call(
        self, operation: str, invoke: Callable[[Any], Any], *, idempotent: bool = True, context: str = ""
    ) -> _Response:
        """One SP-API operation through the SDK: bucket, retries (`_with_retries`) and error mapping."""
        what = f"{operation}{' ' + context if context else ''}"
        token_refreshed = False
        attempts = 0

        def once() -> _Attempt[_Response]:
            nonlocal token_refreshed, attempts
            attempts += 1
            self.calls[operation] = self.calls.get(operation, 0) + 1
            outcome = self._attempt(what, operation, invoke, idempotent=idempotent, attempts=attempts,
                                    may_refresh_token=not token_refreshed)
            token_refreshed = token_refreshed or outcome.again
            metrics.amazon_call(operation, outcome.status)  # every request sent, by outcome, for /metrics
            return outcome

        return self._with_retries(what, once, operation=operation)

    def _attempt(self, what: str, operation: str, invoke: Callable[[Any], Any], *, idempotent: bool,
                 attempts: int, may_refresh_token: bool) -> _Attempt[_Response]:
        """Send the request once and say what happened."""
        try:
            return _Attempt(result=self._send(operation, invoke))
        except ApiException as exc:
            return self._answered_with_error(what, operation, exc, attempts=attempts,
                                             may_refresh_token=may_refresh_token)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return _connection_lost(what, operation, exc, idempotent=idempotent)
        except AmazonError as exc:  # from LWA: unreachable or failing (transient), or refusing the credentials
            return _Attempt(failure=exc, retry=exc.transient)

    def _send(self, operation: str, invoke: Callable[[Any], Any]) -> _Response:
        response, status, _headers = invoke(self._api_client())
        try:
            headers = response.headers
            body = _loads(response.data)
        finally:
            response.release_conn()
        self.throttle.update_rate(self.seller_id, operation, headers.get("x-amzn-RateLimit-Limit"))
        return _Response(status, headers, body)

    def _answered_with_error(self, what: str, operation: str, exc: ApiException, *, attempts: int,
                             may_refresh_token: bool) -> _Attempt[_Response]:
        """Amazon answered with an error status: keep the rate and the bucket in step, then map it."""
        status = int(exc.status or 0)
        headers = exc.headers if hasattr(exc.headers, "get") else {}
        if status in (400, 404):  # Amazon sends the rate header on these too
            self.throttle.update_rate(self.seller_id, operation, headers.get("x-amzn-RateLimit-Limit"))
        if status in (401, 403) and may_refresh_token:  # revoked or expired early: one fresh token, then give up
            self.token_cache.invalidate()
            return _Attempt(again=True)
        if status == 429:
            self.throttle.drain(self.seller_id, operation)
        failure = _api_error(what, status, exc, attempts=attempts, operation=operation,
                             request_id=headers.get("x-amzn-RequestId"))
        return _Attempt(failure=failure, retry=failure.transient)

    # -- Orders API v2026-01-01 ----------------------------------------------------------------------

    def search_orders(
        self,
        *,
        last_updated_after: datetime | None = None,
        last_updated_before: datetime | None = None,
        pagination_token: str | None = None,
        page_size: int = 100,
        included_data: Sequence[str] = DEFAULT_INCLUDED_DATA,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> OrdersPage:
        """One page of orders updated (or, for a backfill, created) in the window (one searchOrders call)."""
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be between 1 and 100")
        if (last_updated_after is None) == (created_after is None):
            raise ValueError("give exactly one of last_updated_after and created_after")
        kwargs: dict[str, Any] = {
            "max_results_per_page": page_size,
            "included_data": list(included_data),
        }
        if last_updated_after is not None:
            kwargs["last_updated_after"] = _iso(last_updated_after)
        elif created_after is not None:
            kwargs["created_after"] = _iso(created_after)
            if created_before is not None:
                kwargs["created_before"] = _iso(created_before)
        if self.marketplace_ids:
            kwargs["marketplace_ids"] = self.marketplace_ids
        if last_updated_before is not None:
            kwargs["last_updated_before"] = _iso(last_updated_before)
        if pagination_token:
            kwargs["pagination_token"] = pagination_token
        response = self._call(
            "searchOrders",
            lambda api: SearchOrdersApi(api).search_orders_with_http_info(
                _preload_content=False, _request_timeout=self._timeout(), **kwargs
            ),
        )
        body = response.body if isinstance(response.body, dict) else {}
        orders, raw, rejected = [], [], []
        for data in body.get("orders") or []:
            try:
                orders.append(order_from_v2026(data))
                raw.append(jsonable(data))
            except AmazonDataError as exc:
                log.warning("searchOrders: %s", exc)
                rejected.append((jsonable(data), exc))
        pagination = body.get("pagination") or {}
        return OrdersPage(
            orders=orders,
            raw=raw,
            next_token=pagination.get("nextToken") if isinstance(pagination, dict) else None,
            last_updated_before=maybe_amazon_datetime(body.get("lastUpdatedBefore")),
            created_before=maybe_amazon_datetime(body.get("createdBefore")),
            rejected=rejected,
        )

    def get_order_raw(self, order_id: str, *, included_data: Sequence[str] = DEFAULT_INCLUDED_DATA) -> dict[str, Any]:
        response = self._call(
            "getOrder",
            lambda api: GetOrderApi(api).get_order_with_http_info(
                order_id, included_data=list(included_data), _preload_content=False, _request_timeout=self._timeout()
            ),
            context=order_id,
        )
        body = response.body if isinstance(response.body, dict) else {}
        order = body.get("order")
        if not isinstance(order, dict):
            raise AmazonDataError(order_id, "order", "getOrder answered without an order")
        return jsonable(order)

    def get_order_with_raw(self, order_id: str, **kwargs: Any) -> tuple[AmazonOrder, dict[str, Any]]:
        """The mapped order and Amazon's JSON for it (JSON-safe: see `jsonable`)."""
        raw = self.get_order_raw(order_id, **kwargs)
        return order_from_v2026(raw), raw

    def get_order(self, order_id: str, **kwargs: Any) -> AmazonOrder:
        return self.get_order_with_raw(order_id, **kwargs)[0]

    # -- Orders API v0: shipment confirmation ---------------------------------------------------------

    def confirm_shipment(
        self,
        order_id: str,
        *,
        marketplace_id: str,
        package_reference_id: str,
        carrier_code: str,
        tracking_number: str,
        ship_date: datetime,
        items: Iterable[tuple[str, int]],
        carrier_name: str | None = None,
        shipping_method: str | None = None,
    ) -> None:
        """v0 confirmShipment (204). Safe to repeat: Amazon treats it as an edit of the same package."""
        order_items = [{"orderItemId": str(item_id), "quantity": int(qty)} for item_id, qty in items]
        if not order_items:
            raise ValueError("confirm_shipment needs at least one (order_item_id, quantity)")
        package: dict[str, Any] = {
            "packageReferenceId": package_reference_id,
            "carrierCode": carrier_code,
            "trackingNumber": tracking_number,
            "shipDate": ship_date.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "orderItems": order_items,
        }
        if carrier_name:
            package["carrierName"] = carrier_name
        if shipping_method:
            package["shippingMethod"] = shipping_method
        payload = {"marketplaceId": marketplace_id, "packageDetail": package}
        self._call(
            "confirmShipment",
            lambda api: OrdersV0Api(api).confirm_shipment_with_http_info(
                order_id, payload, _preload_content=False, _request_timeout=self._timeout()
            ),
            context=order_id,
        )

    # -- Feeds API 2021-06-30 --------------------------------------------------------------------------

    def submit_feed(self, feed_type: str, content: bytes, content_type: str = XML_CONTENT_TYPE) -> str:
        """createFeedDocument, PUT the bytes with the same Content-Type, createFeed; returns the feed id.

        The outbox (bridge.outbox) calls the three steps itself, to save the document id before the feed
        exists."""
        document_id, url = self.create_feed_document(content_type)
        self.upload_feed_document(url, content, content_type)
        return self.create_feed(feed_type, document_id, size=len(content))

    def create_feed_document(self, content_type: str = XML_CONTENT_TYPE) -> tuple[str, str]:
        """createFeedDocument -> (feedDocumentId, presigned upload URL valid for 5 minutes)."""
        doc = self._call(
            "createFeedDocument",
            lambda api: FeedsApi(api).create_feed_document_with_http_info(
                {"contentType": content_type}, _preload_content=False, _request_timeout=self._timeout()
            ),
        ).body
        if not isinstance(doc, dict) or not doc.get("feedDocumentId") or not doc.get("url"):
            raise AmazonDataError(None, "feedDocumentId", "createFeedDocument answered without a document id/url")
        return str(doc["feedDocumentId"]), str(doc["url"])

    def upload_feed_document(self, url: str, content: bytes, content_type: str = XML_CONTENT_TYPE) -> None:
        self._transfer("PUT", url, data=content, headers={"Content-Type": content_type})

    def create_feed(self, feed_type: str, document_id: str, *, size: int | None = None) -> str:
        spec = {"feedType": feed_type, "marketplaceIds": self.marketplace_ids, "inputFeedDocumentId": document_id}
        created = self._call(
            "createFeed",
            lambda api: FeedsApi(api).create_feed_with_http_info(
                spec, _preload_content=False, _request_timeout=self._timeout()
            ),
            idempotent=False,
        ).body
        if not isinstance(created, dict) or not created.get("feedId"):
            raise AmazonDataError(None, "feedId", "createFeed answered without a feed id")
        log.info("feed %s submitted (%s, %s bytes)", created["feedId"], feed_type, size if size is not None else "?")
        return str(created["feedId"])

    def list_feeds(self, feed_types: Sequence[str], *, created_since: datetime) -> list[FeedStatus]:
        """getFeeds of these types created since `created_since`, newest first (every page)."""
        out: list[FeedStatus] = []
        token: str | None = None
        while True:
            query: dict[str, Any] = {"next_token": token} if token else {
                "feed_types": list(feed_types), "marketplace_ids": self.marketplace_ids, "page_size": 100,
                "created_since": _iso(created_since),
            }

            def call(api: Any, query: dict[str, Any] = query) -> Any:
                return FeedsApi(api).get_feeds_with_http_info(
                    _preload_content=False, _request_timeout=self._timeout(), **query)

            body = self._call("getFeeds", call).body or {}
            for feed in body.get("feeds") or []:
                if isinstance(feed, dict) and feed.get("feedId"):
                    out.append(FeedStatus(
                        feed_id=str(feed["feedId"]), feed_type=feed.get("feedType"),
                        processing_status=str(feed.get("processingStatus") or ""),
                        result_feed_document_id=feed.get("resultFeedDocumentId"),
                        created_time=maybe_amazon_datetime(feed.get("createdTime")),
                    ))
            token = body.get("nextToken")
            if not token:
                return out

    def get_feed(self, feed_id: str) -> FeedStatus:
        body = self._call(
            "getFeed",
            lambda api: FeedsApi(api).get_feed_with_http_info(
                feed_id, _preload_content=False, _request_timeout=self._timeout()
            ),
            context=feed_id,
        ).body
        if not isinstance(body, dict) or not body.get("processingStatus"):
            raise AmazonDataError(None, "processingStatus", f"getFeed {feed_id} answered without a status")
        return FeedStatus(
            feed_id=str(body.get("feedId") or feed_id),
            feed_type=body.get("feedType"),
            processing_status=str(body["processingStatus"]),
            result_feed_document_id=body.get("resultFeedDocumentId"),
            created_time=maybe_amazon_datetime(body.get("createdTime")),
            processing_start_time=maybe_amazon_datetime(body.get("processingStartTime")),
            processing_end_time=maybe_amazon_datetime(body.get("processingEndTime")),
        )

    def wait_for_feed(self, feed_id: str, *, poll_seconds: float = 60.0, timeout: float = 3600.0) -> FeedStatus:
        """Poll getFeed until DONE/CANCELLED/FATAL. Times are real-world seconds / rate_scale."""
        waited = 0.0
        while True:
            status = self.get_feed(feed_id)
            if status.done:
                return status
            if waited >= timeout / self.rate_scale:
                raise AmazonServerError(
                    f"feed {feed_id} still {status.processing_status} after {timeout:.0f} s", operation="getFeed"
                )
            step = poll_seconds / self.rate_scale
            self.sleep(step)
            waited += step

    def get_feed_document(self, feed_document_id: str) -> bytes:
        """getFeedDocument, download from its URL, gunzip when `compressionAlgorithm` is GZIP."""
        body = self._call(
            "getFeedDocument",
            lambda api: FeedsApi(api).get_feed_document_with_http_info(
                feed_document_id, _preload_content=False, _request_timeout=self._timeout()
            ),
            context=feed_document_id,
        ).body
        if not isinstance(body, dict) or not body.get("url"):
            raise AmazonDataError(None, "url", f"getFeedDocument {feed_document_id} answered without a URL")
        content = self._transfer("GET", body["url"]).content
        if body.get("compressionAlgorithm") == "GZIP":
            try:
                content = gzip.decompress(content)
            except (OSError, EOFError) as exc:
                raise AmazonDataError(
                    None, "compressionAlgorithm", f"feed document {feed_document_id} is not valid GZIP"
                ) from exc
        return content

    def get_processing_report(self, feed_document_id: str) -> ProcessingReport:
        return parse_processing_report(self.get_feed_document(feed_document_id))

    def _transfer(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """PUT/GET on a presigned document URL (no SP-API auth, no bucket), through `_with_retries`."""
        what = f"document {method}"

        def once() -> _Attempt[requests.Response]:
            try:
                response = self._http.request(method, url, timeout=self._timeout(), **kwargs)
            except requests.RequestException as exc:
                return _Attempt(failure=_caused(AmazonServerError(f"{what} failed: {type(exc).__name__}"), exc),
                                retry=True)
            status = response.status_code
            if status < 300:
                return _Attempt(result=response)
            if status in RETRY_STATUSES:
                return _Attempt(failure=AmazonServerError(f"{what} answered HTTP {status}", status=status), retry=True)
            return _Attempt(failure=AmazonError(f"{what} answered HTTP {status}", status=status))

        return self._with_retries(what, once)


@dataclass(frozen=True)
class _Attempt(Generic[T]):
    """What one attempt gave `_with_retries`: a result, or a failure and whether to try again after back-off;
    `again` repeats at once without counting an attempt (the token was refreshed)."""

    result: T | None = None
    failure: AmazonError | None = None
    retry: bool = False
    again: bool = False

    @property
    def status(self) -> int | None:
        if self.again:
            return 401
        if self.failure is not None:
            return self.failure.status
        return getattr(self.result, "status", None)


def _caused(error: AmazonError, cause: BaseException) -> AmazonError:
    """`error` with `cause` kept as its cause, as `raise error from cause` would (it is raised later)."""
    error.__cause__ = cause
    return error


def _api_error(what: str, status: int, exc: ApiException, *, attempts: int, operation: str,
               request_id: str | None) -> AmazonError:
    """Amazon's error answer as the bridge's typed error; `.transient` says whether retrying may help."""
    errors = _error_list(exc.body)
    summary = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or (exc.reason or "")
    kwargs: dict[str, Any] = {"status": status, "operation": operation, "errors": errors, "request_id": request_id}
    error: AmazonError
    if status in (401, 403):
        error = AmazonAuthError(f"{what}: Amazon refused access ({status}): {summary}", **kwargs)
    elif status == 400:
        error = AmazonInvalidInput(f"{what}: Amazon rejected the request: {summary}", **kwargs)
    elif status == 404:
        error = AmazonNotFound(f"{what}: not found: {summary}", **kwargs)
    elif status == 429:
        error = AmazonThrottled(f"{what}: throttled by Amazon (429) {attempts} times", **kwargs)
    elif status in RETRY_STATUSES or status == 0:
        error = AmazonServerError(f"{what}: Amazon answered {status or exc.reason}: {summary}", **kwargs)
    else:
        error = AmazonError(f"{what}: unexpected HTTP {status}: {summary}", **kwargs)
    return _caused(error, exc)


def _connection_lost(what: str, operation: str, exc: BaseException, *, idempotent: bool) -> _Attempt[_Response]:
    """No answer: retried, unless the request went out and repeating it is not safe."""
    unsent = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
    if not idempotent and not isinstance(exc, unsent):
        return _Attempt(failure=_caused(AmazonServerError(
            f"{what}: connection lost after the request was sent ({type(exc).__name__}); not retried "
            "because the operation is not idempotent",
            operation=operation,
        ), exc))
    failure = AmazonServerError(f"{what}: connection failed: {type(exc).__name__}", operation=operation)
    return _Attempt(failure=_caused(failure, exc), retry=True)


def _certifi_where() -> str:
    import certifi

    return certifi.where()


def _error_list(body: Any) -> list[dict[str, Any]]:
    """Amazon's `{"errors": [{code, message, details}]}` from an error body, or []."""
    try:
        data = _loads(body)
    except (ValueError, TypeError):
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
