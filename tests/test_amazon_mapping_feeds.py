"""Order feed XML (cancel, refund) parsed back, and the processing report parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from bridge.amazon.feeds import (
    CancelRequest,
    FeedBuildError,
    FeedReportError,
    ItemAdjustment,
    RefundRequest,
    build_cancel_feed,
    build_refund_feed,
    parse_processing_report,
)

XSI = "{http://www.w3.org/2001/XMLSchema-instance}"


def _parse(data: bytes) -> ET.Element:
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>") or data.startswith(b'<?xml version="1.0"')
    return ET.fromstring(data)  # noqa: S314 - our own output


def test_cancel_feed_round_trip():
    data = build_cancel_feed(
        "SELLER&<1>",
        [
            CancelRequest("111-0000001-0000001", ["10000000000001", "10000000000002"], "NoInventory"),
            CancelRequest("111-0000002-0000002", ["20000000000001"], "BuyerCanceled", merchant_order_id='M"7<'),
        ],
    )
    root = _parse(data)
    assert root.tag == "AmazonEnvelope"
    assert root.get(f"{XSI}noNamespaceSchemaLocation") == "amzn-envelope.xsd"
    assert root.findtext("Header/DocumentVersion") == "1.01"
    assert root.findtext("Header/MerchantIdentifier") == "SELLER&<1>"  # escaped on the wire, exact when parsed
    assert b"SELLER&amp;&lt;1&gt;" in data
    assert root.findtext("MessageType") == "OrderAcknowledgement"
    messages = root.findall("Message")
    assert [m.findtext("MessageID") for m in messages] == ["1", "2"]
    first = messages[0].find("OrderAcknowledgement")
    assert first.findtext("AmazonOrderID") == "111-0000001-0000001"
    assert first.findtext("StatusCode") == "Failure"
    assert [(i.findtext("AmazonOrderItemCode"), i.findtext("CancelReason")) for i in first.findall("Item")] == [
        ("10000000000001", "NoInventory"),
        ("10000000000002", "NoInventory"),
    ]
    second = messages[1].find("OrderAcknowledgement")
    assert second.findtext("MerchantOrderID") == 'M"7<'
    # XSD element order: AmazonOrderID, MerchantOrderID, StatusCode, Item*
    assert [child.tag for child in second] == ["AmazonOrderID", "MerchantOrderID", "StatusCode", "Item"]


@pytest.mark.parametrize(
    "cancels",
    [
        [],
        [CancelRequest("111-0000001-0000001", ["1"], "BecauseISaidSo")],
        [CancelRequest("111-0000001-0000001", [], "NoInventory")],
    ],
)
def test_cancel_feed_refuses_bad_input(cancels):
    with pytest.raises(FeedBuildError):
        build_cancel_feed("SELLER", cancels)


def test_refund_feed_round_trip():
    data = build_refund_feed(
        "SELLER",
        [
            RefundRequest(
                "111-0000001-0000001",
                "EUR",
                [
                    ItemAdjustment(
                        "10000000000001",
                        "CustomerReturn",
                        {"Tax": Decimal("1.9"), "Principal": Decimal("10"), "Shipping": Decimal("4.99")},
                        quantity_cancelled=1,
                    ),
                    ItemAdjustment(
                        "10000000000002",
                        "GeneralAdjustment",
                        {"Principal": Decimal("0.50")},
                        merchant_adjustment_item_id="adj-2",
                    ),
                ],
            )
        ],
    )
    root = _parse(data)
    assert root.findtext("MessageType") == "OrderAdjustment"
    adjustment = root.find("Message/OrderAdjustment")
    assert adjustment.findtext("AmazonOrderID") == "111-0000001-0000001"
    assert adjustment.findtext("ActionType") == "Refund"
    first, second = adjustment.findall("AdjustedItem")
    assert first.findtext("AmazonOrderItemCode") == "10000000000001"
    assert first.findtext("AdjustmentReason") == "CustomerReturn"
    components = [
        (c.findtext("Type"), c.find("Amount").text, c.find("Amount").get("currency"))
        for c in first.findall("ItemPriceAdjustments/Component")
    ]
    assert components == [("Principal", "10.00", "EUR"), ("Shipping", "4.99", "EUR"), ("Tax", "1.90", "EUR")]
    assert first.findtext("QuantityCancelled") == "1"
    assert second.findtext("MerchantAdjustmentItemID") == "adj-2"
    assert second.find("ItemPriceAdjustments/Component/Amount").text == "0.50"
    assert second.find("QuantityCancelled") is None


@pytest.mark.parametrize(
    "item",
    [
        ItemAdjustment("1", "NotAReason", {"Principal": Decimal("1")}),
        ItemAdjustment("1", "CustomerReturn", {"Bribe": Decimal("1")}),
        ItemAdjustment("1", "CustomerReturn", {"Principal": Decimal("1.005")}),  # not representable
        ItemAdjustment("1", "CustomerReturn", {"Principal": 1.5}),  # floats are refused  # type: ignore[dict-item]
    ],
)
def test_refund_feed_refuses_bad_input(item):
    with pytest.raises(FeedBuildError):
        build_refund_feed("SELLER", [RefundRequest("111-0000001-0000001", "USD", [item])])


REPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">
  <Header><DocumentVersion>1.02</DocumentVersion><MerchantIdentifier>SELLER</MerchantIdentifier></Header>
  <MessageType>ProcessingReport</MessageType>
  <Message>
    <MessageID>1</MessageID>
    <ProcessingReport>
      <DocumentTransactionID>50012345678</DocumentTransactionID>
      <StatusCode>Complete</StatusCode>
      <ProcessingSummary>
        <MessagesProcessed>3</MessagesProcessed>
        <MessagesSuccessful>1</MessagesSuccessful>
        <MessagesWithError>1</MessagesWithError>
        <MessagesWithWarning>1</MessagesWithWarning>
      </ProcessingSummary>
      <Result>
        <MessageID>2</MessageID>
        <ResultCode>Error</ResultCode>
        <ResultMessageCode>18040</ResultMessageCode>
        <ResultDescription>Order 111-0000002-0000002 cannot be cancelled &amp; is Shipped.</ResultDescription>
        <AdditionalInfo><AmazonOrderID>111-0000002-0000002</AmazonOrderID></AdditionalInfo>
      </Result>
      <Result>
        <MessageID>3</MessageID>
        <ResultCode>Warning</ResultCode>
        <ResultMessageCode>5005</ResultMessageCode>
        <ResultDescription>Something to look at.</ResultDescription>
      </Result>
    </ProcessingReport>
  </Message>
</AmazonEnvelope>
"""


def test_processing_report_is_parsed():
    report = parse_processing_report(REPORT)
    assert (report.status_code, report.processed, report.successful, report.with_error, report.with_warning) == (
        "Complete", 3, 1, 1, 1,
    )  # fmt: skip
    error, warning = report.results
    assert (error.message_id, error.result_code, error.code, error.amazon_order_id) == (
        2, "Error", "18040", "111-0000002-0000002",
    )  # fmt: skip
    assert error.description == "Order 111-0000002-0000002 cannot be cancelled & is Shipped."
    assert warning.result_code == "Warning" and warning.amazon_order_id is None
    assert report.errors_for(2) == [error] and report.errors_for(3) == []
    assert parse_processing_report(REPORT.decode()) == report  # str input too


def test_processing_report_with_a_default_namespace():
    data = REPORT.replace(b"<AmazonEnvelope ", b'<AmazonEnvelope xmlns="urn:example" ')
    assert parse_processing_report(data).with_error == 1


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<AmazonEnvelope><ProcessingReport>&lol2;</ProcessingReport></AmazonEnvelope>",
        b'<?xml version="1.0"?><!doctype x SYSTEM "file:///etc/passwd"><x/>',
        b"<AmazonEnvelope><ProcessingReport>",  # not well-formed
        b"<AmazonEnvelope><Message/></AmazonEnvelope>",  # no ProcessingReport
        b"<ProcessingReport><ProcessingSummary><MessagesProcessed>many</MessagesProcessed></ProcessingSummary>"
        b"</ProcessingReport>",
    ],
)
def test_bad_reports_are_refused(data):
    with pytest.raises(FeedReportError):
        parse_processing_report(data)
