"""The admin order view page: Payment & Shipping Method, items, totals and the comments history.

Comments are escaped like `Magento\\Sales\\Helper\\Admin::escapeHtmlWithLinks()`: only b, br, strong, i, u
and a survive; an `a` keeps nothing but an http(s) href (anything else becomes "#"), everything else is
shown as text. A merchant clicks the links in these comments, so they must stay links.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from .payments import method_title
from .state import STATUS_LABELS

ALLOWED = ("b", "br", "strong", "i", "u", "a")
_TAG = re.compile(r"<\s*(/?)\s*(b|br|strong|i|u|a)\b([^<>]*)>", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def _filter_url(url: str) -> str:
    scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
    return url if scheme in ("http", "https") else "#"


def escape_comment(text: str | None) -> str:
    """Magento's escapeHtmlWithLinks with its default allowed tags."""
    if not text:
        return ""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _TAG.finditer(text):
        out.append(html.escape(text[pos:m.start()], quote=False))
        pos = m.end()
        closing, tag, attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if tag == "br":
            out.append("<br/>")
        elif closing:
            if tag in stack:
                while stack:
                    top = stack.pop()
                    out.append(f"</{top}>")
                    if top == tag:
                        break
        elif tag == "a":
            h = _HREF.search(attrs)
            href = _filter_url(html.unescape(next(g for g in h.groups() if g is not None))) if h else "#"
            out.append(f'<a href="{html.escape(href, quote=True)}">')
            stack.append("a")
        else:
            out.append(f"<{tag}>")
            stack.append(tag)
    out.append(html.escape(text[pos:], quote=False))
    out.extend(f"</{t}>" for t in reversed(stack))
    return "".join(out)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _money(value: Any, currency: str | None) -> str:
    try:
        amount = float(value or 0)
    except (TypeError, ValueError):
        amount = 0.0
    symbol = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥"}.get(currency or "", "")
    return _e(f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency or ''}".strip())


def _when(created: str | None) -> tuple[str, str]:
    try:
        d = datetime.strptime(created or "", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return (created or "", "")
    return (d.strftime("%b %d, %Y").replace(" 0", " "), d.strftime("%I:%M:%S %p").lstrip("0"))


def _payment_block(order: dict[str, Any]) -> str:
    payment = order.get("payment") or {}
    code = payment.get("method")
    parts = [f'<div class="order-payment-method-name">{_e(method_title(code))}</div>']
    if code == "purchaseorder":
        parts.append(
            '<table class="data-table admin__table-secondary"><tr><th>Purchase Order Number:</th>'
            f'<td class="purchase-order-number">{_e(payment.get("po_number"))}</td></tr></table>'
        )
    info = [v for v in payment.get("additional_information") or [] if v not in (None, "")]
    if info:
        rows = "".join(f"<li>{_e(v)}</li>" for v in info)
        parts.append(f'<ul class="order-payment-additional-information">{rows}</ul>')
    currency = _e(order.get("order_currency_code"))
    parts.append(f'<div class="order-payment-currency">The order was placed using {currency}.</div>')
    return "".join(parts)


def _shipping_block(order: dict[str, Any]) -> str:
    if order.get("is_virtual"):
        return "<div>No shipping information available</div>"
    desc = order.get("shipping_description") or order.get("shipping_method") or ""
    return (f'<div class="order-shipping-method"><strong class="shipping-description">{_e(desc)}</strong> '
            f'<span class="price">{_money(order.get("shipping_amount"), order.get("order_currency_code"))}</span>'
            f'<div class="shipping-method-code">{_e(order.get("shipping_method"))}</div></div>')


def _address_block(address: dict[str, Any] | None) -> str:
    if not address:
        return "<address></address>"
    name = " ".join(str(address.get(k)) for k in ("firstname", "lastname") if address.get(k))
    street = "<br/>".join(_e(s) for s in address.get("street") or [])
    lines = [_e(name), _e(address.get("company")) if address.get("company") else "", street,
             ", ".join(_e(address.get(k)) for k in ("city", "region", "postcode") if address.get(k)),
             _e(address.get("country_id")), f"T: {_e(address.get('telephone'))}" if address.get("telephone") else ""]
    return "<address>" + "<br/>".join(line for line in lines if line) + "</address>"


def _items_block(order: dict[str, Any]) -> str:
    cur = order.get("order_currency_code")
    rows = []
    for i in order.get("items", []):
        if i.get("parent_item_id"):
            continue
        rows.append(
            f'<tr><td class="col-product"><div class="product-title">{_e(i.get("name"))}</div>'
            f'<div class="product-sku-block"><span>SKU:</span> {_e(i.get("sku"))}</div></td>'
            f'<td class="col-price">{_money(i.get("price"), cur)}</td>'
            f'<td class="col-ordered-qty">Ordered {_e(i.get("qty_ordered"))}<br/>Invoiced {_e(i.get("qty_invoiced"))}'
            f'<br/>Shipped {_e(i.get("qty_shipped"))}<br/>Refunded {_e(i.get("qty_refunded"))}'
            f'<br/>Canceled {_e(i.get("qty_canceled"))}</td>'
            f'<td class="col-subtotal">{_money(i.get("row_total"), cur)}</td></tr>'
        )
    return ('<table class="edit-order-table"><thead><tr><th>Product</th><th>Price</th><th>Qty</th><th>Subtotal</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _totals_block(order: dict[str, Any]) -> str:
    cur = order.get("order_currency_code")
    rows = [("Subtotal", order.get("subtotal")), ("Shipping &amp; Handling", order.get("shipping_amount")),
            ("Tax", order.get("tax_amount")), ("Grand Total", order.get("grand_total")),
            ("Total Paid", order.get("total_paid")), ("Total Refunded", order.get("total_refunded")),
            ("Total Due", order.get("total_due", order.get("grand_total")))]
    body = "".join(f'<tr><td class="label">{label}</td><td>{_money(v, cur)}</td></tr>' for label, v in rows)
    return f'<table class="data-table admin__table-secondary order-subtotal-table"><tbody>{body}</tbody></table>'


def _history_block(order: dict[str, Any]) -> str:
    entries = sorted(order.get("status_histories") or [],
                     key=lambda h: (h.get("created_at") or "", h.get("entity_id") or 0), reverse=True)
    items = []
    for h in entries:
        day, time = _when(h.get("created_at"))
        flag = h.get("is_customer_notified")
        notified = ('<span class="note-list-customer-notapplicable">Notification Not Applicable</span>' if flag is None
                    else '<span class="note-list-customer-notified">Notified</span>' if flag
                    else '<span class="note-list-customer-not-notified">Not Notified</span>')
        status = STATUS_LABELS.get(h.get("status") or "", h.get("status") or "")
        items.append(
            f'<li class="note-list-item"><span class="note-list-date">{_e(day)}</span> '
            f'<span class="note-list-time">{_e(time)}</span> <span class="note-list-status">{_e(status)}</span> '
            f'<span class="note-list-customer">Customer {notified}</span>'
            f'<div class="note-list-comment">{escape_comment(h.get("comment"))}</div></li>'
        )
    return f'<ul class="note-list">{"".join(items)}</ul>'


def _gift_block(order: dict[str, Any]) -> str:
    """Magento's "Gift Options" section, shown only when the order has a gift message."""
    gift = (order.get("extension_attributes") or {}).get("gift_message")
    if not isinstance(gift, dict):
        return ""
    return (
        '<section class="admin__page-section order-gift-options">'
        '<div class="admin__page-section-title"><span class="title">Gift Options</span></div>'
        f'<table class="gift-message"><tr><th>From</th><td>{_e(gift.get("sender"))}</td></tr>'
        f'<tr><th>To</th><td>{_e(gift.get("recipient"))}</td></tr>'
        f'<tr><th>Message</th><td>{_e(gift.get("message"))}</td></tr></table></section>\n'
    )


def order_view(order: dict[str, Any]) -> str:
    status = STATUS_LABELS.get(order.get("status") or "", order.get("status") or "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>#{_e(order.get("increment_id"))} / Orders / Sales / Magento Admin</title></head>
<body class="sales-order-view">
<h1 class="page-title">#{_e(order.get("increment_id"))}</h1>
<section class="admin__page-section order-view-account-information">
<div class="admin__page-section-title"><span class="title">Order &amp; Account Information</span></div>
<table class="admin__table-secondary order-information-table">
<tr><th>Order Date</th><td>{_e(order.get("created_at"))}</td></tr>
<tr><th>Order Status</th><td><span id="order_status">{_e(status)}</span></td></tr>
<tr><th>Purchased From</th><td>{_e(order.get("store_name"))}</td></tr>
<tr><th>Customer Name</th><td>{_e(order.get("customer_firstname"))} {_e(order.get("customer_lastname"))}</td></tr>
<tr><th>Email</th><td>{_e(order.get("customer_email"))}</td></tr>
</table></section>
<section class="admin__page-section order-addresses">
<div class="admin__page-section-title"><span class="title">Address Information</span></div>
<div class="admin__page-section-item order-billing-address">
<div class="admin__page-section-item-title"><span class="title">Billing Address</span></div>
{_address_block(order.get("billing_address"))}</div>
<div class="admin__page-section-item order-shipping-address">
<div class="admin__page-section-item-title"><span class="title">Shipping Address</span></div>
{_address_block(order.get("_shipping_address"))}</div>
</section>
<section class="admin__page-section order-view-billing-shipping">
<div class="admin__page-section-title"><span class="title">Payment &amp; Shipping Method</span></div>
<div class="admin__page-section-item order-payment-method">
<div class="admin__page-section-item-title"><span class="title">Payment Information</span></div>
<div class="admin__page-section-item-content">{_payment_block(order)}</div></div>
<div class="admin__page-section-item order-shipping-method">
<div class="admin__page-section-item-title"><span class="title">Shipping &amp; Handling Information</span></div>
<div class="admin__page-section-item-content">{_shipping_block(order)}</div></div>
</section>
{_gift_block(order)}<section class="admin__page-section">
<div class="admin__page-section-title"><span class="title">Items Ordered</span></div>
{_items_block(order)}</section>
<section class="admin__page-section order-view-comments-history">
<div class="admin__page-section-title"><span class="title">Comments History</span></div>
{_history_block(order)}</section>
<section class="admin__page-section order-totals">
<div class="admin__page-section-title"><span class="title">Order Totals</span></div>
{_totals_block(order)}</section>
</body></html>"""
