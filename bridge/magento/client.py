"""The bridge's Magento 2 REST client (integration auth, store-scoped URLs, safe retries).

Why it looks like this:
- Auth is an integration: OAuth 1.0a HMAC-SHA256 by default (works on every 2.4.x), or the access token
  as a Bearer token where the store has *Allow OAuth Access Tokens to be used as standalone Bearer tokens*.
- Retries live in one place (`should_retry`, bounded by a `bridge.retry.RetryPolicy`). Reads are retried on
  connection errors, timeouts, 5xx and 429.
  Writes are retried only when Magento certainly never processed them (no connection was made, or a 429);
  otherwise they raise with `request_sent=True`, because a lost response after `PUT /V1/orders/create` may
  mean the order *was* saved: the importer then looks it up by `ext_order_id` instead of creating it twice.
- Nothing secret or personal is logged: requests are logged at DEBUG as method + path, without the query
  string (which can hold an e-mail) or bodies.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests
from requests_oauthlib import OAuth1
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from bridge import metrics
from bridge.config import MagentoSettings
from bridge.magento.cache import ReferenceCache
from bridge.magento.errors import (
    MagentoConnectionError,
    MagentoError,
    MagentoHTTPError,
    MagentoInvalidRequest,
    MagentoNotFound,
    MagentoTimeout,
    MagentoTransportError,
    StockNotAssigned,
    StoreViewMissing,
    error_from_response,
)
from bridge.magento.models import (
    Country,
    CustomerRef,
    MagentoOrderRef,
    Product,
    SourceItem,
    StoreView,
    Track,
    json_number,
    to_decimal,
)
from bridge.magento.search import SearchCriteria, SearchResult, chunked
from bridge.retry import MAGENTO_RETRY, RetryPolicy

log = logging.getLogger(__name__)

USER_AGENT = "amazon-bridge/0.1 (+magento-rest)"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ORDER_REF_FIELDS = "items[entity_id,increment_id,ext_order_id,state,status],total_count"


class MagentoProtocolError(MagentoTransportError):
    """Magento answered 2xx but the body was not the JSON we expected (the request was processed)."""


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return json_number(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, default=_json_default, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def should_retry(policy: RetryPolicy, method: str, attempt: int, error: MagentoError) -> bool:
    """Reads: connection errors, timeouts and the policy's `retry_statuses`. Writes: only failures that prove
    Magento never processed the request (`request_sent` False, or a status in `write_retry_statuses`)."""
    if not policy.may_retry(attempt):
        return False
    safe = method.upper() in SAFE_METHODS
    if isinstance(error, MagentoProtocolError):
        return safe
    if isinstance(error, MagentoTransportError):
        return safe or not error.request_sent
    if isinstance(error, MagentoHTTPError):
        return error.status in (policy.retry_statuses if safe else policy.write_retry_statuses)
    return False


def _connect_failed(exc: BaseException) -> bool:
    """True when the TCP connection was never established, so the server cannot have seen the request."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectTimeoutError | requests.exceptions.ConnectTimeout):
            return True
        if isinstance(current, ConnectionRefusedError):
            return True
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        stack.append(getattr(current, "reason", None))
        stack.append(current.__cause__)
        stack.append(current.__context__)
    return False


@dataclass
class _Remembered:
    """Reference data one client asks for once in its lifetime (the shared `ReferenceCache` outlives it)."""

    websites: list[dict[str, Any]] | None = None
    stock_id: int | None = None
    store_configs: list[dict[str, Any]] | None = None
    store_views: list[StoreView] | None = None
    gift_messages_allowed: dict[str, bool] = field(default_factory=dict)  # by store view code
    countries: dict[str, Country] = field(default_factory=dict)  # by upper-case country id
    all_countries: list[Country] | None = None
    store_code_known: bool | None = None  # whether Magento has this client's store view


class MagentoClient:
    """Magento REST calls the bridge makes, with typed results.

    `store_code` scopes every URL: None → `/rest/V1` (default store view), `"all"` → `/rest/all/V1` (admin
    scope), else `/rest/<code>/V1`.
    """

    def __init__(
        self,
        settings: MagentoSettings,
        *,
        store_code: str | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        reference_cache: ReferenceCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.reference_cache = reference_cache
        self.store_code = store_code
        self.session = session or requests.Session()
        self.retry = retry or MAGENTO_RETRY
        self.timeout = (min(10.0, settings.timeout_seconds), settings.timeout_seconds)
        self.calls: Counter[str] = Counter()  # "GET /V1/orders" -> count, for measuring calls per order
        self._auth: OAuth1 | None = None
        self._headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if settings.auth_mode == "bearer":
            self._headers["Authorization"] = f"Bearer {settings.access_token}"
        elif settings.auth_mode == "oauth":
            self._auth = OAuth1(
                settings.consumer_key,
                settings.consumer_secret,
                settings.access_token,
                settings.access_token_secret,
                signature_method="HMAC-SHA256",
            )
        else:
            raise ValueError(f"unknown Magento auth mode {settings.auth_mode!r}")
        self._remembered = _Remembered()
        self._msi: bool | None = None  # None: unknown yet; False: MSI routes missing, use legacy stock

    def __repr__(self) -> str:
        return (
            f"MagentoClient({self.settings.base_url!r}, store_code={self.store_code!r}, auth={self.settings.auth_mode})"
        )

    def for_store(self, store_code: str | None) -> MagentoClient:
        """The same connection, scoped to another store view."""
        return MagentoClient(self.settings, store_code=store_code, session=self.session, retry=self.retry,
                             reference_cache=self.reference_cache, sleep=self.sleep)

    @property
    def call_count(self) -> int:
        return sum(self.calls.values())

    # ----------------------------------------------------------------------------------------------------
    # transport

    def url(self, path: str) -> str:
        scope = f"/rest/{self.store_code}" if self.store_code else "/rest"
        return f"{self.settings.base_url.rstrip('/')}{scope}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
        body: Any = None,
        counter_key: str | None = None,
    ) -> Any:
        """One logical call (with the policy's retries); returns the decoded JSON answer."""
        method = method.upper()
        data = dumps(body) if body is not None else None
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        url = self.url(path)
        key = f"{method} {counter_key or path}"
        attempt = 0
        while True:
            attempt += 1
            self.calls[key] += 1
            started = time.monotonic()
            try:
                response = self.session.request(
                    method, url, params=params, data=data, headers=headers, auth=self._auth, timeout=self.timeout
                )
            except requests.exceptions.RequestException as exc:
                metrics.magento_call(key, None)
                error = self._transport_error(exc, method, path)
                log.debug("magento %s %s failed after %.3fs: %s", method, path, time.monotonic() - started, error)
                if should_retry(self.retry, method, attempt, error):
                    self._wait(method, path, attempt, None, error)
                    continue
                raise error from exc
            log.debug("magento %s %s -> %s in %.3fs", method, path, response.status_code, time.monotonic() - started)
            metrics.magento_call(key, response.status_code)
            if response.status_code >= 400:
                http_error = error_from_response(
                    response.status_code, response.text, dict(response.headers), method=method, path=path
                )
                if http_error.is_no_route:
                    self._check_store_code(http_error)
                if should_retry(self.retry, method, attempt, http_error):
                    self._wait(method, path, attempt, response.headers.get("Retry-After"), http_error)
                    continue
                raise http_error
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                proto = MagentoProtocolError(
                    f"HTTP {response.status_code} ({method} {path}): the answer is not JSON",
                    request_sent=True,
                    method=method,
                    path=path,
                )
                if should_retry(self.retry, method, attempt, proto):
                    self._wait(method, path, attempt, None, proto)
                    continue
                raise proto from exc

    def _check_store_code(self, error: MagentoHTTPError) -> None:
        """Magento reads `/rest/<code>/V1/...` with an unknown store code as part of the path, so a missing
        store view shows up as "no route" on every call: say what it is (`StoreViewMissing`)."""
        if self.store_code in (None, "all"):
            return
        if self._remembered.store_code_known is None:
            codes = {view.code for view in self.for_store(None).store_views()}
            self._remembered.store_code_known = self.store_code in codes
        if not self._remembered.store_code_known:
            raise StoreViewMissing(self.store_code) from error

    def _wait(self, method: str, path: str, attempt: int, retry_after: str | None, error: MagentoError) -> None:
        delay = self.retry.backoff(attempt, retry_after=retry_after)
        log.warning("magento %s %s: %s; retry %d in %.1fs", method, path, error, attempt, delay)
        if delay > 0:
            self.sleep(delay)

    @staticmethod
    def _transport_error(exc: requests.exceptions.RequestException, method: str, path: str) -> MagentoTransportError:
        sent = not _connect_failed(exc)
        what = "read timed out" if sent else "could not connect"
        if isinstance(exc, requests.exceptions.Timeout):
            return MagentoTimeout(f"{method} {path}: {what}", request_sent=sent, method=method, path=path)
        if sent:
            what = "connection lost before an answer"
        return MagentoConnectionError(f"{method} {path}: {what}", request_sent=sent, method=method, path=path)

    def get(self, path: str, params: Any = None, *, counter_key: str | None = None) -> Any:
        return self.request("GET", path, params=params, counter_key=counter_key)

    def post(self, path: str, body: Any = None, *, counter_key: str | None = None) -> Any:
        return self.request("POST", path, body=body if body is not None else {}, counter_key=counter_key)

    def _get_object(self, path: str, *, counter_key: str | None = None) -> dict[str, Any]:
        """GET of one JSON object (an order, a stock item); any other answer is Magento breaking its contract."""
        data = self.get(path, counter_key=counter_key)
        if not isinstance(data, dict):
            raise MagentoProtocolError(f"GET {path}: the answer is not a JSON object", request_sent=True,
                                       method="GET", path=path)
        return data

    def put(self, path: str, body: Any = None, *, counter_key: str | None = None) -> Any:
        return self.request("PUT", path, body=body if body is not None else {}, counter_key=counter_key)

    # ----------------------------------------------------------------------------------------------------
    # searching

    def search(
        self, path: str, criteria: SearchCriteria, *, fields: str | None = None, counter_key: str | None = None
    ) -> SearchResult:
        params = criteria.to_params()
        if fields:
            params.append(("fields", fields))
        data = self.get(path, params, counter_key=counter_key) or {}
        items = data.get("items") or []
        total = data.get("total_count")
        return SearchResult(
            items=list(items),
            total_count=int(total) if total is not None else len(items),
            search_criteria=data.get("search_criteria") or {},
        )

    def search_all(
        self, path: str, criteria: SearchCriteria, *, page_size: int = 100, fields: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item over all pages. Stops on a short page too, because Magento answers a page past the
        end with the last page again."""
        size = criteria.page_size or page_size
        page = 1
        seen = 0
        while True:
            result = self.search(path, criteria.page(size, page), fields=fields)
            yield from result.items
            seen += len(result.items)
            if not result.items or seen >= result.total_count or len(result.items) < size:
                return
            page += 1

    # ----------------------------------------------------------------------------------------------------
    # orders

    def search_orders(self, criteria: SearchCriteria) -> SearchResult:
        return self.search("V1/orders", criteria)

    def find_orders_by_ext_order_ids(self, ids: Iterable[str], *, batch_size: int = 100) -> dict[str, MagentoOrderRef]:
        """The oldest Commerce order per `ext_order_id` in `ids` (see `find_all_orders_by_ext_order_ids`)."""
        return {ext: refs[0] for ext, refs in self.find_all_orders_by_ext_order_ids(ids, batch_size=batch_size).items()}

    def find_all_orders_by_ext_order_ids(
        self, ids: Iterable[str], *, batch_size: int = 100
    ) -> dict[str, list[MagentoOrderRef]]:
        """Every Commerce order whose `ext_order_id` is one of `ids`, oldest first: one `in` search per batch.

        More than one for an Amazon id is a duplicate (what this bridge exists to prevent); the importer settles
        it (`bridge.importer.duplicates`), so it is returned, not hidden.
        """
        wanted = list(dict.fromkeys(i for i in ids if i))
        found: dict[str, list[MagentoOrderRef]] = {}
        for batch in chunked(wanted, batch_size):
            criteria = SearchCriteria().where("ext_order_id", list(batch), "in").sort("entity_id", "ASC")
            for item in self.search_all("V1/orders", criteria.page(batch_size), fields=ORDER_REF_FIELDS):
                ref = MagentoOrderRef.from_json(item)
                if ref.ext_order_id is None or ref.ext_order_id not in batch:
                    continue
                found.setdefault(ref.ext_order_id, []).append(ref)
        for refs in found.values():
            refs.sort(key=lambda r: r.entity_id)
        return found

    def get_order(self, entity_id: int) -> dict[str, Any]:
        return self._get_object(f"V1/orders/{int(entity_id)}", counter_key="V1/orders/{id}")

    def create_order(self, payload: dict[str, Any]) -> MagentoOrderRef:
        """`PUT /V1/orders/create` with `{"entity": {...}}` (see `bridge.importer.order_builder`)."""
        if "entity" not in payload:
            payload = {"entity": payload}
        data = self.put("V1/orders/create", payload)
        if not isinstance(data, dict) or "entity_id" not in data:
            raise MagentoProtocolError(
                "PUT V1/orders/create: the answer has no entity_id",
                request_sent=True,
                method="PUT",
                path="V1/orders/create",
            )
        return MagentoOrderRef.from_json(data)

    def update_order(self, entity_id: int, fields: Mapping[str, Any]) -> MagentoOrderRef:
        """Partial update (`POST /V1/orders` with the entity_id): only the given columns change."""
        body = {"entity": {**dict(fields), "entity_id": int(entity_id)}}
        return MagentoOrderRef.from_json(self.post("V1/orders", body))

    def add_comment(
        self,
        order_id: int,
        comment: str,
        *,
        status: str,
        notify: bool = False,
        visible_on_front: bool = False,
    ) -> bool:
        """Add to the order's history. `status` is required: a comment without one nulls the order's status
        on many 2.4.x releases (magento/magento2#34180)."""
        if not status:
            raise ValueError("add_comment needs the order status (magento/magento2#34180)")
        body = {
            "statusHistory": {
                "comment": comment,
                "is_customer_notified": int(notify),
                "is_visible_on_front": int(visible_on_front),
                "status": status,
                "parent_id": int(order_id),
            }
        }
        return bool(self.post(f"V1/orders/{int(order_id)}/comments", body, counter_key="V1/orders/{id}/comments"))

    def invoice(
        self,
        order_id: int,
        *,
        capture: bool = False,
        items: Mapping[int, Decimal | int] | None = None,
        comment: str | None = None,
        notify: bool = False,
    ) -> int:
        """Invoice (offline unless `capture`); without `items` Magento invoices everything left."""
        body: dict[str, Any] = {"capture": capture, "notify": notify, "appendComment": bool(comment)}
        if items:
            body["items"] = _qty_items(items)
        if comment:
            body["comment"] = {"comment": comment, "is_visible_on_front": 0}
        return int(self.post(f"V1/order/{int(order_id)}/invoice", body, counter_key="V1/order/{id}/invoice"))

    def ship(
        self,
        order_id: int,
        items: Mapping[int, Decimal | int] | None = None,
        tracks: Sequence[Track | Mapping[str, Any]] = (),
        *,
        comment: str | None = None,
        notify: bool = False,
    ) -> int:
        """Create a shipment (all remaining items when `items` is empty) with its tracking numbers."""
        body: dict[str, Any] = {
            "notify": notify,
            "appendComment": bool(comment),
            "tracks": [t.to_json() if isinstance(t, Track) else dict(t) for t in tracks],
        }
        if items:
            body["items"] = _qty_items(items)
        if comment:
            body["comment"] = {"comment": comment, "is_visible_on_front": 0}
        return int(self.post(f"V1/order/{int(order_id)}/ship", body, counter_key="V1/order/{id}/ship"))

    def refund_order(
        self,
        order_id: int,
        *,
        items: Mapping[int, Decimal | int] | None = None,
        comment: str | None = None,
        notify: bool = False,
        shipping_amount: Decimal | None = None,
        adjustment_positive: Decimal | None = None,
        adjustment_negative: Decimal | None = None,
        return_to_stock_items: Sequence[int] | None = None,
    ) -> int:
        """Offline credit memo for an invoiced order; returns the credit memo id."""
        body: dict[str, Any] = {"notify": notify, "appendComment": bool(comment)}
        if items:
            body["items"] = _qty_items(items)
        if comment:
            body["comment"] = {"comment": comment, "is_visible_on_front": 0}
        arguments: dict[str, Any] = {}
        for key, value in (
            ("shipping_amount", shipping_amount),
            ("adjustment_positive", adjustment_positive),
            ("adjustment_negative", adjustment_negative),
        ):
            if value is not None:
                arguments[key] = value
        if return_to_stock_items:
            arguments["extension_attributes"] = {"return_to_stock_items": [int(i) for i in return_to_stock_items]}
        if arguments:
            body["arguments"] = arguments
        return int(self.post(f"V1/order/{int(order_id)}/refund", body, counter_key="V1/order/{id}/refund"))

    def cancel(self, order_id: int) -> bool:
        """False means Magento refused (nothing left to invoice, on hold...): a business answer, not an error."""
        return self.post(f"V1/orders/{int(order_id)}/cancel", counter_key="V1/orders/{id}/cancel") is True

    def hold(self, order_id: int) -> bool:
        return self.post(f"V1/orders/{int(order_id)}/hold", counter_key="V1/orders/{id}/hold") is True

    def unhold(self, order_id: int) -> bool:
        return self.post(f"V1/orders/{int(order_id)}/unhold", counter_key="V1/orders/{id}/unhold") is True

    def _list_for_order(self, path: str, order_id: int) -> list[dict[str, Any]]:
        criteria = SearchCriteria().where("order_id", int(order_id)).sort("entity_id", "ASC")
        return list(self.search_all(path, criteria))

    def list_invoices(self, order_id: int) -> list[dict[str, Any]]:
        return self._list_for_order("V1/invoices", order_id)

    def list_shipments(self, order_id: int) -> list[dict[str, Any]]:
        return self._list_for_order("V1/shipments", order_id)

    def list_creditmemos(self, order_id: int) -> list[dict[str, Any]]:
        return self._list_for_order("V1/creditmemos", order_id)

    # ----------------------------------------------------------------------------------------------------
    # catalog and stock

    def get_product(self, sku: str) -> Product:
        return Product.from_json(self.get(f"V1/products/{_seg(sku)}", counter_key="V1/products/{sku}"))

    def products_by_skus(self, skus: Iterable[str], *, batch_size: int = 50) -> dict[str, Product]:
        """Products for the SKUs that exist, keyed by the SKU as asked (Magento matches SKUs case-insensitively).

        Products another job looked up a moment ago come from the shared cache (`PRODUCT_TTL_SECONDS`): the
        sync looks up every product of a batch of orders at once, so the imports that follow ask nothing.
        The rest: one `sku in (...)` search per batch; a SKU containing a comma cannot go in an `in` list and
        is fetched on its own.
        """
        wanted = list(dict.fromkeys(s for s in skus if s))
        found: dict[str, Product] = {}
        cache = self.reference_cache
        if cache is not None:
            for sku, data in zip(wanted, cache.get_many([_product_key(s) for s in wanted]), strict=True):
                if data is not None:
                    found[sku] = Product.from_json(data)
        missing = [s for s in wanted if s not in found]
        if missing:
            fetched = self._search_products(missing, batch_size)
            found.update(fetched)
            if cache is not None:
                cache.set_many({_product_key(sku): _product_fields(p.raw) for sku, p in fetched.items()},
                               ttl_seconds=PRODUCT_TTL_SECONDS)
        return found

    def _search_products(self, wanted: list[str], batch_size: int) -> dict[str, Product]:
        listable = [s for s in wanted if "," not in s]
        by_fold: dict[str, list[str]] = {}
        for sku in wanted:
            by_fold.setdefault(sku.casefold(), []).append(sku)
        found: dict[str, Product] = {}
        for batch in chunked(listable, batch_size):
            criteria = SearchCriteria().where("sku", list(batch), "in")
            for item in self.search_all("V1/products", criteria.page(batch_size)):
                product = Product.from_json(item)
                for asked in by_fold.get(product.sku.casefold(), ()):
                    found.setdefault(asked, product)
        for sku in wanted:
            if "," in sku:
                with contextlib.suppress(MagentoNotFound):
                    found[sku] = self.get_product(sku)
        return found

    def _msi_call(self, path: str, counter_key: str) -> tuple[bool, Any]:
        """(True, answer) from an MSI route, or (False, None) when this Magento has no MSI routes."""
        if self._msi is False:
            return False, None
        try:
            answer = self.get(path, counter_key=counter_key)
        except MagentoNotFound as exc:
            if exc.is_no_route:
                log.info("Magento has no MSI web API; using legacy CatalogInventory stock")
                self._msi = False
                return False, None
            raise
        self._msi = True
        return True, answer

    def stock_id_for_website(self, website_code: str) -> int:
        """MSI stock of a website (1, the default stock, without MSI); StockNotAssigned when none is linked."""
        try:
            ok, answer = self._msi_call(
                f"V1/inventory/stock-resolver/website/{_seg(website_code)}",
                "V1/inventory/stock-resolver/website/{code}",
            )
        except MagentoNotFound as exc:  # NoSuchEntityException "No linked stock found"
            raise StockNotAssigned(website_code) from exc
        if not ok:
            return 1
        return int(answer["stock_id"])

    def legacy_stock_item(self, sku: str) -> dict[str, Any]:
        return self._get_object(f"V1/stockItems/{_seg(sku)}", counter_key="V1/stockItems/{sku}")

    def salable_qty(self, sku: str, stock_id: int = 1) -> Decimal:
        ok, answer = self._msi_call(
            f"V1/inventory/get-product-salable-quantity/{_seg(sku)}/{int(stock_id)}",
            "V1/inventory/get-product-salable-quantity/{sku}/{stockId}",
        )
        if ok:
            return to_decimal(answer) or Decimal(0)
        item = self.legacy_stock_item(sku)
        qty = to_decimal(item.get("qty")) or Decimal(0)
        min_qty = to_decimal(item.get("min_qty")) or Decimal(0)
        return max(qty - min_qty, Decimal(0)) if item.get("is_in_stock", True) else Decimal(0)

    def is_salable_for_qty(self, sku: str, qty: Decimal | int, stock_id: int = 1) -> bool:
        ok, answer = self._msi_call(
            f"V1/inventory/is-product-salable-for-requested-qty/{_seg(sku)}/{int(stock_id)}/{_qty(qty)}",
            "V1/inventory/is-product-salable-for-requested-qty/{sku}/{stockId}/{qty}",
        )
        if ok:
            if isinstance(answer, dict):
                return bool(answer.get("salable"))
            return bool(answer)
        item = self.legacy_stock_item(sku)
        if not item.get("manage_stock", True):
            return True
        if not item.get("is_in_stock", False):
            return False
        if int(item.get("backorders") or 0) > 0:
            return True
        available = (to_decimal(item.get("qty")) or Decimal(0)) - (to_decimal(item.get("min_qty")) or Decimal(0))
        return available >= Decimal(qty)

    def are_salable_for_qty(
        self, requested: Mapping[str, Decimal | int], stock_id: int | None = None
    ) -> dict[str, bool]:
        """{sku: salable} for every SKU with its quantity, in one call (MSI's
        `are-product-salable-for-requested-qty`). Magento checks each SKU as the single route does and fails
        the whole call on one it refuses (an unknown product), so then, and without MSI, the SKUs are asked
        one by one (`is_salable`: unknown counts as not salable)."""
        wanted = {sku: qty for sku, qty in requested.items() if sku}
        if not wanted:
            return {}
        stock = self.default_stock_id() if stock_id is None else stock_id
        if self._msi is not False:
            params: list[tuple[str, str]] = []
            for i, (sku, qty) in enumerate(wanted.items()):
                params += [(f"skuRequests[{i}][sku]", sku), (f"skuRequests[{i}][qty]", _qty(qty))]
            params.append(("stockId", str(int(stock))))
            try:
                answer = self.get("V1/inventory/are-product-salable-for-requested-qty", params)
            except MagentoNotFound as exc:
                if not exc.is_no_route:
                    return {sku: self.is_salable(sku, qty, stock) for sku, qty in wanted.items()}
                log.info("Magento has no MSI web API; using legacy CatalogInventory stock")
                self._msi = False
            except MagentoInvalidRequest as exc:
                log.info("magento: batch salability refused (%s); asking SKU by SKU", exc)
                return {sku: self.is_salable(sku, qty, stock) for sku, qty in wanted.items()}
            else:
                self._msi = True
                by_fold = {str(r.get("sku", "")).casefold(): bool(r.get("salable")) for r in answer or []
                           if isinstance(r, dict)}
                return {sku: by_fold.get(sku.casefold(), False) for sku in wanted}
        return {sku: self.is_salable(sku, qty, stock) for sku, qty in wanted.items()}

    def websites(self) -> list[dict[str, Any]]:
        if self._remembered.websites is None:
            self._remembered.websites = list(self._reference("V1/store/websites") or [])
        return self._remembered.websites

    def default_stock_id(self) -> int:
        """The MSI stock of this client's store view's website (cached; 1 without MSI)."""
        if self._remembered.stock_id is None:
            views = self.store_views()
            view = next((v for v in views if v.code == self.store_code), None) if self.store_code else None
            view = view or next((v for v in views if v.id != 0), None)
            website = next((w for w in self.websites() if view and int(w["id"]) == view.website_id), None)
            key = f"stock_id:{self.store_code or ''}"
            shared = self.reference_cache.get(key) if self.reference_cache else None
            if shared is None:
                shared = self.stock_id_for_website(website["code"]) if website else 1
                if self.reference_cache:
                    self.reference_cache.set(key, shared)
            self._remembered.stock_id = int(shared)
        return self._remembered.stock_id

    def is_salable(self, sku: str, qty: Decimal | int, stock_id: int | None = None) -> bool:
        """Can `qty` of `sku` be sold from the store view's stock (MSI, else legacy stock item)?"""
        try:
            return self.is_salable_for_qty(sku, qty, self.default_stock_id() if stock_id is None else stock_id)
        except (MagentoNotFound, MagentoInvalidRequest) as exc:
            # Unknown SKU, no source items, product not in the stock: Magento's answer is "not salable".
            if isinstance(exc, MagentoNotFound) and exc.is_no_route:
                raise
            log.warning("magento: %s counts as not salable: %s", sku, exc)
            return False

    def source_items(self, sku: str) -> list[SourceItem]:
        criteria = SearchCriteria().where("sku", sku)
        return [SourceItem.from_json(i) for i in self.search_all("V1/inventory/source-items", criteria)]

    def save_source_items(self, items: Sequence[SourceItem]) -> None:
        body = {
            "sourceItems": [
                {"sku": i.sku, "source_code": i.source_code, "quantity": i.quantity, "status": i.status} for i in items
            ]
        }
        self.post("V1/inventory/source-items", body)

    def source_quantity(self, sku: str, source_code: str = "default") -> Decimal:
        """The quantity of one source item (MSI), or of the legacy stock item where MSI is absent."""
        if self._msi is not False:
            try:
                current = [s for s in self.source_items(sku) if s.source_code == source_code]
            except MagentoNotFound as exc:
                if not exc.is_no_route:
                    raise
                self._msi = False
            else:
                self._msi = True
                if not current:
                    raise MagentoInvalidRequest(
                        400, f'Product "{sku}" is not assigned to source "{source_code}".', method="GET",
                        path="V1/inventory/source-items",
                    )
                return current[0].quantity
        return to_decimal(self.legacy_stock_item(sku).get("qty")) or Decimal(0)

    def set_source_quantity(self, sku: str, qty: Decimal, source_code: str = "default") -> None:
        """Write an absolute quantity (so repeating the same write changes nothing); in stock while above 0."""
        if self._msi is None:
            self.source_quantity(sku, source_code)
        if self._msi:
            self.save_source_items([SourceItem(sku, source_code, qty, 1 if qty > 0 else 0)])
            return
        stock = self.legacy_stock_item(sku)
        self.put(
            f"V1/products/{_seg(sku)}/stockItems/{int(stock['item_id'])}",
            {"stockItem": {"qty": qty, "is_in_stock": qty > 0}},
            counter_key="V1/products/{sku}/stockItems/{id}",
        )

    def decrement_source_quantity(self, sku: str, qty: Decimal | int, *, source_code: str = "default") -> Decimal:
        """Subtract `qty` from a source item (legacy stock item without MSI); returns the new quantity.

        A read then an absolute write: Magento has no atomic decrement over REST, so concurrent callers must
        serialize per source item and record what they applied (bridge.stock's ledger does both).
        """
        new_qty = self.source_quantity(sku, source_code) - Decimal(qty)
        self.set_source_quantity(sku, new_qty, source_code)
        return new_qty

    # ----------------------------------------------------------------------------------------------------
    # stores, directory, customers

    def _reference(self, path: str, *, counter_key: str | None = None) -> Any:
        """GET of reference data through the shared cache (when one is configured)."""
        if self.reference_cache is None:
            return self.get(path, counter_key=counter_key)
        cached = self.reference_cache.get(path)
        if cached is None:
            cached = self.get(path, counter_key=counter_key)
            self.reference_cache.set(path, cached)
        return cached

    def store_configs(self) -> list[dict[str, Any]]:
        if self._remembered.store_configs is None:
            self._remembered.store_configs = list(self._reference("V1/store/storeConfigs") or [])
        return self._remembered.store_configs

    def store_views(self) -> list[StoreView]:
        """Store views joined with their configs (currencies, locale); fetched once per client."""
        if self._remembered.store_views is None:
            views = list(self._reference("V1/store/storeViews") or [])
            configs = {int(c["id"]): c for c in self.store_configs()}
            out = []
            for view in views:
                config = configs.get(int(view["id"]), {})
                base = config.get("base_currency_code") or ""
                out.append(
                    StoreView(
                        id=int(view["id"]),
                        code=str(view["code"]),
                        website_id=int(view.get("website_id") or config.get("website_id") or 0),
                        base_currency=base,
                        default_display_currency=config.get("default_display_currency_code") or base,
                        name=str(view.get("name") or ""),
                        store_group_id=view.get("store_group_id"),
                        is_active=bool(view.get("is_active", 1)),
                        locale=config.get("locale"),
                        timezone=config.get("timezone"),
                        weight_unit=config.get("weight_unit"),
                    )
                )
            self._remembered.store_views = out
        return self._remembered.store_views

    def store_view(self, code: str) -> StoreView:
        for view in self.store_views():
            if view.code == code:
                return view
        raise StoreViewMissing(code)

    def gift_messages_allowed(self, store_code: str) -> bool:
        """Whether the store view allows gift messages on orders (*Allow Gift Messages on Order Level*).

        Magento's REST API does not expose this setting; its GraphQL `storeConfig { allow_order }` does
        (Magento_GiftMessageGraphQl, 2.4.7+, anonymous). Any failure (older Magento, GraphQL off, no answer)
        reads as "not allowed", so the gift message goes into the order comment instead: never lost, and a
        refused gift message can't fail an order create. Asked once per store view and cache lifetime (shared
        by all workers), so gift orders cost no call of their own.
        """
        key = f"gift_messages_allowed:{store_code}"
        remembered = self._remembered.gift_messages_allowed
        if store_code not in remembered and self.reference_cache is not None:
            shared = self.reference_cache.get(key)
            if shared is not None:
                remembered[store_code] = bool(shared)
        if store_code not in remembered:
            self.calls["POST graphql storeConfig"] += 1
            allowed = answered = False
            try:
                response = self.session.post(
                    f"{self.settings.base_url.rstrip('/')}/graphql",
                    data=dumps({"query": "{ storeConfig { allow_order } }"}),
                    headers={**self._headers, "Content-Type": "application/json", "Store": store_code},
                    timeout=self.timeout,
                )
                answered = response.status_code < 500  # an outage is not this Magento's answer: not shared
                answer = response.json() if response.status_code == 200 else {}
                config = ((answer or {}).get("data") or {}).get("storeConfig") or {}
                allowed = str(config.get("allow_order") or "0") == "1" and not answer.get("errors")
            except (requests.exceptions.RequestException, ValueError, AttributeError):
                allowed = answered = False
            remembered[store_code] = allowed
            if answered and self.reference_cache is not None:
                self.reference_cache.set(key, allowed)
        return remembered[store_code]

    def country(self, country_id: str) -> Country:
        key = country_id.upper()
        if key not in self._remembered.countries:
            data = self._reference(f"V1/directory/countries/{_seg(key)}", counter_key="V1/directory/countries/{id}")
            self._remembered.countries[key] = Country.from_json(data)
        return self._remembered.countries[key]

    def countries(self) -> list[Country]:
        """All countries with their regions, in one call (cached)."""
        if self._remembered.all_countries is None:
            data = self._reference("V1/directory/countries") or []
            countries = [Country.from_json(c) for c in data]
            for c in countries:
                self._remembered.countries[c.id.upper()] = c
            self._remembered.all_countries = countries
        return self._remembered.all_countries

    def find_customers_by_email(self, email: str, *, website_id: int | None = None) -> list[CustomerRef]:
        criteria = SearchCriteria().where("email", email)
        if website_id is not None:
            criteria = criteria.where("website_id", int(website_id))
        return [CustomerRef.from_json(c) for c in self.search_all("V1/customers/search", criteria)]

    def create_customer(
        self,
        *,
        email: str,
        firstname: str,
        lastname: str,
        website_id: int,
        store_id: int | None = None,
        group_id: int | None = None,
        addresses: Sequence[Mapping[str, Any]] = (),
    ) -> CustomerRef:
        customer: dict[str, Any] = {
            "email": email,
            "firstname": firstname,
            "lastname": lastname,
            "website_id": int(website_id),
        }
        if store_id is not None:
            customer["store_id"] = int(store_id)
        if group_id is not None:
            customer["group_id"] = int(group_id)
        if addresses:
            customer["addresses"] = [dict(a) for a in addresses]
        return CustomerRef.from_json(self.post("V1/customers", {"customer": customer}))


PRODUCT_TTL_SECONDS = 600  # about one sync's imports: a product's id, type and status rarely change meanwhile
_PRODUCT_FIELDS = ("id", "sku", "name", "status", "type_id", "price", "visibility", "weight")


def _product_key(sku: str) -> str:
    return "product:" + sku.casefold()


def _product_fields(data: dict[str, Any]) -> dict[str, Any]:
    """What `Product.from_json` reads, without the media, custom attributes and links a product carries."""
    ext = data.get("extension_attributes") or {}
    out = {k: data.get(k) for k in _PRODUCT_FIELDS}
    stock = ext.get("stock_item") or {}
    out["extension_attributes"] = {
        "website_ids": ext.get("website_ids") or [],
        "stock_item": {k: stock[k] for k in ("is_in_stock", "qty") if k in stock},
    }
    return out


def _seg(value: str) -> str:
    """One URL path segment, fully encoded (SKUs may hold '/', '#', '?', spaces)."""
    return quote(str(value), safe="")


def _qty(value: Decimal | int) -> str:
    dec = Decimal(value)
    return str(int(dec)) if dec == dec.to_integral_value() else str(dec)


def _qty_items(items: Mapping[int, Decimal | int]) -> list[dict[str, Any]]:
    return [{"order_item_id": int(item_id), "qty": qty} for item_id, qty in items.items()]
