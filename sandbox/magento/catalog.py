"""Catalog, legacy CatalogInventory, MSI source items and salable quantity, stores, directory, customers.

Direct order saves make no MSI reservation (magento/magento2#26038), so salable quantity here is the
sum of enabled source items of the stock plus the reservations shipments place (`deduct_for_shipment`).
"""

from __future__ import annotations

import copy
import math
from typing import Any

from . import search_criteria as scm
from .directory import COUNTRIES, country
from .errors import MagentoError, not_found, required, type_error
from .http import Ctx, Router
from .orders import now, parse_id, strip_nulls

PRODUCT_NOT_FOUND = "The product that was requested doesn't exist. Verify the product and try again."
DEFAULT_SOURCE = "default"
DEFAULT_STOCK_ID = 1


def _float(name: str, value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise type_error(name, value, "float")
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise type_error(name, value, "float") from exc
    if not math.isfinite(out):
        raise type_error(name, value, "float")
    return out


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise type_error(name, value, "int")


# --- products -------------------------------------------------------------------------------------------

def _save_product(ctx: Ctx, data: dict[str, Any], sku_from_path: str | None) -> dict[str, Any]:
    store = ctx.twin.store
    sku = sku_from_path if sku_from_path is not None else data.get("sku")
    if not isinstance(sku, str) or not sku.strip():
        raise MagentoError('The "%1" attribute value is empty. Set the attribute and try again.', 400, ["sku"])
    if len(sku) > 64:
        raise MagentoError('SKU length should be %1 characters maximum.', 400, ["64"])
    for key in ("price", "weight"):
        if data.get(key) is not None:
            data[key] = _float(key, data[key])
    for key in ("status", "visibility", "attribute_set_id"):
        if data.get(key) is not None:
            data[key] = _int(key, data[key])
    if data.get("extension_attributes") is not None and not isinstance(data["extension_attributes"], dict):
        raise type_error("extension_attributes", data["extension_attributes"], "object")
    if data.get("name") is not None and not isinstance(data["name"], str):
        raise type_error("name", data["name"], "string")
    with store.transaction():
        existing = store.get("product", sku)
        created = now()
        if existing is None:
            if not data.get("name"):
                raise MagentoError('The "%1" attribute value is empty. Set the attribute and try again.', 400,
                                   ["name"])
            product: dict[str, Any] = {
                "id": store.sequence("product"), "sku": sku, "attribute_set_id": 4, "status": 1, "visibility": 4,
                "type_id": "simple", "created_at": created, "price": 0,
                "extension_attributes": {"website_ids": [1], "category_links": []},
                "product_links": [], "options": [], "media_gallery_entries": [], "tier_prices": [],
                "custom_attributes": [],
            }
        else:
            product = existing
        stock_in = None
        for key, value in data.items():
            if key in ("id", "sku"):
                continue
            if key == "extension_attributes" and isinstance(value, dict):
                value = dict(value)
                stock_in = value.pop("stock_item", None)
                product["extension_attributes"].update(value)
            else:
                product[key] = value
        product["updated_at"] = created
        store.put("product", sku, product)
        item = _stock_item(ctx, product)
        if isinstance(stock_in, dict):
            _apply_stock(ctx, product, item, stock_in)
        elif existing is None:
            store.put("stock_item", sku, item)
    return _render_product(ctx, product)


def _render_product(ctx: Ctx, product: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(product)
    out["extension_attributes"]["stock_item"] = _stock_item(ctx, product)
    return strip_nulls(out)


def _get_product(ctx: Ctx, sku: str) -> dict[str, Any]:
    product = ctx.twin.store.get("product", sku)
    if product is None:
        raise not_found(PRODUCT_NOT_FOUND)
    return product


# --- stock ----------------------------------------------------------------------------------------------

def _stock_item(ctx: Ctx, product: dict[str, Any]) -> dict[str, Any]:
    item = ctx.twin.store.get("stock_item", product["sku"])
    if item is None:
        item = {
            "item_id": product["id"], "product_id": product["id"], "stock_id": DEFAULT_STOCK_ID, "qty": 0,
            "is_in_stock": False, "is_qty_decimal": False, "show_default_notification_message": False,
            "use_config_min_qty": True, "min_qty": 0, "use_config_min_sale_qty": 1, "min_sale_qty": 1,
            "use_config_max_sale_qty": True, "max_sale_qty": 10000, "use_config_backorders": True,
            "backorders": 0, "use_config_notify_stock_qty": True, "notify_stock_qty": 1,
            "use_config_qty_increments": True, "qty_increments": 0, "use_config_enable_qty_inc": True,
            "enable_qty_increments": False, "use_config_manage_stock": True, "manage_stock": True,
            "low_stock_date": None, "is_decimal_divided": False, "stock_status_changed_auto": 0,
        }
    return item


def _apply_stock(ctx: Ctx, product: dict[str, Any], item: dict[str, Any], data: dict[str, Any]) -> None:
    """Legacy stock item save; keeps the `default` source item in step, as MSI's legacy sync does."""
    if data.get("qty") is not None:
        item["qty"] = _float("qty", data["qty"])
    if data.get("is_in_stock") is not None:
        item["is_in_stock"] = bool(data["is_in_stock"])
    for key in ("manage_stock", "backorders", "min_qty", "min_sale_qty", "max_sale_qty"):
        if key in data:
            item[key] = data[key]
    ctx.twin.store.put("stock_item", product["sku"], item)
    ctx.twin.store.put("source_item", f"{DEFAULT_SOURCE}|{product['sku']}", {
        "sku": product["sku"], "source_code": DEFAULT_SOURCE, "quantity": item["qty"],
        "status": 1 if item["is_in_stock"] else 0,
    })


def _salable_qty(ctx: Ctx, sku: str, stock_id: int) -> float:
    if ctx.twin.store.get("product", sku) is None:
        raise MagentoError("Can't check requested quantity for products without Source Items support.", 400)
    if stock_id != DEFAULT_STOCK_ID:
        raise not_found("Stock with id \"%value\" does not exist.", {"value": stock_id})
    total = 0.0
    for si in ctx.twin.store.scan("source_item"):
        if si.get("sku") == sku and si.get("source_code") == DEFAULT_SOURCE and int(si.get("status") or 0) == 1:
            total += float(si.get("quantity") or 0)
    for reservation in ctx.twin.store.scan("reservation"):
        if reservation.get("sku") == sku and reservation.get("stock_id") == stock_id:
            total += float(reservation.get("quantity") or 0)
    return total


def deduct_for_shipment(ctx: Ctx, lines: list[tuple[str, float]], source_code: str | None, order_id: int) -> None:
    """MSI's SourceDeductionProcessor on `sales_order_shipment_save_after`: the shipped quantities leave the
    source (the request's `source_code`, else the default source in single-source mode), refused when the
    source lacks them, then a compensating reservation of +qty is placed. Orders saved over REST placed no
    reservation to compensate (magento/magento2#26038), so their salable quantity does not drop on shipment.
    Products that do not manage stock are skipped. Call inside the shipment's transaction."""
    store = ctx.twin.store
    code = source_code or DEFAULT_SOURCE
    changes: list[tuple[str, dict[str, Any], float]] = []
    for sku, qty in lines:
        if store.get("product", sku) is None:
            continue  # an item saved without its product (the twin allows it): no stock to manage
        legacy = store.get("stock_item", sku) or {}
        if not legacy.get("manage_stock", True):
            continue
        source = store.get("source_item", f"{code}|{sku}")
        if source is None:
            raise not_found("Source item not found by source code: %1 and sku: %2.", [code, sku])
        if float(source.get("quantity") or 0) - qty < 0:
            raise MagentoError("Not all of your products are available in the requested quantity.", 400)
        changes.append((sku, source, qty))
    for sku, source, qty in changes:
        source["quantity"] = float(source.get("quantity") or 0) - qty
        store.put("source_item", f"{code}|{sku}", source)
        legacy = store.get("stock_item", sku)
        if legacy is not None and code == DEFAULT_SOURCE:
            legacy["qty"] = source["quantity"]
            store.put("stock_item", sku, legacy)
        reservation_id = store.sequence("reservation")
        store.put("reservation", reservation_id, {
            "reservation_id": reservation_id, "stock_id": DEFAULT_STOCK_ID, "sku": sku, "quantity": qty,
            "metadata": {"event_type": "shipment_created", "object_type": "order", "object_id": str(order_id)},
        })


# --- customers ------------------------------------------------------------------------------------------

def _create_customer(ctx: Ctx) -> dict[str, Any]:
    data = ctx.obj("customer")
    store = ctx.twin.store
    errors = [{"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": f}}
              for f in ("firstname", "lastname") if not data.get(f)]
    email = data.get("email")
    if not isinstance(email, str) or "@" not in email:
        if not email:
            errors.append({"message": '"%fieldName" is required. Enter and try again.',
                           "parameters": {"fieldName": "email"}})
        else:
            raise MagentoError('"%1" is not a valid email address.', 400, [str(email)])
    if errors:
        if len(errors) == 1:
            raise MagentoError(errors[0]["message"], 400, errors[0]["parameters"])
        raise MagentoError("One or more input exceptions have occurred.", 400, errors=errors)
    website_id = _int("website_id", data.get("website_id") or 1)
    with store.transaction():
        for c in store.scan("customer"):
            if c["email"].lower() == email.lower() and c.get("website_id") == website_id:
                raise MagentoError(
                    "A customer with the same email address already exists in an associated website.", 400)
        created = now()
        customer = dict(data)
        customer.update({
            "id": store.sequence("customer"), "group_id": _int("group_id", data.get("group_id") or 1),
            "created_at": created,
            "updated_at": created, "created_in": "Default Store View", "email": email, "website_id": website_id,
            "store_id": _int("store_id", data.get("store_id") or 1), "disable_auto_group_change": 0,
            "addresses": [], "extension_attributes": {"is_subscribed": False},
        })
        for addr in data.get("addresses") or []:
            if isinstance(addr, dict):
                a = dict(addr)
                a["id"] = store.sequence("customer_address")
                a["customer_id"] = customer["id"]
                customer["addresses"].append(a)
        store.put("customer", customer["id"], customer)
    return customer


# --- stores ---------------------------------------------------------------------------------------------

def _store_views(ctx: Ctx) -> list[dict[str, Any]]:
    out = [{"id": 0, "code": "admin", "name": "Admin", "website_id": 0, "store_group_id": 0, "is_active": 1}]
    for v in ctx.twin.config.store_views:
        out.append({"id": v.id, "code": v.code, "name": v.name, "website_id": v.website_id,
                    "store_group_id": v.group_id, "is_active": int(v.is_active)})
    return out


def _groups(ctx: Ctx) -> list[dict[str, Any]]:
    out = [{"id": 0, "website_id": 0, "root_category_id": 0, "default_store_id": 0, "name": "Default",
            "code": "default"}]
    seen: set[int] = set()
    for v in ctx.twin.config.store_views:
        if v.group_id not in seen:
            seen.add(v.group_id)
            out.append({"id": v.group_id, "website_id": v.website_id, "root_category_id": 2,
                        "default_store_id": v.id, "name": v.group_name,
                        "code": "main_website_store" if v.group_id == 1 else f"{v.website_code}_store"})
    return out


def _websites(ctx: Ctx) -> list[dict[str, Any]]:
    out = [{"id": 0, "code": "admin", "name": "Admin", "default_group_id": 0}]
    seen: set[int] = set()
    for v in ctx.twin.config.store_views:
        if v.website_id not in seen:
            seen.add(v.website_id)
            out.append({"id": v.website_id, "code": v.website_code, "name": v.website_name,
                        "default_group_id": v.group_id})
    return out


def _store_configs(ctx: Ctx, base_url: str) -> list[dict[str, Any]]:
    codes = [v for k, v in ctx.args if k.startswith("storeCodes")]
    out = []
    for v in ctx.twin.config.store_views:
        if codes and v.code not in codes:
            continue
        out.append({
            "id": v.id, "code": v.code, "website_id": v.website_id, "locale": v.locale,
            "base_currency_code": v.currency, "default_display_currency_code": v.currency,
            "timezone": v.timezone, "weight_unit": "lbs" if v.currency == "USD" else "kgs",
            "base_url": base_url, "base_link_url": base_url, "base_static_url": base_url + "static/",
            "base_media_url": base_url + "media/", "secure_base_url": base_url, "secure_base_link_url": base_url,
            "secure_base_static_url": base_url + "static/", "secure_base_media_url": base_url + "media/",
        })
    return out


# --- routes ---------------------------------------------------------------------------------------------

def register(router: Router) -> None:
    products = "Magento_Catalog::products"

    @router.add("GET", "/V1/products", products)
    def search_products(ctx: Ctx) -> Any:
        sc = scm.parse(ctx.args)
        page, total = scm.apply(ctx.twin.store.scan("product"), sc, default_sort="id")
        return scm.result([_render_product(ctx, p) for p in page], sc, total)

    @router.add("GET", "/V1/products/:sku", products)
    def get_product(ctx: Ctx, sku: str) -> Any:
        return _render_product(ctx, _get_product(ctx, sku))

    @router.add("POST", "/V1/products", products)
    def post_product(ctx: Ctx) -> Any:
        return _save_product(ctx, dict(ctx.obj("product")), None)

    @router.add("PUT", "/V1/products/:sku", products)
    def put_product(ctx: Ctx, sku: str) -> Any:
        return _save_product(ctx, dict(ctx.obj("product")), sku)

    inv = "Magento_CatalogInventory::cataloginventory"

    @router.add("GET", "/V1/stockItems/:productSku", inv)
    def get_stock_item(ctx: Ctx, productSku: str) -> Any:
        return _stock_item(ctx, _get_product(ctx, productSku))

    @router.add("GET", "/V1/stockStatuses/:productSku", inv)
    def get_stock_status(ctx: Ctx, productSku: str) -> Any:
        product = _get_product(ctx, productSku)
        item = _stock_item(ctx, product)
        return {"product_id": product["id"], "stock_id": DEFAULT_STOCK_ID, "qty": item["qty"],
                "stock_status": int(item["is_in_stock"]), "stock_item": item}

    @router.add("PUT", "/V1/products/:productSku/stockItems/:itemId", inv)
    def put_stock_item(ctx: Ctx, productSku: str, itemId: str) -> Any:
        data = ctx.obj("stockItem")
        with ctx.twin.store.transaction():
            product = _get_product(ctx, productSku)
            item = _stock_item(ctx, product)
            _apply_stock(ctx, product, item, data)
        return item["item_id"]

    @router.add("GET", "/V1/inventory/source-items", "Magento_InventoryApi::source")
    def list_source_items(ctx: Ctx) -> Any:
        sc = scm.parse(ctx.args)
        page, total = scm.apply(ctx.twin.store.scan("source_item"), sc)
        return scm.result([dict(s) for s in page], sc, total)

    @router.add("POST", "/V1/inventory/source-items", "Magento_InventoryApi::stock_source_item_assign")
    def save_source_items(ctx: Ctx) -> Any:
        items = ctx.param("sourceItems")
        if not isinstance(items, list):
            raise type_error("sourceItems", items, "array")
        if not items:
            raise MagentoError("Input data is empty", 400)
        store = ctx.twin.store
        with store.transaction():
            for raw in items:
                if not isinstance(raw, dict):
                    raise type_error("sourceItems", raw, "object")
                sku, source = raw.get("sku"), raw.get("source_code") or DEFAULT_SOURCE
                if not sku:
                    raise required("sku")
                if store.get("product", sku) is None:
                    raise MagentoError("Could not save Source Item", 400)
                qty = _float("quantity", raw.get("quantity", 0))
                status = _int("status", raw.get("status", 1) or 0)
                store.put("source_item", f"{source}|{sku}",
                          {"sku": sku, "source_code": source, "quantity": qty, "status": status})
                if source == DEFAULT_SOURCE:
                    product = store.get("product", sku)
                    item = _stock_item(ctx, product)
                    item["qty"] = qty
                    item["is_in_stock"] = bool(status)
                    store.put("stock_item", sku, item)
        return []

    @router.add("POST", "/V1/inventory/source-items-delete", "Magento_InventoryApi::stock_source_item_assign")
    def delete_source_items(ctx: Ctx) -> Any:
        items = ctx.param("sourceItems")
        if not isinstance(items, list):
            raise type_error("sourceItems", items, "array")
        for raw in items:
            if isinstance(raw, dict):
                ctx.twin.store.delete("source_item", f"{raw.get('source_code') or DEFAULT_SOURCE}|{raw.get('sku')}")
        return []

    @router.add("GET", "/V1/inventory/sources", "Magento_InventoryApi::source")
    def list_sources(ctx: Ctx) -> Any:
        sc = scm.parse(ctx.args, required_param=False)
        src = [{"source_code": DEFAULT_SOURCE, "name": "Default Source", "enabled": True, "country_id": "US",
                "postcode": "00000", "use_default_carrier_config": True}]
        page, total = scm.apply(src, sc)
        return scm.result(page, sc, total)

    @router.add("GET", "/V1/inventory/stocks", "Magento_InventoryApi::stock")
    def list_stocks(ctx: Ctx) -> Any:
        sc = scm.parse(ctx.args, required_param=False)
        channels = [{"type": "website", "code": w["code"]} for w in _websites(ctx)
                    if w["id"] and w["code"] not in ctx.twin.config.websites_without_stock]
        stocks = [{"stock_id": DEFAULT_STOCK_ID, "name": "Default Stock",
                   "extension_attributes": {"sales_channels": channels}}]
        page, total = scm.apply(stocks, sc)
        return scm.result(page, sc, total)

    salable = "Magento_InventorySalesApi::stock"

    @router.add("GET", "/V1/inventory/get-product-salable-quantity/:sku/:stockId", salable)
    def salable_qty(ctx: Ctx, sku: str, stockId: str) -> Any:
        return _salable_qty(ctx, sku, parse_id(stockId, "stockId"))

    @router.add("GET", "/V1/inventory/is-product-salable/:sku/:stockId", salable)
    def is_salable(ctx: Ctx, sku: str, stockId: str) -> Any:
        if ctx.twin.store.get("product", sku) is None:
            return False
        return _salable_qty(ctx, sku, parse_id(stockId, "stockId")) > 0

    @router.add("GET", "/V1/inventory/is-product-salable-for-requested-qty/:sku/:stockId/:requestedQty", salable)
    def is_salable_qty(ctx: Ctx, sku: str, stockId: str, requestedQty: str) -> Any:
        """MSI's ProductSalableResult: the first failing condition's code and message."""
        qty = _float("requestedQty", requestedQty)
        available = _salable_qty(ctx, sku, parse_id(stockId, "stockId"))
        item = _stock_item(ctx, _get_product(ctx, sku))
        if qty > float(item.get("max_sale_qty") or 10000):
            error = {"code": "is_correct_qty-max_sale_qty",
                     "message": "The requested qty exceeds the maximum qty allowed in shopping cart"}
        elif qty > available:
            error = {"code": "is_salable_with_reservations-not_enough_qty",
                     "message": "The requested qty is not available"}
        else:
            return {"salable": True, "errors": []}
        return {"salable": False, "errors": [error]}

    @router.add("GET", "/V1/inventory/are-product-salable-for-requested-qty", salable)
    def are_salable_qty(ctx: Ctx) -> Any:
        """MSI's batch form: `skuRequests[i][sku]`, `skuRequests[i][qty]` and `stockId` in the query; one
        ProductSalableResult (sku, stock_id, salable, errors) per request, in order. Each SKU is checked as the
        single route checks it, so a SKU that route refuses (unknown product) fails the whole call."""
        requests_ = scm._listify(scm._parse_brackets(ctx.args, "skuRequests") or {})
        stock_raw = next((v for k, v in ctx.args if k == "stockId"), None)
        if not requests_:
            raise required("skuRequests")
        if stock_raw is None:
            raise required("stockId")
        stock_id = parse_id(stock_raw, "stockId")
        out = []
        for request in requests_:
            if not isinstance(request, dict) or not request.get("sku"):
                raise required("sku")
            if request.get("qty") is None:
                raise required("qty")
            answer = is_salable_qty(ctx, request["sku"], str(stock_id), request["qty"])
            out.append({"sku": request["sku"], "stock_id": stock_id, **answer})
        return out

    @router.add("GET", "/V1/inventory/stock-resolver/:type/:code", salable)
    def stock_resolver(ctx: Ctx, type: str, code: str) -> Any:
        if (type != "website" or code in ctx.twin.config.websites_without_stock
                or not any(w["code"] == code for w in _websites(ctx) if w["id"])):
            raise not_found("No linked stock found")
        return {"stock_id": DEFAULT_STOCK_ID, "name": "Default Stock"}

    stores = "Magento_Backend::store"
    router.add("GET", "/V1/store/storeViews", stores)(_store_views)
    router.add("GET", "/V1/store/storeGroups", stores)(_groups)
    router.add("GET", "/V1/store/websites", stores)(_websites)

    @router.add("GET", "/V1/store/storeConfigs", stores)
    def store_configs(ctx: Ctx) -> Any:
        return _store_configs(ctx, ctx.twin.base_url())

    @router.add("GET", "/V1/directory/countries", None)
    def countries(ctx: Ctx) -> Any:
        return [country(c) for c in COUNTRIES]

    @router.add("GET", "/V1/directory/countries/:countryId", None)
    def get_country(ctx: Ctx, countryId: str) -> Any:
        c = country(countryId)
        if c is None:
            raise not_found("The country isn't available.")
        return c

    @router.add("GET", "/V1/customers/search", "Magento_Customer::customer")
    def search_customers(ctx: Ctx) -> Any:
        sc = scm.parse(ctx.args)
        page, total = scm.apply(ctx.twin.store.scan("customer"), sc, default_sort="id")
        return scm.result([copy.deepcopy(c) for c in page], sc, total)

    @router.add("GET", "/V1/customers/:customerId", "Magento_Customer::customer")
    def get_customer(ctx: Ctx, customerId: str) -> Any:
        cid = parse_id(customerId, "customerId")
        c = ctx.twin.store.get("customer", cid)
        if c is None:
            raise not_found("No such entity with %fieldName = %fieldValue",
                            {"fieldName": "customerId", "fieldValue": cid})
        return c

    @router.add("POST", "/V1/customers", "Magento_Customer::manage")
    def create_customer(ctx: Ctx) -> Any:
        return _create_customer(ctx)
