"""XML for the two order feeds the bridge sends, and the processing report Amazon answers with.

Cancels go as `POST_ORDER_ACKNOWLEDGEMENT_DATA` (StatusCode Failure + CancelReason per item) and refunds
as `POST_PAYMENT_ADJUSTMENT_DATA`, because neither Orders API version has a REST operation for them
(sp-api.md §3.1, §3.3). Documents are built with ElementTree, so every value is XML-escaped; money is
formatted from Decimal, never float. Reports are parsed with `defusedxml`, which refuses any DTD, entity
or external reference, so a hostile or broken report cannot expand entities or read files.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_untrusted_xml

from bridge.domain import CANCEL_REASONS
from bridge.errors import BridgeError

ORDER_ACKNOWLEDGEMENT = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
PAYMENT_ADJUSTMENT = "POST_PAYMENT_ADJUSTMENT_DATA"
XML_CONTENT_TYPE = "text/xml; charset=UTF-8"

CANCEL_REASON_CODES = frozenset(code for code, _label in CANCEL_REASONS)

# OrderAdjustment.xsd AdjustmentReason values (sp-api.md §3.3).
ADJUSTMENT_REASONS = frozenset(
    {
        "NoInventory", "CustomerReturn", "GeneralAdjustment", "CouldNotShip", "DifferentItem", "Abandoned",
        "CustomerCancel", "PriceError", "ProductOutofStock", "CustomerAddressIncorrect", "Exchange", "Other",
        "CarrierCreditDecision", "RiskAssessmentInformationNotValid", "CarrierCoverageFailure",
        "TransactionRecord", "Undeliverable", "RefusedDelivery",
    }
)  # fmt: skip

# The same, with the words shown to people ("Customer Return"), in the order the settings page lists them.
ADJUSTMENT_REASON_LABELS: tuple[tuple[str, str], ...] = tuple(
    (code, "".join(" " + ch if ch.isupper() and i else ch for i, ch in enumerate(code)).replace("Outof", "Out Of"))
    for code in (
        "CustomerReturn", "GeneralAdjustment", "NoInventory", "CouldNotShip", "CustomerCancel", "DifferentItem",
        "PriceError", "ProductOutofStock", "CustomerAddressIncorrect", "Exchange", "Abandoned", "Undeliverable",
        "RefusedDelivery", "CarrierCreditDecision", "RiskAssessmentInformationNotValid", "CarrierCoverageFailure",
        "TransactionRecord", "Other",
    )
)  # fmt: skip

# ItemPriceAdjustments Component Type values (OrderAdjustment.xsd); written in this order.
ADJUSTMENT_COMPONENTS = (
    "Principal", "Shipping", "CODFee", "Tax", "ShippingTax", "RestockingFee", "RestockingFeeTax", "GiftWrap",
    "GiftWrapTax", "Surcharge", "ReturnShipping", "Goodwill", "ExportCharge", "COD", "CODTax", "Other",
    "FreeReplacementReturnShipping",
)  # fmt: skip

XSI = "http://www.w3.org/2001/XMLSchema-instance"


class FeedBuildError(BridgeError):
    """The feed cannot be built from the given input (unknown reason code, no items...)."""


class FeedReportError(BridgeError):
    """The processing report is not the XML Amazon documents (or declares a DTD, an entity or an external reference)."""


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Cancel these items of one order (all of the order's items: a partial cancel is an adjustment)."""

    amazon_order_id: str
    order_item_ids: Sequence[str]
    reason: str = "NoInventory"
    merchant_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class ItemAdjustment:
    """A refund for one order item; amounts are positive numbers of money given back to the buyer."""

    order_item_id: str
    reason: str
    components: dict[str, Decimal]  # Principal/Shipping/Tax/... -> amount
    merchant_adjustment_item_id: str | None = None
    quantity_cancelled: int | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    amazon_order_id: str
    currency: str
    items: Sequence[ItemAdjustment]
    action_type: str = "Refund"


@dataclass(frozen=True, slots=True)
class ReportResult:
    """One `<Result>` of a processing report: an error or warning about one message."""

    message_id: int | None
    result_code: str  # Error | Warning
    code: str | None  # ResultMessageCode, e.g. 18028
    description: str
    amazon_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessingReport:
    status_code: str | None
    processed: int
    successful: int
    with_error: int
    with_warning: int = 0
    results: tuple[ReportResult, ...] = field(default=())

    def errors_for(self, message_id: int) -> list[ReportResult]:
        return [r for r in self.results if r.message_id == message_id and r.result_code == "Error"]


def _envelope(seller_id: str, message_type: str) -> ET.Element:
    ET.register_namespace("xsi", XSI)
    root = ET.Element("AmazonEnvelope", {f"{{{XSI}}}noNamespaceSchemaLocation": "amzn-envelope.xsd"})
    header = ET.SubElement(root, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.01"
    ET.SubElement(header, "MerchantIdentifier").text = seller_id
    ET.SubElement(root, "MessageType").text = message_type
    return root


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)  # bytes for any encoding but "unicode"
    return document


def _money(amount: Decimal) -> str:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise FeedBuildError(f"amount must be a finite Decimal, got {amount!r}")
    cents = amount.quantize(Decimal("0.01"))
    if cents != amount:
        raise FeedBuildError(f"amount {amount} has more than two decimals (BaseCurrencyAmount allows two)")
    return f"{cents:f}"


def build_cancel_feed(seller_id: str, cancels: Iterable[CancelRequest]) -> bytes:
    """`POST_ORDER_ACKNOWLEDGEMENT_DATA`: one Message per order, MessageID 1..n in the given order."""
    root = _envelope(seller_id, "OrderAcknowledgement")
    count = 0
    for count, cancel in enumerate(cancels, start=1):
        if cancel.reason not in CANCEL_REASON_CODES:
            raise FeedBuildError(f"order {cancel.amazon_order_id}: unknown cancel reason {cancel.reason!r}")
        if not cancel.order_item_ids:
            raise FeedBuildError(f"order {cancel.amazon_order_id}: no items to cancel")
        message = ET.SubElement(root, "Message")
        ET.SubElement(message, "MessageID").text = str(count)
        ack = ET.SubElement(message, "OrderAcknowledgement")
        ET.SubElement(ack, "AmazonOrderID").text = cancel.amazon_order_id
        if cancel.merchant_order_id:
            ET.SubElement(ack, "MerchantOrderID").text = cancel.merchant_order_id
        ET.SubElement(ack, "StatusCode").text = "Failure"
        for item_id in cancel.order_item_ids:
            item = ET.SubElement(ack, "Item")
            ET.SubElement(item, "AmazonOrderItemCode").text = item_id
            ET.SubElement(item, "CancelReason").text = cancel.reason
    if count == 0:
        raise FeedBuildError("a cancel feed needs at least one order")
    return _serialise(root)


def build_refund_feed(seller_id: str, refunds: Iterable[RefundRequest]) -> bytes:
    """`POST_PAYMENT_ADJUSTMENT_DATA`: one OrderAdjustment message per order."""
    root = _envelope(seller_id, "OrderAdjustment")
    count = 0
    for count, refund in enumerate(refunds, start=1):
        if not refund.items:
            raise FeedBuildError(f"order {refund.amazon_order_id}: no items to adjust")
        message = ET.SubElement(root, "Message")
        ET.SubElement(message, "MessageID").text = str(count)
        adjustment = ET.SubElement(message, "OrderAdjustment")
        ET.SubElement(adjustment, "AmazonOrderID").text = refund.amazon_order_id
        ET.SubElement(adjustment, "ActionType").text = refund.action_type
        for item in refund.items:
            if item.reason not in ADJUSTMENT_REASONS:
                raise FeedBuildError(f"order {refund.amazon_order_id}: unknown adjustment reason {item.reason!r}")
            unknown = set(item.components) - set(ADJUSTMENT_COMPONENTS)
            if unknown:
                raise FeedBuildError(f"order {refund.amazon_order_id}: unknown components {sorted(unknown)}")
            adjusted = ET.SubElement(adjustment, "AdjustedItem")
            ET.SubElement(adjusted, "AmazonOrderItemCode").text = item.order_item_id
            if item.merchant_adjustment_item_id:
                ET.SubElement(adjusted, "MerchantAdjustmentItemID").text = item.merchant_adjustment_item_id
            ET.SubElement(adjusted, "AdjustmentReason").text = item.reason
            prices = ET.SubElement(adjusted, "ItemPriceAdjustments")
            for kind in ADJUSTMENT_COMPONENTS:
                if kind not in item.components:
                    continue
                component = ET.SubElement(prices, "Component")
                ET.SubElement(component, "Type").text = kind
                ET.SubElement(component, "Amount", {"currency": refund.currency}).text = _money(item.components[kind])
            if item.quantity_cancelled is not None:
                ET.SubElement(adjusted, "QuantityCancelled").text = str(item.quantity_cancelled)
    if count == 0:
        raise FeedBuildError("a refund feed needs at least one order")
    return _serialise(root)


def _text(element: ET.Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _int(element: ET.Element | None, path: str) -> int:
    value = _text(element, path)
    try:
        return int(value) if value else 0
    except ValueError as exc:
        raise FeedReportError(f"processing report: {path} is not a number: {value!r}") from exc


def parse_processing_report(data: bytes | str) -> ProcessingReport:
    """Amazon's XML processing report -> `ProcessingReport`. Refuses DTDs, entities and external references."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        root = parse_untrusted_xml(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise FeedReportError(
            f"processing report refused: it declares a DTD, an entity or an external reference ({exc}), "
            "which Amazon's reports never do"
        ) from exc
    except ET.ParseError as exc:
        raise FeedReportError(f"processing report is not well-formed XML: {exc}") from exc
    for element in root.iter():  # tolerate a default namespace by dropping it
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
    report = root if root.tag == "ProcessingReport" else root.find(".//ProcessingReport")
    if report is None:
        raise FeedReportError(f"processing report: no <ProcessingReport> element (root is <{root.tag}>)")
    summary = report.find("ProcessingSummary")
    results = []
    for result in report.findall("Result"):
        message_id = _text(result, "MessageID")
        results.append(
            ReportResult(
                message_id=int(message_id) if message_id and message_id.isdigit() else None,
                result_code=_text(result, "ResultCode") or "Error",
                code=_text(result, "ResultMessageCode"),
                description=_text(result, "ResultDescription") or "",
                amazon_order_id=_text(result, "AdditionalInfo/AmazonOrderID"),
            )
        )
    return ProcessingReport(
        status_code=_text(report, "StatusCode"),
        processed=_int(summary, "MessagesProcessed"),
        successful=_int(summary, "MessagesSuccessful"),
        with_error=_int(summary, "MessagesWithError"),
        with_warning=_int(summary, "MessagesWithWarning"),
        results=tuple(results),
    )
