"""Feeds API on the Amazon twin: documents and their presigned URLs, the feed lifecycle over (twin) time,
order acknowledgements that cancel, payment adjustments that refund, and the XML processing report."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests

from sandbox.amazon.testing import US, SpClient, make_order, start_amazon_twin

XML = "text/xml; charset=UTF-8"


def parse_xml(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 - the twin's own report / S3-style error


@pytest.fixture(scope="module")
def shared_twin():
    running = start_amazon_twin(rate_scale=1.0, feed_queue_seconds=30, feed_processing_seconds=60)
    yield running
    running.stop()


@pytest.fixture
def twin(shared_twin):
    shared_twin.reset()
    return shared_twin


@pytest.fixture
def client(twin):
    return SpClient(twin)


def upload(client, data: bytes, content_type: str = XML) -> str:
    r = client.post("/feeds/2021-06-30/documents", {"contentType": content_type})
    assert r.status_code == 201, r.text
    body = r.json()
    put = requests.put(body["url"], data=data, headers={"Content-Type": content_type}, timeout=10)
    assert put.status_code == 200, put.text
    return body["feedDocumentId"]


def submit(client, feed_type: str, data: bytes) -> str:
    document_id = upload(client, data)
    r = client.post("/feeds/2021-06-30/feeds", {"feedType": feed_type, "marketplaceIds": [US],
                                                "inputFeedDocumentId": document_id})
    assert r.status_code == 202, r.text
    return r.json()["feedId"]


def finish(twin, client, feed_id: str) -> dict:
    twin.advance_clock(91)
    feed = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
    assert feed["processingStatus"] in ("DONE", "FATAL")
    return feed


def report(client, feed: dict) -> ET.Element:
    doc = client.get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}").json()
    assert doc["feedDocumentId"] == feed["resultFeedDocumentId"]
    assert "compressionAlgorithm" not in doc
    r = requests.get(doc["url"], timeout=10)
    assert r.status_code == 200
    root = parse_xml(r.content)
    assert root.tag == "AmazonEnvelope" and root.findtext("MessageType") == "ProcessingReport"
    return root.find("Message/ProcessingReport")


def summary(processing_report: ET.Element) -> tuple[int, int, int]:
    s = processing_report.find("ProcessingSummary")
    return (int(s.findtext("MessagesProcessed")), int(s.findtext("MessagesSuccessful")),
            int(s.findtext("MessagesWithError")))


def envelope(message_type: str, *messages: str) -> bytes:
    body = "".join(f"<Message><MessageID>{i}</MessageID>{m}</Message>" for i, m in enumerate(messages, 1))
    return (f'<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/'
            f'XMLSchema-instance" xsi:noNamespaceSchemaLocation="amzn-envelope.xsd"><Header><DocumentVersion>'
            f"1.01</DocumentVersion><MerchantIdentifier>M1</MerchantIdentifier></Header><MessageType>"
            f"{message_type}</MessageType>{body}</AmazonEnvelope>").encode()


def cancel_message(order_id: str, reason: str = "NoInventory", item: str = "11111111111111") -> str:
    return (f"<OrderAcknowledgement><AmazonOrderID>{order_id}</AmazonOrderID><StatusCode>Failure</StatusCode>"
            f"<Item><AmazonOrderItemCode>{item}</AmazonOrderItemCode><CancelReason>{reason}</CancelReason></Item>"
            f"</OrderAcknowledgement>")


def refund_message(order_id: str, principal: str, item: str = "11111111111111", currency: str = "USD") -> str:
    return (f"<OrderAdjustment><AmazonOrderID>{order_id}</AmazonOrderID><ActionType>Refund</ActionType>"
            f"<AdjustedItem><AmazonOrderItemCode>{item}</AmazonOrderItemCode>"
            f"<AdjustmentReason>CustomerReturn</AdjustmentReason><ItemPriceAdjustments>"
            f'<Component><Type>Principal</Type><Amount currency="{currency}">{principal}</Amount></Component>'
            f"</ItemPriceAdjustments><QuantityCancelled>1</QuantityCancelled></AdjustedItem></OrderAdjustment>")


# -- documents ------------------------------------------------------------------------------------------

def test_upload_url_requires_the_same_content_type(client):
    r = client.post("/feeds/2021-06-30/documents", {"contentType": XML})
    assert r.status_code == 201
    assert r.headers["x-amzn-RateLimit-Limit"] == "0.5"
    url = r.json()["url"]
    wrong = requests.put(url, data=b"<x/>", headers={"Content-Type": "text/plain"}, timeout=10)
    assert wrong.status_code == 403
    assert parse_xml(wrong.content).findtext("Code") == "SignatureDoesNotMatch"
    forged = requests.put(url[:-4] + "0000", data=b"<x/>", headers={"Content-Type": XML}, timeout=10)
    assert forged.status_code == 403
    assert requests.put(url, data=b"<x/>", headers={"Content-Type": XML}, timeout=10).status_code == 200


def test_upload_url_expires_after_five_minutes(twin, client):
    url = client.post("/feeds/2021-06-30/documents", {"contentType": XML}).json()["url"]
    twin.advance_clock(301)
    r = requests.put(url, data=b"<x/>", headers={"Content-Type": XML}, timeout=10)
    assert r.status_code == 403
    assert parse_xml(r.content).findtext("Code") == "AccessDenied"


@pytest.mark.parametrize("body", [{}, {"contentType": ""}, {"contentType": 5}])
def test_create_feed_document_needs_content_type(client, body):
    r = client.post("/feeds/2021-06-30/documents", body)
    assert r.status_code == 400
    assert r.json()["errors"]


@pytest.mark.parametrize("body", [
    {"marketplaceIds": [US], "inputFeedDocumentId": "x"},
    {"feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA", "inputFeedDocumentId": "x"},
    {"feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA", "marketplaceIds": [], "inputFeedDocumentId": "x"},
    {"feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA", "marketplaceIds": [US], "inputFeedDocumentId": "unknown"},
])
def test_create_feed_validation(client, body):
    r = client.post("/feeds/2021-06-30/feeds", body)
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "InvalidInput"


# -- lifecycle ------------------------------------------------------------------------------------------

def test_feed_moves_in_queue_in_progress_done(twin, client):
    twin.seed_orders([make_order("111-0000010-0000001")])
    feed_id = submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA",
                     envelope("OrderAcknowledgement", cancel_message("111-0000010-0000001")))
    feed = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
    assert feed["processingStatus"] == "IN_QUEUE"
    assert feed["feedType"] == "POST_ORDER_ACKNOWLEDGEMENT_DATA" and feed["marketplaceIds"] == [US]
    assert "resultFeedDocumentId" not in feed
    twin.advance_clock(31)
    feed = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
    assert feed["processingStatus"] == "IN_PROGRESS" and "processingStartTime" in feed
    assert twin.get_order("111-0000010-0000001")["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    twin.advance_clock(60)
    feed = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
    assert feed["processingStatus"] == "DONE"
    assert feed["processingEndTime"] > feed["processingStartTime"] > feed["createdTime"]
    assert feed["resultFeedDocumentId"]


def test_rate_scale_compresses_feed_processing():
    twin = start_amazon_twin(rate_scale=100)
    try:
        client = SpClient(twin)
        feed_id = submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA", envelope("OrderAcknowledgement"))
        twin.advance_clock(0.95)  # 90 s of queue + processing at 1/100
        assert client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()["processingStatus"] == "DONE"
    finally:
        twin.stop()


def test_acknowledgement_cancels_unshipped_and_refuses_shipped(twin, client):
    twin.seed_orders([make_order("111-0000011-0000001"), make_order("111-0000011-0000002", status="SHIPPED")])
    feed_id = submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA", envelope(
        "OrderAcknowledgement", cancel_message("111-0000011-0000001"), cancel_message("111-0000011-0000002"),
        cancel_message("111-0000011-0000099")))
    feed = finish(twin, client, feed_id)
    assert feed["processingStatus"] == "DONE"
    processing = report(client, feed)
    assert processing.findtext("StatusCode") == "Complete"
    assert processing.findtext("DocumentTransactionID") == feed_id
    assert summary(processing) == (3, 1, 2)
    results = {r.findtext("MessageID"): r for r in processing.findall("Result")}
    assert set(results) == {"2", "3"}
    assert results["2"].findtext("ResultCode") == "Error"
    assert results["2"].findtext("AdditionalInfo/AmazonOrderID") == "111-0000011-0000002"
    assert "cannot be cancelled" in results["2"].findtext("ResultDescription")
    cancelled = twin.get_order("111-0000011-0000001")
    assert cancelled["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    execution = cancelled["orderItems"][0]["cancellation"]["cancellationExecution"]
    assert execution == {"cancelledBy": "MERCHANT", "cancelReason": "NoInventory"}
    assert twin.get_order("111-0000011-0000002")["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    v0 = client.get("/orders/v0/orders/111-0000011-0000001").json()["payload"]
    assert v0["OrderStatus"] == "Canceled"


def test_acknowledgement_success_sets_seller_order_id(twin, client):
    twin.seed_orders([make_order("111-0000012-0000001")])
    message = ("<OrderAcknowledgement><AmazonOrderID>111-0000012-0000001</AmazonOrderID>"
               "<MerchantOrderID>000000123</MerchantOrderID><StatusCode>Success</StatusCode></OrderAcknowledgement>")
    feed = finish(twin, client, submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA",
                                       envelope("OrderAcknowledgement", message)))
    assert summary(report(client, feed)) == (1, 1, 0)
    order = twin.get_order("111-0000012-0000001")
    assert order["orderAliases"] == [{"aliasId": "000000123", "aliasType": "SELLER_ORDER_ID"}]
    assert order["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    v0 = client.get("/orders/v0/orders/111-0000012-0000001").json()["payload"]
    assert v0["SellerOrderId"] == "000000123"


def test_invalid_cancel_reason_is_a_message_error(twin, client):
    twin.seed_orders([make_order("111-0000013-0000001")])
    feed = finish(twin, client, submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA", envelope(
        "OrderAcknowledgement", cancel_message("111-0000013-0000001", reason="BecauseISaidSo"))))
    assert summary(report(client, feed)) == (1, 0, 1)
    assert twin.get_order("111-0000013-0000001")["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"


def test_payment_adjustment_records_refunds(twin, client):
    twin.seed_orders([make_order("111-0000014-0000001", status="SHIPPED"), make_order("111-0000014-0000002")])
    feed = finish(twin, client, submit(client, "POST_PAYMENT_ADJUSTMENT_DATA", envelope(
        "OrderAdjustment",
        refund_message("111-0000014-0000001", "10.00"),
        refund_message("111-0000014-0000001", "15.00"),   # would exceed the 20.00 charged for the item
        refund_message("111-0000014-0000002", "1.00"),    # unshipped: cancel instead
        refund_message("111-0000014-0000001", "1.00", currency="EUR"),
    )))
    assert feed["processingStatus"] == "DONE"
    processing = report(client, feed)
    assert summary(processing) == (4, 1, 3)
    assert {r.findtext("MessageID") for r in processing.findall("Result")} == {"2", "3", "4"}
    refunds = twin.adjustments()
    assert len(refunds) == 1
    refund = refunds[0]
    assert refund["orderId"] == "111-0000014-0000001" and refund["orderItemId"] == "11111111111111"
    assert refund["total"] == "10.00" and refund["currency"] == "USD"
    assert refund["adjustmentReason"] == "CustomerReturn" and refund["feedId"] == feed["feedId"]
    assert refund["components"] == [{"type": "Principal", "amount": "10.00", "currency": "USD"}]


@pytest.mark.parametrize("data", [
    b"",
    b"this is not xml",
    b"<AmazonEnvelope><MessageType>OrderAcknowledgement</MessageType><Message>",
    b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]><AmazonEnvelope>&a;</AmazonEnvelope>',
    b"<Envelope><MessageType>OrderAcknowledgement</MessageType></Envelope>",
    envelope("OrderAdjustment"),  # wrong message type for the feed type
])
def test_malformed_documents_end_fatal_with_a_report(twin, client, data):
    feed_id = submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA", data) if data else None
    if feed_id is None:  # created but never uploaded
        document_id = client.post("/feeds/2021-06-30/documents", {"contentType": XML}).json()["feedDocumentId"]
        feed_id = client.post("/feeds/2021-06-30/feeds", {"feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA",
                                                          "marketplaceIds": [US],
                                                          "inputFeedDocumentId": document_id}).json()["feedId"]
    feed = finish(twin, client, feed_id)
    assert feed["processingStatus"] == "FATAL"
    processing = report(client, feed)
    assert summary(processing) == (0, 0, 1)
    assert processing.findtext("Result/ResultCode") == "Error"
    assert processing.findtext("Result/ResultMessageCode") in ("5000", "5001")


def test_cancel_feed_only_while_in_queue(twin, client):
    twin.seed_orders([make_order("111-0000015-0000001")])
    feed_id = submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA",
                     envelope("OrderAcknowledgement", cancel_message("111-0000015-0000001")))
    r = client.request("DELETE", f"/feeds/2021-06-30/feeds/{feed_id}")
    assert r.status_code == 200
    twin.advance_clock(200)
    feed = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
    assert feed["processingStatus"] == "CANCELLED" and "resultFeedDocumentId" not in feed
    assert twin.get_order("111-0000015-0000001")["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    other = submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA", envelope("OrderAcknowledgement"))
    twin.advance_clock(31)
    r = client.request("DELETE", f"/feeds/2021-06-30/feeds/{other}")
    assert r.status_code == 400
    assert client.request("DELETE", "/feeds/2021-06-30/feeds/123").status_code == 404


def test_get_feeds_filters_and_pages(twin, client):
    ids = [submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA", envelope("OrderAcknowledgement")) for _ in range(3)]
    assert client.get("/feeds/2021-06-30/feeds").status_code == 400  # feedTypes or nextToken required
    first = client.get("/feeds/2021-06-30/feeds", feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA", pageSize="2").json()
    assert len(first["feeds"]) == 2 and first["nextToken"]
    assert client.get("/feeds/2021-06-30/feeds", nextToken=first["nextToken"], pageSize="2").status_code == 400
    second = client.get("/feeds/2021-06-30/feeds", nextToken=first["nextToken"]).json()
    assert "nextToken" not in second
    assert sorted(f["feedId"] for f in first["feeds"] + second["feeds"]) == sorted(ids)
    none = client.get("/feeds/2021-06-30/feeds", feedTypes="POST_PAYMENT_ADJUSTMENT_DATA").json()
    assert none == {"feeds": []}
    done = client.get("/feeds/2021-06-30/feeds", feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA",
                      processingStatuses="DONE").json()
    assert done["feeds"] == []


def test_control_endpoint_shows_feeds(twin, client):
    feed_id = submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA", envelope("OrderAcknowledgement"))
    twin.advance_clock(91)
    feeds = requests.get(twin.url + "/_sandbox/feeds", timeout=10).json()["feeds"]
    assert [f["feedId"] for f in feeds] == [feed_id]
    assert feeds[0]["processingStatus"] == "DONE"
    assert "<ProcessingReport>" in feeds[0]["processingReport"]


def test_gzip_processing_reports():
    import gzip

    twin = start_amazon_twin(rate_scale=100, gzip_reports=True)
    try:
        client = SpClient(twin)
        feed_id = submit(client, "POST_ORDER_ACKNOWLEDGEMENT_DATA", envelope("OrderAcknowledgement"))
        twin.advance_clock(1)
        feed = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
        doc = client.get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}").json()
        assert doc["compressionAlgorithm"] == "GZIP"
        raw = requests.get(doc["url"], timeout=10)
        assert "Content-Encoding" not in raw.headers and raw.content[:2] == b"\x1f\x8b"
        assert parse_xml(gzip.decompress(raw.content)).findtext("MessageType") == "ProcessingReport"
        encoded = client.get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}",
                             enableContentEncodingUrlHeader="true").json()
        decoded = requests.get(encoded["url"], timeout=10)  # requests honours Content-Encoding: gzip
        assert decoded.headers["Content-Encoding"] == "gzip"
        assert parse_xml(decoded.content).findtext("MessageType") == "ProcessingReport"
        tampered = encoded["url"].replace("response-content-encoding=gzip", "response-content-encoding=br")
        assert requests.get(tampered, timeout=10).status_code == 403
    finally:
        twin.stop()


def test_a_slow_answer_fault_applies_the_operation_before_the_answer_arrives(amazon_twin):
    """`slow_answer` holds back only the answer: the feed exists before the client hears of it."""
    import threading

    from sandbox.amazon.testing import SpClient

    api = SpClient(amazon_twin)
    doc = api.post("/feeds/2021-06-30/documents", {"contentType": "text/xml; charset=UTF-8"}).json()
    amazon_twin.set_faults(slow_answer={"createFeed": 3})
    answers = []
    thread = threading.Thread(target=lambda: answers.append(api.post("/feeds/2021-06-30/feeds", {
        "feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA", "marketplaceIds": ["ATVPDKIKX0DER"],
        "inputFeedDocumentId": doc["feedDocumentId"]})))
    thread.start()
    feeds = []
    for _ in range(200):
        feeds = amazon_twin._http.get(f"{amazon_twin.url}/_sandbox/feeds", timeout=10).json()["feeds"]
        if feeds:
            break
        threading.Event().wait(0.01)
    seen_before_answer = bool(feeds) and not answers
    thread.join()
    assert seen_before_answer
    assert answers[0].status_code == 202 and answers[0].json()["feedId"] == feeds[0]["feedId"]
    bad = amazon_twin._http.post(f"{amazon_twin.url}/_sandbox/faults", json={"slow_answer": {"createFeed": -1}},
                                 timeout=10)
    assert bad.status_code == 400
