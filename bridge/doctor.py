"""`amazon-bridge doctor`: every setting and grant the bridge depends on, checked with harmless calls.

One `Check` per line: ok, or what is wrong and how to fix it. Writes are probed with an empty body: Magento
checks the integration's ACL before it reads the body, so a missing grant answers 401 naming the resource
and a granted one answers 400 (nothing is created).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bridge.config import ConfigError, Settings, load_settings, missing_magento_credentials
from bridge.explain import explain, host_of, require_schema, safe_database_url

if TYPE_CHECKING:
    from bridge.runtime import Runtime
    from bridge.storage.models import Store


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # "ok ..." or what is wrong and how to fix it

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


@dataclass(frozen=True)
class AclProbe:
    resource: str
    method: str
    path: str
    why: str


# Every ACL resource the bridge uses, with a call that proves the grant without changing anything.
ACL_PROBES: tuple[AclProbe, ...] = (
    AclProbe("Magento_Backend::store", "GET", "V1/store/storeViews", "store views and currencies"),
    AclProbe("Magento_Sales::actions_view", "GET", "V1/orders?searchCriteria[pageSize]=1", "find imported orders"),
    AclProbe("Magento_Sales::create", "POST", "V1/orders", "create orders"),
    AclProbe("Magento_Sales::comment", "POST", "V1/orders/0/comments", "order comments with links"),
    AclProbe("Magento_Sales::invoice", "POST", "V1/order/0/invoice", "invoice imported orders"),
    AclProbe("Magento_Sales::ship", "POST", "V1/order/0/ship", "ship FBA orders"),
    AclProbe("Magento_Sales::cancel", "POST", "V1/orders/0/cancel", "cancel orders Amazon cancelled"),
    AclProbe("Magento_Sales::hold", "POST", "V1/orders/0/hold", "hold orders"),
    AclProbe("Magento_Sales::unhold", "POST", "V1/orders/0/unhold", "release held orders"),
    AclProbe("Magento_Sales::creditmemo", "POST", "V1/order/0/refund", "refund orders"),
    AclProbe("Magento_Sales::shipment", "GET", "V1/shipments?searchCriteria[pageSize]=1", "send shipments to Amazon"),
    AclProbe("Magento_Catalog::products", "GET", "V1/products?searchCriteria[pageSize]=1", "map SKUs"),
    AclProbe("Magento_CatalogInventory::cataloginventory", "GET", "V1/stockItems/amazon-bridge-doctor",
             "legacy stock"),
    AclProbe("Magento_InventoryApi::source", "GET", "V1/inventory/source-items?searchCriteria[pageSize]=1",
             "stock (MSI)"),
    AclProbe("Magento_InventorySalesApi::stock", "GET",
             "V1/inventory/get-product-salable-quantity/amazon-bridge-doctor/1", "salable quantities (MSI)"),
)


def run_checks(config_path: str | None, *, settings: Settings | None = None) -> list[Check]:
    return list(iter_checks(config_path, settings=settings))


def iter_checks(config_path: str | None, *, settings: Settings | None = None) -> Iterator[Check]:
    if settings is None:
        try:
            settings = load_settings(config_path)
        except ConfigError as exc:
            yield Check("config", False, f"{exc}; fix the settings file or its environment variables")
            return
    yield Check("config", True, f"ok ({config_path or 'defaults and ./config.toml'})")

    from bridge.runtime import Runtime

    runtime = Runtime(settings)
    stores: list[Store] = []
    db_ok = _guard(settings, lambda: _database(runtime))
    yield Check("database", *db_ok)
    if db_ok[0]:
        stores = _stores(runtime)
    yield Check("redis", *_guard(settings, lambda: _redis(runtime)))

    missing = missing_magento_credentials(settings.magento)
    if missing:
        yield Check("magento credentials", False,
                    f"{', '.join(missing)} not set; create an integration in Magento (System > Extensions > "
                    "Integrations), activate it and export its four values")
    else:
        yield from _magento(runtime, settings, stores)
    yield from _amazon(runtime, settings, stores)
    runtime.close()


def _guard(settings: Settings, check: Callable[[], str]) -> tuple[bool, str]:
    try:
        return True, check()
    except Exception as exc:  # noqa: BLE001 - a diagnosis: whatever one check meets is its finding, and the next runs
        message = explain(exc, settings)
        if message is None:
            message = f"{type(exc).__name__}: {exc}"
        return False, message


def _database(runtime: Runtime) -> str:
    require_schema(runtime.db.engine, runtime.settings.database.url)
    return f"ok ({safe_database_url(runtime.settings.database.url)}, schema up to date)"


def _stores(runtime: Runtime) -> list[Store]:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from bridge.storage.models import Store

    with runtime.db.session() as session:
        return list(session.scalars(select(Store).options(selectinload(Store.order_settings)).order_by(Store.id)))


def _redis(runtime: Runtime) -> str:
    runtime.redis.ping()
    return f"ok ({host_of(runtime.settings.redis.url)})"


def _magento(runtime: Runtime, settings: Settings, stores: list[Store]) -> Iterator[Check]:
    from bridge.magento.client import MagentoClient
    from bridge.magento.errors import MagentoAuthError, MagentoError, MagentoHTTPError
    from bridge.retry import NO_RETRY

    client = MagentoClient(settings.magento, retry=NO_RETRY)
    host = host_of(settings.magento.base_url)
    for probe in ACL_PROBES:
        try:
            path, _, query = probe.path.partition("?")
            params = [(key, value) for key, _, value in (part.partition("=") for part in query.split("&"))
                      ] if query else None
            client.request(probe.method, path, params=params, body={} if probe.method == "POST" else None)
        except MagentoAuthError as exc:
            resources = (exc.parameters or {}).get("resources") if isinstance(exc.parameters, dict) else None
            if not resources:
                yield Check("magento credentials", False,
                            f"Magento at {host} refused the credentials ({exc.message}); check the MAGENTO_* "
                            "variables, that the integration is active, and magento.auth_mode")
                return
            yield Check(f"magento ACL {probe.resource}", False,
                        f"not granted (needed to {probe.why}); Magento says: {exc.message} Grant it in System > "
                        "Extensions > Integrations > API and re-activate the integration")
            continue
        except MagentoHTTPError as exc:
            if exc.is_no_route and probe.resource.startswith("Magento_Inventory"):
                yield Check(f"magento ACL {probe.resource}", True, "ok (MSI not installed: legacy stock is used)")
                continue
            if probe.method == "GET" and exc.status not in (400, 404):
                yield Check(f"magento ACL {probe.resource}", False, explain(exc, settings) or str(exc))
                continue
        except MagentoError as exc:  # unreachable host, TLS, ...: nothing else can be checked
            yield Check("magento", False, explain(exc, settings) or f"{type(exc).__name__}: {exc}")
            return
        yield Check(f"magento ACL {probe.resource}", True, "ok")
    try:
        views = {view.code for view in client.store_views()}
    except MagentoError as exc:
        yield Check("magento store views", False, explain(exc, settings) or str(exc))
        return
    for store in stores:
        code = store.order_settings.store_view_code
        if code in views:
            yield Check(f"store {store.code}: store view", True, f"ok ({code})")
        else:
            yield Check(f"store {store.code}: store view", False,
                        f"Magento has no store view {code!r} (it has {', '.join(sorted(views))}); change the "
                        "store's Order Settings")


def _amazon(runtime: Runtime, settings: Settings, stores: list[Store]) -> Iterator[Check]:
    import os

    from bridge.storage.models import utcnow

    if not settings.amazon.client_id or not settings.amazon.client_secret:
        yield Check("amazon LWA credentials", False,
                    "AMAZON_LWA_CLIENT_ID and AMAZON_LWA_CLIENT_SECRET must be set (Seller Central > Develop Apps)")
        return
    if not stores:
        yield Check("amazon stores", False, "no store is connected; add one with `amazon-bridge stores add`")
        return
    for store in stores:
        name = f"store {store.code}: amazon"
        if not os.environ.get(store.refresh_token_env):
            yield Check(name, False, f"the refresh token variable {store.refresh_token_env} is not set")
            continue

        def probe(store: Store = store) -> str:
            client = runtime.amazon_client(store)
            client.search_orders(created_after=utcnow() - timedelta(days=1), page_size=1)
            return f"ok (LWA token, seller {store.seller_id}, marketplace {store.marketplace_id})"

        yield Check(name, *_guard(settings, probe))
