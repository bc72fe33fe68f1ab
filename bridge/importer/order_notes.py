"""What Amazon says about an order beyond its lines and totals, for the people who work the order.

Tax that Amazon collects and remits, the business buyer's registrations and purchase order, gift messages
and wrapping, the ship-by and deliver-by windows, Prime/Premium and replacements. One reading
(`order_facts`) serves both the Commerce order's comment (`facts_comment`) and the Amazon Order Details
page, so the two never disagree; only what Amazon sent is listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape

from bridge.domain import ZERO, AmazonOrder, TaxRegistration
from bridge.order_settings import AmazonCollectedTax

COMMENT_TITLE = "Amazon order details"


@dataclass(frozen=True, slots=True)
class CollectedTax:
    """Tax Amazon collected and remits, summed per remitting party and scheme."""

    scheme: str  # "Marketplace facilitator", "UK VOEC", "EU IOSS", ...
    responsible_party: str | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class GiftLine:
    item: str  # title (seller SKU)
    message: str | None
    wrap_level: str | None


@dataclass(frozen=True, slots=True)
class OrderFacts:
    currency: str
    collected_tax: tuple[CollectedTax, ...] = ()
    buyer_company: str | None = None
    tax_registrations: tuple[TaxRegistration, ...] = ()
    purchase_order_number: str | None = None
    invoice_preference: str | None = None
    gifts: tuple[GiftLine, ...] = ()
    ship_by: tuple[datetime | None, datetime | None] = (None, None)
    deliver_by: tuple[datetime | None, datetime | None] = (None, None)
    is_prime: bool = False
    is_premium: bool = False
    is_business: bool = False
    replaced_order_id: str | None = None
    is_replacement: bool = False

    @property
    def collected_tax_total(self) -> Decimal:
        return sum((t.amount for t in self.collected_tax), ZERO)

    @property
    def ship_by_text(self) -> str | None:
        return window(self.ship_by)

    @property
    def deliver_by_text(self) -> str | None:
        return window(self.deliver_by)

    @property
    def registration_lines(self) -> list[str]:
        return [registration_text(r) for r in self.tax_registrations]

    @property
    def gift_message(self) -> str | None:
        """The buyer's gift messages as one text (Magento keeps one message per order)."""
        messages = list(dict.fromkeys(g.message for g in self.gifts if g.message))
        return "\n\n".join(messages) if messages else None


def order_facts(order: AmazonOrder) -> OrderFacts:
    country = order.shipping_address.country_code if order.shipping_address else None
    country = country or _marketplace_country(order.marketplace_id)
    collected: dict[tuple[str, str | None], Decimal] = {}
    for item in order.items:
        if item.tax_collection is None or not item.tax_collection.by_marketplace:
            continue
        key = (item.tax_collection.scheme_label(country), item.tax_collection.responsible_party)
        collected[key] = collected.get(key, ZERO) + item.facilitator_tax
    gifts = tuple(
        GiftLine(item=f"{item.title} ({item.seller_sku})", message=item.gift_message, wrap_level=item.gift_wrap_level)
        for item in order.gift_items
    )
    return OrderFacts(
        currency=order.currency,
        collected_tax=tuple(CollectedTax(scheme, party, amount) for (scheme, party), amount in collected.items()),
        buyer_company=order.buyer_company,
        tax_registrations=tuple(t for t in order.tax_registrations if t.number or t.legal_name),
        purchase_order_number=order.buyer_purchase_order_number,
        invoice_preference=order.buyer_invoice_preference,
        gifts=gifts,
        ship_by=(order.earliest_ship_date, order.latest_ship_date),
        deliver_by=(order.earliest_delivery_date, order.latest_delivery_date),
        is_prime=order.is_prime,
        is_premium=order.is_premium,
        is_business=order.is_business,
        replaced_order_id=order.replaced_order_id,
        is_replacement=order.is_replacement,
    )


def _marketplace_country(marketplace_id: str | None) -> str | None:
    from bridge.importer.order_builder import MARKETPLACE_COUNTRY

    return MARKETPLACE_COUNTRY.get(marketplace_id or "")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def window(pair: tuple[datetime | None, datetime | None]) -> str | None:
    start, end = pair
    if start and end:
        return f"{_when(start)} to {_when(end)}"
    if end:
        return f"by {_when(end)}"
    if start:
        return f"from {_when(start)}"
    return None


def registration_text(reg: TaxRegistration) -> str:
    parts = [p for p in (reg.registration_type, reg.number) if p]
    text = " ".join(parts)
    extras = [p for p in (reg.legal_name, f"tax office {reg.tax_office}" if reg.tax_office else None) if p]
    if extras:
        text = f"{text} ({', '.join(extras)})" if text else ", ".join(extras)
    owner = (reg.entity_type or "").capitalize()
    return f"{owner}: {text}" if owner else text


def facts_comment(
    facts: OrderFacts,
    mode: AmazonCollectedTax,
    *,
    gift_message_on_order: bool = False,
    replaced_commerce_order: str | None = None,
) -> str | None:
    """The Commerce order comment (b/br only, every value escaped); None when there is nothing to say."""
    lines: list[str] = []

    def add(label: str, value: str | None) -> None:
        if value:
            lines.append(f"<b>{escape(label)}:</b> {escape(value)}")

    for tax in facts.collected_tax:
        who = tax.responsible_party or "Amazon"
        booked = "excluded from the order totals" if mode is AmazonCollectedTax.EXCLUDE else (
            "included in the order tax"
        )
        add("Tax collected by Amazon", f"{tax.amount} {facts.currency} ({tax.scheme}), remitted by {who}; {booked}")
    if facts.replaced_order_id or facts.is_replacement:
        text = f"Amazon order {facts.replaced_order_id}" if facts.replaced_order_id else "an earlier Amazon order"
        if replaced_commerce_order:
            text += f" (Commerce order #{replaced_commerce_order})"
        add("Replacement for", text)
    if facts.is_business:
        lines.append("<b>Amazon Business order</b>")
    add("Buyer company", facts.buyer_company)
    for reg in facts.tax_registrations:
        if (reg.entity_type or "BUYER").upper() == "BUYER":  # the merchant's and Amazon's own: details page
            add("Tax registration", registration_text(reg))
    add("Buyer purchase order number", facts.purchase_order_number)
    add("Invoice preference", facts.invoice_preference)
    add("Ship by", window(facts.ship_by))
    add("Deliver by", window(facts.deliver_by))
    service = [name for name, flag in (("Prime", facts.is_prime), ("Premium shipping", facts.is_premium)) if flag]
    add("Shipping program", ", ".join(service))
    for gift in facts.gifts:
        if gift.message and not gift_message_on_order:
            add(f"Gift message for {gift.item}", gift.message)
        add(f"Gift wrap for {gift.item}", gift.wrap_level)
    if gift_message_on_order and facts.gift_message:
        lines.append("<b>Gift message:</b> saved as the gift message of this order")
    if not lines:
        return None
    return f"<b>{COMMENT_TITLE}</b><br>" + "<br>".join(lines)
