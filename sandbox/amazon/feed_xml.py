"""Amazon's XML feeds: parse an AmazonEnvelope safely, apply order acknowledgements and payment
adjustments to the twin's orders, and write the XML processing report.

Parsing uses the stdlib with DTDs and entities refused up front (no lxml, no defusedxml): a document
declaring either is rejected as a fatal XML error, so no entity is ever expanded.

Result message codes follow Amazon's processing reports where known (5001 for an XML parsing fatal
error); the codes for data errors (18028 unknown order/item, 18040 order state) are the twin's.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - DTDs/entities are rejected before parsing
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from . import lifecycle
from .clock import iso
from .money import amount
from .store import TwinState

CANCEL_REASONS = {"NoInventory", "ShippingAddressUndeliverable", "CustomerExchange", "BuyerCanceled",
                  "GeneralAdjustment", "CarrierCreditDecision", "RiskAssessmentInformationNotValid",
                  "CarrierCoverageFailure", "CustomerReturn", "MerchandiseNotReceived", "PricingError"}
ADJUSTMENT_REASONS = {"NoInventory", "CustomerReturn", "GeneralAdjustment", "CouldNotShip", "DifferentItem",
                      "Abandoned", "CustomerCancel", "PriceError", "ProductOutofStock",
                      "CustomerAddressIncorrect", "Exchange", "Other", "CarrierCreditDecision",
                      "RiskAssessmentInformationNotValid", "CarrierCoverageFailure", "TransactionRecord",
                      "Undeliverable", "RefusedDelivery"}
COMPONENT_TYPES = {"Principal", "Shipping", "CODFee", "Tax", "ShippingTax", "RestockingFee",
                   "RestockingFeeTax", "GiftWrap", "GiftWrapTax", "Surcharge", "ReturnShipping", "Goodwill",
                   "ExportCharge", "COD", "CODTax", "Other", "FreeReplacementReturnShipping"}
ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

FEED_MESSAGE_TYPES = {"POST_ORDER_ACKNOWLEDGEMENT_DATA": "OrderAcknowledgement",
                      "POST_PAYMENT_ADJUSTMENT_DATA": "OrderAdjustment"}


class FeedRejected(Exception):
    """The whole document is unusable: the feed ends FATAL."""

    def __init__(self, description: str, code: int = 5001):
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class Result:
    message_id: str
    description: str
    message_code: int = 18028
    result_code: str = "Error"
    additional: dict[str, str] = field(default_factory=dict)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _strip_namespaces(root: ET.Element) -> None:
    for el in root.iter():
        el.tag = _local(el.tag)


def _text(el: ET.Element | None, name: str) -> str | None:
    child = el.find(name) if el is not None else None
    if child is None or child.text is None:
        return None
    return child.text.strip()


def parse_envelope(data: bytes | None, message_type: str) -> tuple[str | None, list[ET.Element]]:
    """(MerchantIdentifier, Message elements) of an AmazonEnvelope of `message_type`."""
    if not data or not data.strip():
        raise FeedRejected("XML Parsing Fatal Error at Line 1, Column 1: Premature end of file.")
    if _FORBIDDEN.search(data):
        raise FeedRejected("XML Parsing Fatal Error: DOCTYPE and ENTITY declarations are not allowed.")
    try:
        root = ET.fromstring(data)  # noqa: S314 - DTDs/entities rejected above
    except ET.ParseError as exc:
        line, column = exc.position
        raise FeedRejected(f"XML Parsing Fatal Error at Line {line}, Column {column + 1}: {exc.msg}.") from exc
    _strip_namespaces(root)
    if root.tag != "AmazonEnvelope":
        raise FeedRejected(f"XML Parsing Error: the root element must be AmazonEnvelope, not {root.tag}.",
                           5000)
    found_type = _text(root, "MessageType")
    if found_type != message_type:
        raise FeedRejected(f"The MessageType {found_type!r} does not match this feed type; expected "
                           f"{message_type}.", 5000)
    return _text(root.find("Header"), "MerchantIdentifier"), root.findall("Message")


# -- order acknowledgement ---------------------------------------------------------------------------

def apply_acknowledgement(state: TwinState, seller_id: str, message_id: str, message: ET.Element,
                          now: datetime) -> Result | None:
    ack = message.find("OrderAcknowledgement")
    if ack is None:
        return Result(message_id, "The Message does not contain an OrderAcknowledgement element.", 5000)
    order_id = _text(ack, "AmazonOrderID") or ""
    code = _text(ack, "StatusCode")
    info = {"AmazonOrderID": order_id}
    if not ORDER_ID.match(order_id):
        return Result(message_id, f"The AmazonOrderID {order_id!r} is invalid.", 5000, additional=info)
    if code not in ("Success", "Failure"):
        return Result(message_id, f"The StatusCode {code!r} is invalid; expected Success or Failure.", 5000,
                      additional=info)
    order = state.find_order(seller_id, order_id)
    if order is None:
        return Result(message_id, f"The order ID {order_id} was not found for this seller.", additional=info)
    items = {i["orderItemId"]: i for i in order["orderItems"]}
    reasons: dict[str, str] = {}
    for el in ack.findall("Item"):
        item_id = _text(el, "AmazonOrderItemCode") or ""
        reason = _text(el, "CancelReason")
        if item_id not in items:
            return Result(message_id, f"The AmazonOrderItemCode {item_id!r} is not part of order {order_id}.",
                          additional=info)
        if reason is not None and reason not in CANCEL_REASONS:
            return Result(message_id, f"The CancelReason {reason!r} is invalid.", 5000, additional=info)
        if reason:
            reasons[item_id] = reason
    status = lifecycle.status(order)
    if code == "Failure":
        if status not in lifecycle.CANCELLABLE:
            return Result(message_id, f"Order {order_id} cannot be cancelled because its status is {status}.",
                          18040, additional=info)
        default = next(iter(reasons.values()), "GeneralAdjustment")
        lifecycle.cancel(order, "MERCHANT", reasons, default, now)
    else:
        if status == "CANCELLED":
            return Result(message_id, f"Order {order_id} is cancelled and cannot be acknowledged.", 18040,
                          additional=info)
        merchant_order_id = _text(ack, "MerchantOrderID")
        aliases = order.setdefault("orderAliases", [])
        if merchant_order_id and not any(a.get("aliasType") == "SELLER_ORDER_ID" and
                                         a.get("aliasId") == merchant_order_id for a in aliases):
            order["orderAliases"] = [a for a in aliases if a.get("aliasType") != "SELLER_ORDER_ID"]
            order["orderAliases"].append({"aliasId": merchant_order_id, "aliasType": "SELLER_ORDER_ID"})
            order["lastUpdatedTime"] = iso(now)
    state.acknowledgements.append({"orderId": order_id, "statusCode": code, "reasons": reasons,
                                   "recordedAt": iso(now)})
    return None


# -- payment adjustment (refunds) ---------------------------------------------------------------------

def _components(parent: ET.Element | None, currency: str, message_id: str,
                info: dict[str, str]) -> list[dict] | Result:
    out: list[dict] = []
    if parent is None:
        return out
    for comp in parent.findall("Component"):
        kind = _text(comp, "Type")
        amount_el = comp.find("Amount")
        if kind not in COMPONENT_TYPES or amount_el is None or amount_el.text is None:
            return Result(message_id, f"Invalid adjustment Component (Type {kind!r}).", 5000, additional=info)
        if amount_el.get("currency") != currency:
            return Result(message_id, f"The currency {amount_el.get('currency')!r} does not match the order "
                                      f"currency {currency}.", 5000, additional=info)
        try:
            value = Decimal(amount_el.text.strip())
        except InvalidOperation:
            return Result(message_id, f"Invalid Amount {amount_el.text!r}.", 5000, additional=info)
        if not value.is_finite():
            return Result(message_id, f"Invalid Amount {amount_el.text!r}.", 5000, additional=info)
        out.append({"type": kind, "amount": str(value), "currency": currency})
    return out


def apply_adjustment(state: TwinState, seller_id: str, feed_id: str, message_id: str, message: ET.Element,
                     now: datetime) -> Result | None:
    adj = message.find("OrderAdjustment")
    if adj is None:
        return Result(message_id, "The Message does not contain an OrderAdjustment element.", 5000)
    order_id = _text(adj, "AmazonOrderID") or ""
    info = {"AmazonOrderID": order_id}
    if not ORDER_ID.match(order_id):
        return Result(message_id, f"The AmazonOrderID {order_id!r} is invalid.", 5000, additional=info)
    order = state.find_order(seller_id, order_id)
    if order is None:
        return Result(message_id, f"The order ID {order_id} was not found for this seller.", additional=info)
    status = lifecycle.status(order)
    if status not in ("SHIPPED", "PARTIALLY_SHIPPED"):
        return Result(message_id, f"Order {order_id} has status {status}; only shipped orders can be "
                                  f"refunded (cancel unshipped orders with an order acknowledgement).", 18040,
                      additional=info)
    currency = order.get("proceeds", {}).get("grandTotal", {}).get("currencyCode", "USD")
    items = {i["orderItemId"]: i for i in order["orderItems"]}
    adjusted = adj.findall("AdjustedItem")
    if not adjusted:
        return Result(message_id, "An OrderAdjustment needs at least one AdjustedItem.", 5000, additional=info)
    records: list[dict] = []
    for el in adjusted:
        item_id = _text(el, "AmazonOrderItemCode") or ""
        reason = _text(el, "AdjustmentReason")
        if item_id not in items:
            return Result(message_id, f"The AmazonOrderItemCode {item_id!r} is not part of order {order_id}.",
                          additional=info)
        if reason not in ADJUSTMENT_REASONS:
            return Result(message_id, f"The AdjustmentReason {reason!r} is invalid.", 5000, additional=info)
        components = _components(el.find("ItemPriceAdjustments"), currency, message_id, info)
        if isinstance(components, Result):
            return components
        promotions = _components(el.find("PromotionAdjustments"), currency, message_id, info)
        if isinstance(promotions, Result):
            return promotions
        if not components:
            return Result(message_id, "ItemPriceAdjustments needs at least one Component.", 5000,
                          additional=info)
        if any(Decimal(c["amount"]) < 0 for c in components):
            return Result(message_id, "Item price adjustment amounts must not be negative.", 5000,
                          additional=info)
        total = sum((Decimal(c["amount"]) for c in components), Decimal("0")) - sum(
            (abs(Decimal(p["amount"])) for p in promotions), Decimal("0"))
        charged = amount(items[item_id].get("proceeds", {}).get("proceedsTotal"))
        already = sum((Decimal(a["total"]) for a in state.adjustments
                       if a["orderId"] == order_id and a["orderItemId"] == item_id), Decimal("0"))
        if charged and already + total > charged:
            return Result(message_id, f"The refund for item {item_id} ({already + total} {currency}) exceeds "
                                      f"the amount charged ({charged} {currency}).", 18040, additional=info)
        quantity = _text(el, "QuantityCancelled")
        records.append({
            "feedId": feed_id, "messageId": message_id, "sellerId": seller_id, "orderId": order_id,
            "orderItemId": item_id, "actionType": _text(adj, "ActionType") or "Refund",
            "adjustmentReason": reason, "merchantAdjustmentItemId": _text(el, "MerchantAdjustmentItemID"),
            "components": components, "promotions": promotions,
            "quantityCancelled": int(quantity) if quantity and quantity.isdigit() else None,
            "total": str(total), "currency": currency, "recordedAt": iso(now),
        })
    state.adjustments.extend(records)
    return None


# -- processing report --------------------------------------------------------------------------------

def processing_report(merchant_id: str, feed_id: str, processed: int, successful: int,
                      results: list[Result]) -> bytes:
    """Amazon's XML processing report (an AmazonEnvelope with one ProcessingReport message)."""
    errors = sum(1 for r in results if r.result_code == "Error")
    warnings = sum(1 for r in results if r.result_code == "Warning")
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">\n',
        "\t<Header>\n\t\t<DocumentVersion>1.02</DocumentVersion>\n",
        f"\t\t<MerchantIdentifier>{escape(merchant_id)}</MerchantIdentifier>\n\t</Header>\n",
        "\t<MessageType>ProcessingReport</MessageType>\n",
        "\t<Message>\n\t\t<MessageID>1</MessageID>\n\t\t<ProcessingReport>\n",
        f"\t\t\t<DocumentTransactionID>{escape(feed_id)}</DocumentTransactionID>\n",
        "\t\t\t<StatusCode>Complete</StatusCode>\n",
        "\t\t\t<ProcessingSummary>\n",
        f"\t\t\t\t<MessagesProcessed>{processed}</MessagesProcessed>\n",
        f"\t\t\t\t<MessagesSuccessful>{successful}</MessagesSuccessful>\n",
        f"\t\t\t\t<MessagesWithError>{errors}</MessagesWithError>\n",
        f"\t\t\t\t<MessagesWithWarning>{warnings}</MessagesWithWarning>\n",
        "\t\t\t</ProcessingSummary>\n",
    ]
    for r in results:
        parts.append("\t\t\t<Result>\n")
        parts.append(f"\t\t\t\t<MessageID>{escape(r.message_id)}</MessageID>\n")
        parts.append(f"\t\t\t\t<ResultCode>{r.result_code}</ResultCode>\n")
        parts.append(f"\t\t\t\t<ResultMessageCode>{r.message_code}</ResultMessageCode>\n")
        parts.append(f"\t\t\t\t<ResultDescription>{escape(r.description)}</ResultDescription>\n")
        if r.additional:
            parts.append("\t\t\t\t<AdditionalInfo>\n")
            for key, value in r.additional.items():
                parts.append(f"\t\t\t\t\t<{key}>{escape(value)}</{key}>\n")
            parts.append("\t\t\t\t</AdditionalInfo>\n")
        parts.append("\t\t\t</Result>\n")
    parts.append("\t\t</ProcessingReport>\n\t</Message>\n</AmazonEnvelope>\n")
    return "".join(parts).encode("utf-8")


def process_document(state: TwinState, seller_id: str, feed_id: str, feed_type: str, data: bytes | None,
                     now: datetime) -> tuple[str, bytes]:
    """Apply a feed document; returns ("DONE" | "FATAL", processing report)."""
    message_type = FEED_MESSAGE_TYPES.get(feed_type)
    if message_type is None:
        report = processing_report(seller_id, feed_id, 0, 0, [Result(
            "0", f"The feed type {feed_type} is not supported by the Amazon twin.", 5000)])
        return "FATAL", report
    try:
        merchant_id, messages = parse_envelope(data, message_type)
    except FeedRejected as exc:
        return "FATAL", processing_report(seller_id, feed_id, 0, 0, [Result("0", exc.description, exc.code)])
    results: list[Result] = []
    successful = 0
    seen: set[str] = set()
    for index, message in enumerate(messages, start=1):
        message_id = _text(message, "MessageID") or str(index)
        if message_id in seen:
            results.append(Result(message_id, f"Duplicate MessageID {message_id}.", 5000))
            continue
        seen.add(message_id)
        if message_type == "OrderAcknowledgement":
            result = apply_acknowledgement(state, seller_id, message_id, message, now)
        else:
            result = apply_adjustment(state, seller_id, feed_id, message_id, message, now)
        if result is None:
            successful += 1
        else:
            results.append(result)
    return "DONE", processing_report(merchant_id or seller_id, feed_id, len(messages), successful, results)
