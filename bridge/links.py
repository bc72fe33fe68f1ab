"""Links between a Commerce order and our admin pages (stable paths: /orders and /orders/<id>).

The importer writes them into the Commerce order's comment history, so a merchant reading the order in
Magento's admin clicks *View or Cancel Amazon Order* or *View all Amazon Orders* and lands on our pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

VIEW_LABEL = "View or Cancel Amazon Order"
LIST_LABEL = "View all Amazon Orders"


@dataclass(frozen=True)
class OrderLinks:
    view_url: str
    list_url: str


def order_links(public_base_url: str, amazon_order_id: str) -> OrderLinks:
    base = public_base_url.rstrip("/")
    return OrderLinks(view_url=f"{base}/orders/{quote(amazon_order_id, safe='')}", list_url=f"{base}/orders")


def order_comment(links: OrderLinks, amazon_order_id: str) -> str:
    """The comment added to the Commerce order: Amazon order number and the two links.

    Only tags Magento's admin keeps in comments (b, br, a) are used; every value is escaped.
    """
    return (
        f"<b>Amazon Order Number:</b> {escape(amazon_order_id)}<br>"
        f'<a href="{escape(links.view_url)}">{VIEW_LABEL}</a><br>'
        f'<a href="{escape(links.list_url)}">{LIST_LABEL}</a>'
    )
