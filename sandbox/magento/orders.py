"""Order repository and management: create/update, get, list, comments, cancel, hold, unhold.

Direct `save` persists the order as sent (no totals collection, no placement, no stock reservation),
as Magento's OrderRepository does; only the 2025 OrderRepositoryPlugin checks run on create.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import search_criteria as scm
from . import state as st
from .errors import MagentoError, not_found, type_error
from .http import Ctx, Router
from .payments import method_title
from .schema import GIFT_MESSAGE_FIELDS, STATUS_HISTORY_FIELDS, check_fields, check_order

if TYPE_CHECKING:
    from .store import Store

ORDER_INT_FIELDS = frozenset({
    "entity_id", "store_id", "customer_id", "customer_group_id", "customer_is_guest", "is_virtual", "email_sent",
    "total_item_count", "quote_id", "billing_address_id", "shipping_address_id", "customer_gender",
    "customer_note_notify", "send_email", "can_ship_partially", "can_ship_partially_item", "edit_increment",
    "forced_shipment_with_invoice", "gift_message_id", "quote_address_id", "relation_child_id", "relation_parent_id",
})
ORDER_STRING_FIELDS = frozenset({
    "increment_id", "customer_email", "customer_firstname", "customer_lastname", "customer_middlename", "state",
    "status", "base_currency_code", "global_currency_code", "order_currency_code", "store_currency_code",
    "shipping_method", "shipping_description", "ext_order_id", "ext_customer_id", "store_name", "remote_ip",
    "customer_note", "customer_prefix", "customer_suffix", "customer_taxvat", "coupon_code", "created_at",
    "updated_at", "protect_code", "x_forwarded_for", "discount_description", "applied_rule_ids",
    "original_increment_id", "relation_child_real_id", "relation_parent_real_id", "hold_before_state",
    "hold_before_status", "customer_dob",
})
ITEM_INT_FIELDS = frozenset({
    "item_id", "order_id", "parent_item_id", "product_id", "quote_item_id", "store_id", "is_virtual",
    "free_shipping", "is_qty_decimal", "no_discount", "locked_do_invoice", "locked_do_ship", "gift_message_id",
})
ITEM_STRING_FIELDS = frozenset({"sku", "name", "product_type", "description", "created_at", "updated_at",
                                "applied_rule_ids", "additional_data", "ext_order_item_id"})
ADDRESS_INT_FIELDS = frozenset({"entity_id", "parent_id", "customer_id", "customer_address_id", "region_id",
                                "quote_address_id", "vat_is_valid", "vat_request_success"})
PAYMENT_INT_FIELDS = frozenset({"entity_id", "parent_id", "quote_payment_id"})
FLOAT_HINTS = ("amount", "total", "rate", "price", "incl_tax", "due", "weight", "qty", "percent", "paid",
               "refunded", "invoiced", "canceled", "ordered", "adjustment", "balance")


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _is_float_field(name: str) -> bool:
    return any(h in name for h in FLOAT_HINTS) and not name.endswith(("_id", "_code", "_description", "_ids"))


def coerce(where: str, data: dict[str, Any], ints: frozenset[str], strings: frozenset[str]) -> None:
    """Convert scalar fields to their declared types in place; a wrong type is Magento's 400, not a 500."""
    for key, value in list(data.items()):
        if value is None:
            continue
        name = key
        if key in ints:
            integral = (
                isinstance(value, bool | int)
                or (isinstance(value, float) and value.is_integer())
                or (isinstance(value, str) and value.strip().lstrip("-").isdigit())
            )
            if not integral:
                raise type_error(name, value, "int")
            data[key] = int(value)
        elif key in strings:
            if isinstance(value, dict | list):
                raise type_error(name, value, "string")
            if isinstance(value, bool):
                data[key] = "1" if value else ""
            elif not isinstance(value, str):
                data[key] = str(value)
        elif _is_float_field(key):
            if isinstance(value, bool | dict | list):
                raise type_error(name, value, "float")
            if isinstance(value, str):
                try:
                    data[key] = float(value)
                except ValueError as exc:
                    raise type_error(name, value, "float") from exc


def _address(addr: Any, field: str, address_type: str) -> dict[str, Any]:
    if not isinstance(addr, dict):
        raise type_error(field, addr, "object")
    addr = dict(addr)
    coerce(field, addr, ADDRESS_INT_FIELDS, frozenset({"city", "postcode", "firstname", "lastname", "telephone",
                                                      "country_id", "region", "region_code", "email", "company",
                                                      "vat_id"}))
    street = addr.get("street")
    if isinstance(street, str):
        addr["street"] = [street]
    elif street is not None and not isinstance(street, list):
        raise type_error("street", street, "string[]")
    addr["address_type"] = addr.get("address_type") or address_type
    return addr


# --- create / update ------------------------------------------------------------------------------------

def validate_new_order(entity: dict[str, Any]) -> None:
    """OrderRepositoryPlugin::beforeSave (magento/magento2#39651): billing address with names, visible items."""
    billing = entity.get("billing_address")
    if not isinstance(billing, dict) or not billing.get("firstname") or not billing.get("lastname"):
        raise MagentoError("Please provide billing address for the order.", 400)
    items = entity.get("items")
    if not isinstance(items, list) or not any(isinstance(i, dict) and i.get("parent_item_id") is None for i in items):
        raise MagentoError("Please specify order items.", 400)


def increment_id(store: Store, kind: str, store_id: int) -> str:
    """sequence_<kind>_<store>: prefix is the store id for stores other than the default one, 9 digits."""
    value = store.sequence(f"{kind}_{store_id}")
    prefix = "" if store_id in (0, 1) else str(store_id)
    return f"{prefix}{value:09d}"


def _fill(doc: dict[str, Any], key: str, value: Any) -> None:
    """setdefault that also replaces an explicit null (Magento's tests send every key, most as null)."""
    if doc.get(key) is None:
        doc[key] = value


def _prepare_items(store: Store, order: dict[str, Any], items: list[Any], created: str) -> list[dict[str, Any]]:
    out = []
    for raw in items:
        if not isinstance(raw, dict):
            raise type_error("items", raw, "object")
        item = dict(raw)
        item.pop("parent_item", None)
        coerce("items", item, ITEM_INT_FIELDS, ITEM_STRING_FIELDS)
        item["item_id"] = store.sequence("order_item")
        item["order_id"] = order["entity_id"]
        _fill(item, "store_id", order.get("store_id"))
        _fill(item, "product_type", "simple")
        for q in ("qty_invoiced", "qty_shipped", "qty_refunded", "qty_canceled", "qty_backordered", "qty_returned"):
            if item.get(q) is None:
                item[q] = 0
        _fill(item, "created_at", created)
        _fill(item, "updated_at", created)
        ext = item.get("extension_attributes")
        if isinstance(ext, dict) and isinstance(ext.get("itemized_taxes"), list):
            for tax in ext["itemized_taxes"]:
                if isinstance(tax, dict):
                    tax["item_id"] = item["item_id"]
        out.append(item)
    return out


def create_order(ctx: Ctx, entity: dict[str, Any]) -> dict[str, Any]:
    check_order(entity)
    validate_new_order(entity)
    store = ctx.twin.store
    entity = copy.deepcopy(entity)
    coerce("", entity, ORDER_INT_FIELDS, ORDER_STRING_FIELDS)
    ext = entity.get("extension_attributes") or {}
    if not isinstance(ext, dict):
        raise type_error("extension_attributes", ext, "object")
    assignments = ext.pop("shipping_assignments", None) or []
    if not isinstance(assignments, list):
        raise type_error("shipping_assignments", assignments, "array")
    gift_message = ext.pop("gift_message", None)
    if gift_message is not None:
        if not isinstance(gift_message, dict):
            raise type_error("gift_message", gift_message, "object")
        check_fields(gift_message, GIFT_MESSAGE_FIELDS)
    with store.transaction():
        created = now()
        order = {k: v for k, v in entity.items() if k not in ("items", "billing_address", "payment",
                                                               "status_histories", "extension_attributes")}
        order["entity_id"] = store.sequence("order")
        if order.get("store_id") is None:
            order["store_id"] = ctx.store_id or ctx.twin.config.default_view.id
        view = ctx.twin.config.view_by_id(order["store_id"])
        if not order.get("increment_id"):
            order["increment_id"] = increment_id(store, "order", order["store_id"])
        elif any(o.get("increment_id") == order["increment_id"] and o.get("store_id") == order["store_id"]
                 for o in store.scan("order")):
            # sales_order has UNIQUE(increment_id, store_id); AbstractDb::save turns the violation into this 400
            raise MagentoError("Unique constraint violation found", 400)
        _fill(order, "store_name", _store_name(ctx, view))
        _fill(order, "created_at", created)
        _fill(order, "updated_at", created)
        _fill(order, "protect_code", f"{order['entity_id']:06x}")
        order["items"] = _prepare_items(store, order, entity["items"], created)
        billing = _address(entity["billing_address"], "billing_address", "billing")
        billing["entity_id"] = store.sequence("order_address")
        billing["parent_id"] = order["entity_id"]
        order["billing_address"] = billing
        order["billing_address_id"] = billing["entity_id"]
        if assignments and not order.get("is_virtual"):
            first = assignments[0] if isinstance(assignments[0], dict) else {}
            shipping = first.get("shipping") or {}
            if isinstance(shipping, dict):
                if isinstance(shipping.get("address"), dict):
                    address = _address(shipping["address"], "address", "shipping")
                    address["entity_id"] = store.sequence("order_address")
                    address["parent_id"] = order["entity_id"]
                    order["_shipping_address"] = address
                    order["shipping_address_id"] = address["entity_id"]
                if shipping.get("method"):
                    order["shipping_method"] = str(shipping["method"])
        payment = entity.get("payment")
        if payment is not None:
            if not isinstance(payment, dict):
                raise type_error("payment", payment, "object")
            payment = dict(payment)
            coerce("payment", payment, PAYMENT_INT_FIELDS, frozenset({"method", "po_number", "cc_last4",
                                                                       "account_status", "cc_type"}))
            payment["entity_id"] = store.sequence("order_payment")
            payment["parent_id"] = order["entity_id"]
            info = payment.get("additional_information")
            if info is None:
                payment["additional_information"] = []
            elif not isinstance(info, list):
                raise type_error("additional_information", info, "string[]")
            order["payment"] = payment
        histories = []
        for h in entity.get("status_histories") or []:
            if isinstance(h, dict):
                h = dict(h)
                h["entity_id"] = store.sequence("order_status_history")
                h["parent_id"] = order["entity_id"]
                _fill(h, "created_at", created)
                _fill(h, "entity_name", "order")
                histories.append(h)
        order["status_histories"] = histories
        order["extension_attributes"] = ext
        store.put("order", order["entity_id"], order)
    if gift_message is not None:
        _save_gift_message(ctx, order, gift_message)
    return order


def _save_gift_message(ctx: Ctx, order: dict[str, Any], message: dict[str, Any]) -> None:
    """Magento_GiftMessage's OrderSave plugin runs *after* the order is saved: when the store view does not
    allow gift messages on orders the order stays saved and the call still answers 400."""
    view = ctx.twin.config.view_by_id(order["store_id"])
    if view is None or not view.allow_gift_messages:
        raise MagentoError('Could not add gift message to order: "%1"', 400, ["Gift Message is not available"])
    store = ctx.twin.store
    with store.transaction():
        saved = store.get("order", order["entity_id"])
        entry = {k: message.get(k) for k in ("sender", "recipient", "message", "customer_id")}
        entry["gift_message_id"] = store.sequence("gift_message")
        saved["gift_message_id"] = entry["gift_message_id"]
        saved.setdefault("extension_attributes", {})["gift_message"] = entry
        store.put("order", saved["entity_id"], saved)
        order.update(saved)


def _store_name(ctx: Ctx, view: Any) -> str | None:
    if view is None:
        return None
    return f"{view.website_name}\n{view.group_name}\n{view.name}"


def update_order(ctx: Ctx, entity: dict[str, Any]) -> dict[str, Any]:
    """POST /V1/orders with entity_id: the sent columns overwrite the stored ones (partial update)."""
    check_order(entity)
    store = ctx.twin.store
    entity = copy.deepcopy(entity)
    coerce("", entity, ORDER_INT_FIELDS, ORDER_STRING_FIELDS)
    with store.transaction():
        order = store.get("order", entity["entity_id"])
        if order is None:
            raise not_found()
        for key, value in entity.items():
            if key in ("entity_id", "items", "billing_address", "payment", "extension_attributes", "status_histories"):
                continue
            order[key] = value
        if isinstance(entity.get("billing_address"), dict):
            order["billing_address"].update(_address(entity["billing_address"], "billing_address", "billing"))
        if isinstance(entity.get("payment"), dict) and order.get("payment") is not None:
            pay = dict(entity["payment"])
            pay.pop("entity_id", None)
            order["payment"].update(pay)
        if isinstance(entity.get("items"), list):
            by_id = {i["item_id"]: i for i in order["items"]}
            for raw in entity["items"]:
                if isinstance(raw, dict) and raw.get("item_id") in by_id:
                    upd = dict(raw)
                    upd.pop("parent_item", None)
                    coerce("items", upd, ITEM_INT_FIELDS, ITEM_STRING_FIELDS)
                    by_id[raw["item_id"]].update(upd)
        ext = entity.get("extension_attributes")
        if isinstance(ext, dict):
            ext = dict(ext)
            ext.pop("shipping_assignments", None)
            order.setdefault("extension_attributes", {}).update(ext)
        order["updated_at"] = now()
        store.put("order", order["entity_id"], order)
    return order


# --- output ---------------------------------------------------------------------------------------------

def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None and not k.startswith("_")}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def render_order(order: dict[str, Any]) -> dict[str, Any]:
    """The order as GET /V1/orders/{id} shows it: shipping_assignments built, nulls omitted, state/status kept."""
    out = strip_nulls(copy.deepcopy(order))
    out["state"] = order.get("state")
    out["status"] = order.get("status")
    out["status_histories"] = sorted(
        out.get("status_histories") or [], key=lambda h: (h.get("created_at") or "", h.get("entity_id") or 0),
        reverse=True,
    )
    ext = out.setdefault("extension_attributes", {})
    shipping: dict[str, Any] = {
        "total": strip_nulls({
            "base_shipping_amount": order.get("base_shipping_amount"),
            "base_shipping_discount_amount": order.get("base_shipping_discount_amount"),
            "base_shipping_incl_tax": order.get("base_shipping_incl_tax"),
            "base_shipping_tax_amount": order.get("base_shipping_tax_amount"),
            "shipping_amount": order.get("shipping_amount"),
            "shipping_discount_amount": order.get("shipping_discount_amount"),
            "shipping_incl_tax": order.get("shipping_incl_tax"),
            "shipping_tax_amount": order.get("shipping_tax_amount"),
            "base_shipping_invoiced": order.get("base_shipping_invoiced"),
            "shipping_invoiced": order.get("shipping_invoiced"),
            "base_shipping_refunded": order.get("base_shipping_refunded"),
            "shipping_refunded": order.get("shipping_refunded"),
        }),
    }
    if order.get("_shipping_address"):
        shipping["address"] = strip_nulls(order["_shipping_address"])
    if order.get("shipping_method"):
        shipping["method"] = order["shipping_method"]
    ext["shipping_assignments"] = [{"shipping": shipping, "items": out.get("items", [])}]
    payment = order.get("payment") or {}
    info = [{"key": "method_title", "value": method_title(payment.get("method"))}] if payment else []
    for n, v in enumerate(payment.get("additional_information") or []):
        info.append({"key": str(n), "value": str(v)})
    ext.setdefault("payment_additional_info", info)
    ext.setdefault("applied_taxes", [])
    ext.setdefault("item_applied_taxes", [])
    ext.setdefault("converting_from_quote", False)
    ext.setdefault("taxes", [])
    ext.setdefault("additional_itemized_taxes", [])
    return out


def load_order(ctx: Ctx, raw_id: str) -> dict[str, Any]:
    order_id = parse_id(raw_id, "id")
    order = ctx.twin.store.get("order", order_id)
    if order is None:
        raise not_found()
    return order


def parse_id(raw: Any, name: str) -> int:
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise type_error(name, raw, "int") from exc
    if value <= 0:
        raise MagentoError("An ID is needed. Set the ID and try again.", 400)
    return value


def _order_field(order: Any, name: str) -> Any:
    if name == "shipping_address_id":
        return order.get("shipping_address_id")
    if name in ("payment_method", "payment.method"):
        return (order.get("payment") or {}).get("method")
    return order.get(name)


# --- routes ---------------------------------------------------------------------------------------------

def register(router: Router) -> None:
    view = "Magento_Sales::actions_view"

    @router.add("GET", "/V1/orders", view)
    def list_orders(ctx: Ctx) -> Any:
        sc = scm.parse(ctx.args)
        page, total = scm.apply(ctx.twin.store.scan("order"), sc, _order_field, default_sort="entity_id")
        return scm.result([render_order(o) for o in page], sc, total)

    @router.add("GET", "/V1/orders/:id", view)
    def get_order(ctx: Ctx, id: str) -> Any:
        return render_order(load_order(ctx, id))

    @router.add("GET", "/V1/orders/:id/statuses", view)
    def get_status(ctx: Ctx, id: str) -> Any:
        return load_order(ctx, id).get("status")

    @router.add("GET", "/V1/orders/:id/comments", view)
    def list_comments(ctx: Ctx, id: str) -> Any:
        items = render_order(load_order(ctx, id))["status_histories"]
        # a bare collection: Magento's getCommentsList result carries no search_criteria
        return {"items": items, "total_count": len(items)}

    @router.add("GET", "/V1/orders/items", view)
    def list_items(ctx: Ctx) -> Any:
        sc = scm.parse(ctx.args)
        items = [i for o in ctx.twin.store.scan("order") for i in o.get("items", [])]
        page, total = scm.apply(items, sc, default_sort="item_id")
        return scm.result([strip_nulls(copy.deepcopy(i)) for i in page], sc, total)

    @router.add("GET", "/V1/orders/items/:id", view)
    def get_item(ctx: Ctx, id: str) -> Any:
        item_id = parse_id(id, "id")
        for o in ctx.twin.store.scan("order"):
            for i in o.get("items", []):
                if i.get("item_id") == item_id:
                    return strip_nulls(copy.deepcopy(i))
        raise not_found()

    def save(ctx: Ctx) -> Any:
        entity = ctx.obj("entity")
        if entity.get("entity_id"):
            return render_order(update_order(ctx, entity))
        return render_order(create_order(ctx, entity))

    router.add("POST", "/V1/orders", "Magento_Sales::create")(save)
    router.add("PUT", "/V1/orders/create", "Magento_Sales::create")(save)

    @router.add("POST", "/V1/orders/:id/comments", "Magento_Sales::comment")
    def add_comment(ctx: Ctx, id: str) -> Any:
        history = dict(ctx.obj("statusHistory"))
        check_fields(history, STATUS_HISTORY_FIELDS)
        store = ctx.twin.store
        with store.transaction():
            order = load_order(ctx, id)
            created = now()
            status = history.get("status") or order.get("status")
            comment = history.get("comment")
            if comment is not None and not isinstance(comment, str):
                raise type_error("comment", comment, "string")
            entry = {
                "entity_id": store.sequence("order_status_history"),
                "parent_id": order["entity_id"],
                "comment": comment,
                "status": status,
                "is_customer_notified": _int01(history.get("is_customer_notified"), "is_customer_notified"),
                "is_visible_on_front": _int01(history.get("is_visible_on_front"), "is_visible_on_front") or 0,
                "created_at": created,
                "entity_name": "order",
            }
            order.setdefault("status_histories", []).append(entry)
            order["status"] = status
            order["updated_at"] = created
            store.put("order", order["entity_id"], order)
        return True

    @router.add("POST", "/V1/orders/:id/emails", "Magento_Sales::emails")
    def notify(ctx: Ctx, id: str) -> Any:
        with ctx.twin.store.transaction():
            order = load_order(ctx, id)
            order["email_sent"] = 1
            ctx.twin.store.put("order", order["entity_id"], order)
        return True

    @router.add("POST", "/V1/orders/:id/cancel", "Magento_Sales::cancel")
    def cancel(ctx: Ctx, id: str) -> Any:
        store = ctx.twin.store
        with store.transaction():
            order = load_order(ctx, id)
            if not st.can_cancel(order):
                return False
            register_cancellation(order)
            store.put("order", order["entity_id"], order)
        return True

    @router.add("POST", "/V1/orders/:id/hold", "Magento_Sales::hold")
    def hold(ctx: Ctx, id: str) -> Any:
        store = ctx.twin.store
        with store.transaction():
            order = load_order(ctx, id)
            if not st.can_hold(order):
                raise MagentoError("A hold action is not available.", 400)
            order["hold_before_state"] = order.get("state")
            order["hold_before_status"] = order.get("status")
            order["state"] = st.HOLDED
            order["status"] = st.DEFAULT_STATUS[st.HOLDED]
            order["updated_at"] = now()
            store.put("order", order["entity_id"], order)
        return True

    @router.add("POST", "/V1/orders/:id/unhold", "Magento_Sales::unhold")
    def unhold(ctx: Ctx, id: str) -> Any:
        store = ctx.twin.store
        with store.transaction():
            order = load_order(ctx, id)
            if not st.can_unhold(order):
                raise MagentoError("You cannot remove the hold.", 400)
            order["state"] = order.pop("hold_before_state", None)
            order["status"] = order.pop("hold_before_status", None)
            order["updated_at"] = now()
            store.put("order", order["entity_id"], order)
        return True


def _int01(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise type_error(name, value, "int")


def register_cancellation(order: dict[str, Any]) -> None:
    """Order::registerCancellation: cancel what is neither invoiced nor shipped, fill the *_canceled totals."""
    state = st.CANCELED
    for item in order.get("items", []):
        if state != st.PROCESSING and st.qty_to_refund(item) > 0:
            state = st.PROCESSING if st.qty_to_ship(item) > 0 else st.COMPLETE
        item["qty_canceled"] = st.num(st.D(item.get("qty_canceled")) + st.qty_to_cancel(item))
    for field, invoiced in (("subtotal", "subtotal_invoiced"), ("tax_amount", "tax_invoiced"),
                            ("shipping_amount", "shipping_invoiced"), ("discount_amount", "discount_invoiced"),
                            ("grand_total", "total_invoiced")):
        for prefix in ("", "base_"):
            canceled_key = f"{prefix}{field.replace('_amount', '')}_canceled" if field != "grand_total" \
                else f"{prefix}total_canceled"
            order[canceled_key] = st.money(st.D(order.get(prefix + field)) - st.D(order.get(prefix + invoiced)))
    order["state"] = state
    order["status"] = st.DEFAULT_STATUS[state]
    order["updated_at"] = now()
