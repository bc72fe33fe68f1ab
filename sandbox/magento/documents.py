"""Invoices, shipments, credit memos and tracks: InvoiceOrder, ShipOrder, RefundOrder, RefundInvoice.

Validation failures are DocumentValidationException (400) whose message is the header line plus the
validators' messages, already rendered (no placeholders), as Magento builds it.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from . import search_criteria as scm
from . import state as st
from .catalog import deduct_for_shipment
from .errors import MagentoError, not_found, type_error
from .http import Ctx, Router
from .orders import increment_id, load_order, now, parse_id, strip_nulls

D = st.D
INVOICE_STATE_PAID = 2
CREDITMEMO_STATE_REFUNDED = 2
EPS = Decimal("0.0001")  # Magento's float tolerance in the refund validators


def _doc_error(kind: str, messages: list[str]) -> MagentoError:
    return MagentoError(f"{kind} Document Validation Error(s):\n" + "\n".join(messages), 400)


def _requested_items(ctx: Ctx) -> dict[int, Decimal] | None:
    """`items: [{order_item_id, qty}]` → {item_id: qty}; None when omitted (= everything left)."""
    raw = ctx.param("items", required_param=False)
    if raw in (None, []):
        return None
    if not isinstance(raw, list):
        raise type_error("items", raw, "array")
    out: dict[int, Decimal] = {}
    for entry in raw:
        if not isinstance(entry, dict):
            raise type_error("items", entry, "object")
        try:
            item_id = int(entry.get("order_item_id"))
        except (TypeError, ValueError) as exc:
            raise type_error("order_item_id", entry.get("order_item_id"), "int") from exc
        raw_qty = entry.get("qty", 0)
        try:
            qty = Decimal(str(raw_qty if raw_qty is not None else 0))
        except ArithmeticError as exc:
            raise type_error("qty", raw_qty, "float") from exc
        if isinstance(raw_qty, bool | dict | list) or not qty.is_finite():
            raise type_error("qty", raw_qty, "float")
        out[item_id] = out.get(item_id, Decimal(0)) + qty
    return out


def _comment(ctx: Ctx) -> dict[str, Any] | None:
    c = ctx.param("comment", required_param=False)
    if c is None:
        return None
    if not isinstance(c, dict):
        raise type_error("comment", c, "object")
    text = c.get("comment")
    if text is not None and not isinstance(text, str):
        raise type_error("comment", text, "string")
    return {"comment": text, "is_visible_on_front": int(bool(c.get("is_visible_on_front")))}


def _arguments(ctx: Ctx) -> dict[str, Any]:
    a = ctx.param("arguments", required_param=False)
    if a is None or a == []:
        return {}
    if not isinstance(a, dict):
        raise type_error("arguments", a, "object")
    for key in ("shipping_amount", "adjustment_positive", "adjustment_negative"):
        value = a.get(key)
        if value is None:
            continue
        try:
            ok = not isinstance(value, bool | dict | list) and Decimal(str(value)).is_finite()
        except ArithmeticError:
            ok = False
        if not ok:
            raise type_error(key, value, "float")
    return a


def _items_by_id(order: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {i["item_id"]: i for i in order.get("items", [])}


def _add_money(doc: dict[str, Any], key: str, amount: Decimal) -> None:
    doc[key] = st.money(D(doc.get(key)) + amount)


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    return part / whole if whole else Decimal(0)


def _new_doc_comment(ctx: Ctx, seq: str, parent_id: int, comment: dict[str, Any] | None,
                     notify: bool) -> list[dict[str, Any]]:
    if not comment or not comment.get("comment"):
        return []
    return [{
        "entity_id": ctx.twin.store.sequence(seq),
        "parent_id": parent_id,
        "comment": comment["comment"],
        "is_visible_on_front": comment["is_visible_on_front"],
        "is_customer_notified": int(notify),
        "created_at": now(),
    }]


# --- invoice --------------------------------------------------------------------------------------------

def invoice_order(ctx: Ctx, order_id: str) -> int:
    store = ctx.twin.store
    requested = _requested_items(ctx)
    comment = _comment(ctx)
    notify = bool(ctx.param("notify", required_param=False))
    capture = bool(ctx.param("capture", required_param=False))
    with store.transaction():
        order = load_order(ctx, order_id)
        items = _items_by_id(order)
        qtys = {i: st.qty_to_invoice(it) for i, it in items.items()} if requested is None else requested
        messages: list[str] = []
        total_qty = Decimal(0)
        unknown = False
        for item_id, qty in qtys.items():
            item = items.get(item_id)
            if item is None:
                unknown = True
                continue
            if qty > st.qty_to_invoice(item) and not st.is_dummy(item):
                messages.append(
                    f'The quantity to invoice must not be greater than the uninvoiced quantity for product SKU '
                    f'"{item.get("sku")}".'
                )
            total_qty += qty
        if unknown:
            messages.append("The invoice contains one or more items that are not part of the original order.")
        elif total_qty <= 0:
            messages.append("The invoice can't be created without products. Add products and try again.")
        # Validation\InvoiceOrder merges the order validator's messages first, then the document's.
        order_messages: list[str] = []
        if order.get("state") in (st.PAYMENT_REVIEW, st.HOLDED, st.CANCELED, st.COMPLETE, st.CLOSED):
            order_messages.append(f"An invoice cannot be created when an order has a status of {order.get('status')}")
        elif not st.can_invoice(order):
            order_messages.append("The order does not allow an invoice to be created.")
        if order_messages or messages:
            raise _doc_error("Invoice", order_messages + messages)

        invoice_id = store.sequence("invoice")
        created = now()
        inv_items = []
        sums = {k: Decimal(0) for k in ("subtotal", "base_subtotal", "tax_amount", "base_tax_amount",
                                        "discount_amount", "base_discount_amount")}
        for item_id, qty in qtys.items():
            if qty <= 0:
                continue
            item = items[item_id]
            r = _ratio(qty, D(item.get("qty_ordered")))
            row = {
                "entity_id": store.sequence("invoice_item"), "parent_id": invoice_id, "order_item_id": item_id,
                "sku": item.get("sku"), "name": item.get("name"), "product_id": item.get("product_id"),
                "qty": st.num(qty), "price": item.get("price"), "base_price": item.get("base_price"),
                "row_total": st.money(D(item.get("price")) * qty),
                "base_row_total": st.money(D(item.get("base_price")) * qty),
                "tax_amount": st.money(D(item.get("tax_amount")) * r),
                "base_tax_amount": st.money(D(item.get("base_tax_amount")) * r),
                "discount_amount": st.money(D(item.get("discount_amount")) * r),
                "base_discount_amount": st.money(D(item.get("base_discount_amount")) * r),
            }
            inv_items.append(row)
            for key in sums:
                src = "row_total" if key == "subtotal" else "base_row_total" if key == "base_subtotal" else key
                sums[key] += D(row[src])
            item["qty_invoiced"] = st.num(D(item.get("qty_invoiced")) + qty)
            _add_money(item, "row_invoiced", D(row["row_total"]))
            _add_money(item, "base_row_invoiced", D(row["base_row_total"]))
            _add_money(item, "tax_invoiced", D(row["tax_amount"]))
            _add_money(item, "base_tax_invoiced", D(row["base_tax_amount"]))
            _add_money(item, "discount_invoiced", D(row["discount_amount"]))
            _add_money(item, "base_discount_invoiced", D(row["base_discount_amount"]))
        first_invoice = not any(i.get("order_id") == order["entity_id"] for i in store.scan("invoice"))
        shipping = D(order.get("shipping_amount")) if first_invoice else Decimal(0)
        base_shipping = D(order.get("base_shipping_amount")) if first_invoice else Decimal(0)
        shipping_tax = D(order.get("shipping_tax_amount")) if first_invoice else Decimal(0)
        base_shipping_tax = D(order.get("base_shipping_tax_amount")) if first_invoice else Decimal(0)
        last = not st.can_invoice(order)
        if last:
            grand = D(order.get("grand_total")) - D(order.get("total_invoiced"))
            base_grand = D(order.get("base_grand_total")) - D(order.get("base_total_invoiced"))
        else:
            grand = sums["subtotal"] + sums["tax_amount"] + shipping + shipping_tax - abs(sums["discount_amount"])
            base_grand = (sums["base_subtotal"] + sums["base_tax_amount"] + base_shipping + base_shipping_tax
                          - abs(sums["base_discount_amount"]))
        invoice = {
            "entity_id": invoice_id,
            "increment_id": increment_id(store, "invoice", order.get("store_id") or 1),
            "order_id": order["entity_id"],
            "store_id": order.get("store_id"),
            "state": INVOICE_STATE_PAID,
            "billing_address_id": order.get("billing_address_id"),
            "shipping_address_id": order.get("shipping_address_id"),
            "order_currency_code": order.get("order_currency_code"),
            "base_currency_code": order.get("base_currency_code"),
            "global_currency_code": order.get("global_currency_code"),
            "store_currency_code": order.get("store_currency_code"),
            "total_qty": st.num(sum((q for q in qtys.values() if q > 0), Decimal(0))),
            "subtotal": st.money(sums["subtotal"]), "base_subtotal": st.money(sums["base_subtotal"]),
            "tax_amount": st.money(sums["tax_amount"] + shipping_tax),
            "base_tax_amount": st.money(sums["base_tax_amount"] + base_shipping_tax),
            # document and order discount totals are negative in Magento, item discounts positive
            "discount_amount": st.money(-abs(sums["discount_amount"])),
            "base_discount_amount": st.money(-abs(sums["base_discount_amount"])),
            "shipping_amount": st.money(shipping), "base_shipping_amount": st.money(base_shipping),
            "grand_total": st.money(grand), "base_grand_total": st.money(base_grand),
            "email_sent": 0, "send_email": int(notify),
            "created_at": created, "updated_at": created,
            "items": inv_items,
            "comments": _new_doc_comment(ctx, "invoice_comment", invoice_id, comment, notify),
            "requested_capture_case": "online" if capture else "offline",
        }
        store.put("invoice", invoice_id, invoice)
        for prefix, g in (("", grand), ("base_", base_grand)):
            _add_money(order, f"{prefix}total_invoiced", g)
            _add_money(order, f"{prefix}total_paid", g)
            _add_money(order, f"{prefix}subtotal_invoiced", sums[f"{prefix}subtotal"])
            _add_money(order, f"{prefix}tax_invoiced", sums[f"{prefix}tax_amount"] + (
                shipping_tax if not prefix else base_shipping_tax))
            _add_money(order, f"{prefix}discount_invoiced", -abs(sums[f"{prefix}discount_amount"]))
            _add_money(order, f"{prefix}shipping_invoiced", shipping if not prefix else base_shipping)
        order["total_due"] = st.money(D(order.get("grand_total")) - D(order.get("total_paid")))
        order["base_total_due"] = st.money(D(order.get("base_grand_total")) - D(order.get("base_total_paid")))
        if order.get("payment"):
            _add_money(order["payment"], "amount_paid", grand)
            _add_money(order["payment"], "base_amount_paid", base_grand)
        st.apply_resolved_state(order, in_progress=True)
        order["updated_at"] = created
        store.put("order", order["entity_id"], order)
    return invoice_id


# --- shipment -------------------------------------------------------------------------------------------

def _tracks(ctx: Ctx) -> list[dict[str, Any]]:
    raw = ctx.param("tracks", required_param=False)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise type_error("tracks", raw, "array")
    out = []
    for t in raw:
        if not isinstance(t, dict):
            raise type_error("tracks", t, "object")
        out.append(t)
    return out


def ship_order(ctx: Ctx, order_id: str) -> int:
    store = ctx.twin.store
    requested = _requested_items(ctx)
    comment = _comment(ctx)
    tracks = _tracks(ctx)
    notify = bool(ctx.param("notify", required_param=False))
    with store.transaction():
        order = load_order(ctx, order_id)
        items = _items_by_id(order)
        if requested is None:
            qtys = {i: st.qty_to_ship(it) for i, it in items.items() if st.qty_to_ship(it) > 0}
        else:
            qtys = requested
        messages: list[str] = []
        total = Decimal(0)
        for item_id, qty in qtys.items():
            item = items.get(item_id)
            if item is None:
                messages.append(f'We can not found item "{item_id}" in order.')
                continue
            if qty > st.qty_to_ship(item) and not st.is_dummy(item):
                messages.append(f'We found an invalid quantity to ship for item "{item.get("name")}".')
            else:
                total += qty
        if total <= 0:
            messages.append("You can't create a shipment without products.")
        for t in tracks:
            if not t.get("track_number"):
                messages.append("Please enter a tracking number.")
        order_messages: list[str] = []
        if order.get("state") in (st.PAYMENT_REVIEW, st.HOLDED, st.CANCELED):
            order_messages.append(f"A shipment cannot be created when an order has a status of {order.get('status')}")
        elif not st.can_ship(order):
            order_messages.append("The order does not allow a shipment to be created.")
        if order_messages or messages:
            raise _doc_error("Shipment", order_messages + messages)
        source_code = (_arguments(ctx).get("extension_attributes") or {}).get("source_code")
        deduct_for_shipment(ctx, [(items[i].get("sku"), float(q)) for i, q in qtys.items()
                                  if q > 0 and not items[i].get("is_virtual") and not st.is_dummy(items[i])],
                            source_code if isinstance(source_code, str) else None, order["entity_id"])

        shipment_id = store.sequence("shipment")
        created = now()
        ship_items = []
        for item_id, qty in qtys.items():
            if qty <= 0:
                continue
            item = items[item_id]
            ship_items.append({
                "entity_id": store.sequence("shipment_item"), "parent_id": shipment_id, "order_item_id": item_id,
                "sku": item.get("sku"), "name": item.get("name"), "product_id": item.get("product_id"),
                "price": item.get("price"), "weight": item.get("weight"), "qty": st.num(qty),
            })
            item["qty_shipped"] = st.num(D(item.get("qty_shipped")) + qty)
        shipment = {
            "entity_id": shipment_id,
            "increment_id": increment_id(store, "shipment", order.get("store_id") or 1),
            "order_id": order["entity_id"],
            "store_id": order.get("store_id"),
            "customer_id": order.get("customer_id"),
            "billing_address_id": order.get("billing_address_id"),
            "shipping_address_id": order.get("shipping_address_id"),
            "total_qty": st.num(total),
            "email_sent": 0, "send_email": int(notify),
            "created_at": created, "updated_at": created,
            "items": ship_items,
            "tracks": [],
            "comments": _new_doc_comment(ctx, "shipment_comment", shipment_id, comment, notify),
            "packages": ctx.param("packages", required_param=False) or [],
        }
        for t in tracks:
            shipment["tracks"].append(_new_track(ctx, shipment, t, created))
        store.put("shipment", shipment_id, shipment)
        st.apply_resolved_state(order, in_progress=True)
        order["updated_at"] = created
        store.put("order", order["entity_id"], order)
    return shipment_id


def _new_track(ctx: Ctx, shipment: dict[str, Any], t: dict[str, Any], created: str) -> dict[str, Any]:
    track = {
        "entity_id": ctx.twin.store.sequence("shipment_track"),
        "order_id": shipment["order_id"],
        "parent_id": shipment["entity_id"],
        "track_number": None if t.get("track_number") is None else str(t["track_number"]),
        "title": t.get("title"),
        "carrier_code": t.get("carrier_code"),
        "description": t.get("description"),
        "weight": t.get("weight"),
        "qty": t.get("qty"),
        "created_at": created,
        "updated_at": created,
    }
    return track


# --- credit memo ----------------------------------------------------------------------------------------

def _refund(ctx: Ctx, order: dict[str, Any], invoice: dict[str, Any] | None) -> int:
    store = ctx.twin.store
    requested = _requested_items(ctx)
    comment = _comment(ctx)
    args = _arguments(ctx)
    notify = bool(ctx.param("notify", required_param=False))
    items = _items_by_id(order)
    limits: dict[int, Decimal] | None = None
    if invoice is not None:
        limits = {}
        for ii in invoice.get("items", []):
            limits[ii["order_item_id"]] = limits.get(ii["order_item_id"], Decimal(0)) + D(ii.get("qty"))
        for memo in store.scan("creditmemo"):
            if memo.get("invoice_id") == invoice["entity_id"]:
                for mi in memo.get("items", []):
                    limits[mi["order_item_id"]] = limits.get(mi["order_item_id"], Decimal(0)) - D(mi.get("qty"))
    if requested is None:
        qtys = {}
        for item_id, item in items.items():
            q = st.qty_to_refund(item)
            if limits is not None:
                q = min(q, max(limits.get(item_id, Decimal(0)), Decimal(0)))
            if q > 0:
                qtys[item_id] = q
    else:
        qtys = requested

    messages: list[str] = []
    if order.get("state") in (st.PAYMENT_REVIEW, st.HOLDED, st.CANCELED, st.CLOSED):
        messages.append(f"A creditmemo can not be created when an order has a status of {order.get('status')}")
    elif abs(D(order.get("total_paid")) - D(order.get("total_refunded"))) < Decimal("0.0001"):
        messages.append("The order does not allow a creditmemo to be created.")
    if invoice is not None and (invoice.get("state") != INVOICE_STATE_PAID or abs(
            D(invoice.get("base_grand_total")) - D(invoice.get("base_total_refunded"))) < Decimal("0.0001")):
        messages.append("We can't create creditmemo for the invoice.")
    total_qty = Decimal(0)
    subtotal = base_subtotal = tax = base_tax = disc = base_disc = Decimal(0)
    for item_id, qty in qtys.items():
        item = items.get(item_id)
        if item is None:
            messages.append('The creditmemo contains product SKU "" that is not part of the original order.')
            continue
        limit_ok = limits is None or limits.get(item_id, Decimal(0)) >= qty
        if qty > st.qty_to_refund(item) or not limit_ok:
            messages.append(
                f'The quantity to creditmemo must not be greater than the unrefunded quantity for product SKU '
                f'"{item.get("sku")}".'
            )
            continue
        total_qty += qty
        r = _ratio(qty, D(item.get("qty_ordered")))
        subtotal += D(item.get("price")) * qty
        base_subtotal += D(item.get("base_price")) * qty
        tax += D(item.get("tax_amount")) * r
        base_tax += D(item.get("base_tax_amount")) * r
        disc += abs(D(item.get("discount_amount"))) * r
        base_disc += abs(D(item.get("base_discount_amount"))) * r

    allowed_shipping = D(order.get("base_shipping_invoiced")) - D(order.get("base_shipping_refunded"))
    if args.get("shipping_amount") is not None:
        shipping = D(args["shipping_amount"])
        if shipping - allowed_shipping > Decimal("0.0001"):
            raise MagentoError("Maximum shipping amount allowed to refund is: %1", 400, [f"{allowed_shipping:.2f}"])
    else:
        shipping = allowed_shipping
    # Magento's creditmemo Tax and Discount collectors add the shipping tax and the shipping discount in
    # proportion to the shipping refunded, as the invoice carried them.
    order_shipping = D(order.get("base_shipping_amount"))
    if shipping > 0 and order_shipping > 0:
        share = shipping / order_shipping
        tax += D(order.get("shipping_tax_amount")) * share
        base_tax += D(order.get("base_shipping_tax_amount")) * share
        disc += abs(D(order.get("shipping_discount_amount"))) * share
        base_disc += abs(D(order.get("base_shipping_discount_amount"))) * share
    adj_pos = D(args.get("adjustment_positive"))
    adj_neg = D(args.get("adjustment_negative"))
    grand = subtotal + tax + shipping - disc + adj_pos - adj_neg
    if grand <= 0:
        messages.append("The credit memo's total must be positive.")
    elif total_qty <= 0 and abs(D(order.get("shipping_amount")) - D(order.get("shipping_refunded"))) < EPS:
        messages.append("You can't create a creditmemo without products.")
    if not messages and D(order.get("base_total_refunded")) + grand > D(order.get("base_total_paid")) + EPS:
        available = D(order.get("base_total_paid")) - D(order.get("base_total_refunded"))
        messages.append(f"The most money available to refund is {st.money(available)}.")
    if messages:
        raise _doc_error("Creditmemo", messages)

    memo_id = store.sequence("creditmemo")
    created = now()
    memo_items = []
    for item_id, qty in qtys.items():
        if qty <= 0:
            continue
        item = items[item_id]
        r = _ratio(qty, D(item.get("qty_ordered")))
        row_total = D(item.get("price")) * qty
        memo_items.append({
            "entity_id": store.sequence("creditmemo_item"), "parent_id": memo_id, "order_item_id": item_id,
            "sku": item.get("sku"), "name": item.get("name"), "product_id": item.get("product_id"),
            "qty": st.num(qty), "price": item.get("price"), "base_price": item.get("base_price"),
            "row_total": st.money(row_total), "base_row_total": st.money(D(item.get("base_price")) * qty),
            "tax_amount": st.money(D(item.get("tax_amount")) * r),
            "discount_amount": st.money(abs(D(item.get("discount_amount"))) * r),
        })
        item["qty_refunded"] = st.num(D(item.get("qty_refunded")) + qty)
        _add_money(item, "amount_refunded", row_total)
        _add_money(item, "base_amount_refunded", D(item.get("base_price")) * qty)
    ext_args = args.get("extension_attributes") if isinstance(args.get("extension_attributes"), dict) else {}
    memo = {
        "entity_id": memo_id,
        "increment_id": increment_id(store, "creditmemo", order.get("store_id") or 1),
        "order_id": order["entity_id"],
        "invoice_id": invoice["entity_id"] if invoice else None,
        "store_id": order.get("store_id"),
        "state": CREDITMEMO_STATE_REFUNDED,
        "creditmemo_status": None,
        "billing_address_id": order.get("billing_address_id"),
        "shipping_address_id": order.get("shipping_address_id"),
        "order_currency_code": order.get("order_currency_code"),
        "base_currency_code": order.get("base_currency_code"),
        "subtotal": st.money(subtotal), "base_subtotal": st.money(base_subtotal),
        "tax_amount": st.money(tax), "base_tax_amount": st.money(base_tax),
        "discount_amount": st.money(-disc), "base_discount_amount": st.money(-base_disc),
        "shipping_amount": st.money(shipping), "base_shipping_amount": st.money(shipping),
        "adjustment_positive": st.money(adj_pos), "base_adjustment_positive": st.money(adj_pos),
        "adjustment_negative": st.money(adj_neg), "base_adjustment_negative": st.money(adj_neg),
        "adjustment": st.money(adj_pos - adj_neg), "base_adjustment": st.money(adj_pos - adj_neg),
        "grand_total": st.money(grand), "base_grand_total": st.money(grand),
        "email_sent": 0, "send_email": int(notify),
        "created_at": created, "updated_at": created,
        "items": memo_items,
        "comments": _new_doc_comment(ctx, "creditmemo_comment", memo_id, comment, notify),
        "extension_attributes": {k: v for k, v in ext_args.items()},
    }
    store.put("creditmemo", memo_id, memo)
    for prefix in ("", "base_"):
        _add_money(order, f"{prefix}total_refunded", grand)
        _add_money(order, f"{prefix}total_offline_refunded", grand)
        _add_money(order, f"{prefix}subtotal_refunded", subtotal if not prefix else base_subtotal)
        _add_money(order, f"{prefix}tax_refunded", tax if not prefix else base_tax)
        _add_money(order, f"{prefix}discount_refunded", -(disc if not prefix else base_disc))
        _add_money(order, f"{prefix}shipping_refunded", shipping)
        _add_money(order, f"{prefix}adjustment_positive", adj_pos)
        _add_money(order, f"{prefix}adjustment_negative", adj_neg)
    if order.get("payment"):
        _add_money(order["payment"], "amount_refunded", grand)
        _add_money(order["payment"], "base_amount_refunded", grand)
    if invoice is not None:
        _add_money(invoice, "base_total_refunded", grand)
        store.put("invoice", invoice["entity_id"], invoice)
    _return_to_stock(ctx, ext_args.get("return_to_stock_items"), qtys, items)
    st.apply_resolved_state(order)
    order["updated_at"] = created
    store.put("order", order["entity_id"], order)
    return memo_id


def _return_to_stock(ctx: Ctx, item_ids: Any, qtys: dict[int, Decimal], items: dict[int, dict[str, Any]]) -> None:
    """`arguments.extension_attributes.return_to_stock_items`: put the refunded qty back in the default source."""
    if not isinstance(item_ids, list):
        return
    store = ctx.twin.store
    for raw in item_ids:
        try:
            item_id = int(raw)
        except (TypeError, ValueError):
            continue
        if item_id not in qtys or item_id not in items:
            continue
        sku = items[item_id].get("sku")
        key = f"default|{sku}"
        source = store.get("source_item", key)
        if source is None:
            continue
        source["quantity"] = float(D(source.get("quantity")) + qtys[item_id])
        store.put("source_item", key, source)
        legacy = store.get("stock_item", sku)
        if legacy is not None:
            legacy["qty"] = source["quantity"]
            store.put("stock_item", sku, legacy)


def refund_order(ctx: Ctx, order_id: str) -> int:
    with ctx.twin.store.transaction():
        return _refund(ctx, load_order(ctx, order_id), None)


def refund_invoice(ctx: Ctx, invoice_id: str) -> int:
    store = ctx.twin.store
    with store.transaction():
        invoice = store.get("invoice", parse_id(invoice_id, "invoiceId"))
        if invoice is None:
            raise not_found()
        order = store.get("order", invoice["order_id"])
        if order is None:
            raise not_found()
        return _refund(ctx, order, invoice)


# --- routes ---------------------------------------------------------------------------------------------

def _listing(kind: str, default_sort: str = "entity_id"):
    def handler(ctx: Ctx) -> Any:
        sc = scm.parse(ctx.args)
        page, total = scm.apply(ctx.twin.store.scan(kind), sc, default_sort=default_sort)
        return scm.result([strip_nulls(copy.deepcopy(d)) for d in page], sc, total)

    return handler


def _getter(kind: str):
    def handler(ctx: Ctx, id: str) -> Any:
        doc = ctx.twin.store.get(kind, parse_id(id, "id"))
        if doc is None:
            raise not_found()
        return strip_nulls(doc)

    return handler


def register(router: Router) -> None:
    router.add("POST", "/V1/order/:orderId/invoice", "Magento_Sales::invoice")(
        lambda ctx, orderId: invoice_order(ctx, orderId))
    router.add("POST", "/V1/order/:orderId/ship", "Magento_Sales::ship")(lambda ctx, orderId: ship_order(ctx, orderId))
    router.add("POST", "/V1/order/:orderId/refund", "Magento_Sales::creditmemo")(
        lambda ctx, orderId: refund_order(ctx, orderId))
    router.add("POST", "/V1/invoice/:invoiceId/refund", "Magento_Sales::sales_invoice")(
        lambda ctx, invoiceId: refund_invoice(ctx, invoiceId))
    router.add("GET", "/V1/invoices", "Magento_Sales::sales_invoice")(_listing("invoice"))
    router.add("GET", "/V1/invoices/:id", "Magento_Sales::sales_invoice")(_getter("invoice"))
    router.add("GET", "/V1/shipments", "Magento_Sales::shipment")(_listing("shipment"))
    router.add("GET", "/V1/shipment/:id", "Magento_Sales::shipment")(_getter("shipment"))
    router.add("GET", "/V1/creditmemos", "Magento_Sales::sales_creditmemo")(_listing("creditmemo"))
    router.add("GET", "/V1/creditmemo/:id", "Magento_Sales::sales_creditmemo")(_getter("creditmemo"))

    @router.add("POST", "/V1/creditmemo/refund", "Magento_Sales::sales_creditmemo")
    def creditmemo_refund(ctx: Ctx) -> Any:
        """CreditmemoManagement::refund: a credit memo object in, the saved credit memo out (offline)."""
        memo = ctx.obj("creditmemo")
        if memo.get("order_id") is None:
            raise MagentoError('"%fieldName" is required. Enter and try again.', 400, {"fieldName": "order_id"})
        raw_items = memo.get("items") or []
        if not isinstance(raw_items, list):
            raise type_error("items", raw_items, "array")
        items = [{"order_item_id": i.get("order_item_id"), "qty": i.get("qty")} for i in raw_items
                 if isinstance(i, dict)]
        arguments = {k: memo[k] for k in ("shipping_amount", "adjustment_positive", "adjustment_negative")
                     if memo.get(k) is not None}
        body: dict[str, Any] = {"arguments": arguments}
        if items:
            body["items"] = items
        inner = Ctx(ctx.twin, ctx.method, ctx.store_view, ctx.args, b"", "", body)
        store = ctx.twin.store
        with store.transaction():
            order = load_order(ctx, str(memo["order_id"]))
            invoice = None
            if memo.get("invoice_id") is not None:
                invoice = store.get("invoice", parse_id(memo["invoice_id"], "invoice_id"))
                if invoice is None:
                    raise not_found()
            memo_id = _refund(inner, order, invoice)
        return strip_nulls(store.get("creditmemo", memo_id))

    @router.add("POST", "/V1/shipment/track", "Magento_Sales::shipment")
    def add_track(ctx: Ctx) -> Any:
        entity = ctx.obj("entity")
        store = ctx.twin.store
        with store.transaction():
            parent = entity.get("parent_id")
            try:
                shipment = store.get("shipment", int(parent)) if parent is not None else None
            except (TypeError, ValueError) as exc:
                raise type_error("parent_id", parent, "int") from exc
            if shipment is None:
                raise MagentoError("Could not save the shipment tracking.", 400)
            if not entity.get("track_number"):
                raise MagentoError("Please enter a tracking number.", 400)
            track = _new_track(ctx, shipment, entity, now())
            if entity.get("order_id") is not None:
                track["order_id"] = entity["order_id"]
            shipment["tracks"].append(track)
            store.put("shipment", shipment["entity_id"], shipment)
        return strip_nulls(track)

    @router.add("DELETE", "/V1/shipment/track/:id", "Magento_Sales::shipment")
    def delete_track(ctx: Ctx, id: str) -> Any:
        track_id = parse_id(id, "id")
        store = ctx.twin.store
        with store.transaction():
            for s in store.scan("shipment"):
                if any(t.get("entity_id") == track_id for t in s.get("tracks", [])):
                    doc = store.get("shipment", s["entity_id"])
                    doc["tracks"] = [t for t in doc["tracks"] if t.get("entity_id") != track_id]
                    store.put("shipment", doc["entity_id"], doc)
                    return True
        raise MagentoError("Could not delete the shipment tracking.", 400)
