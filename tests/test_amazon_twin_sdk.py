"""Amazon's official SDK (`amzn-sp-api`, package `spapi`) pointed at the twin: token refresh,
searchOrders with pagination, getOrder, confirmShipment and a whole feed round trip."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import requests

from sandbox.amazon.testing import US, make_order, start_amazon_twin

spapi = pytest.importorskip("spapi")

from spapi import FeedsApi, GetOrderApi, OrdersV0Api, SearchOrdersApi, SPAPIClient, SPAPIConfig  # noqa: E402
from spapi.models.feeds_v2021_06_30 import CreateFeedDocumentSpecification, CreateFeedSpecification  # noqa: E402
from spapi.models.orders_v0 import ConfirmShipmentOrderItem, ConfirmShipmentRequest, PackageDetail  # noqa: E402
from spapi.rest import ApiException  # noqa: E402


@pytest.fixture
def twin():
    running = start_amazon_twin(rate_scale=100)
    yield running
    running.stop()


@pytest.fixture
def sdk(twin):
    config = SPAPIConfig(client_id=twin.config.client_id, client_secret=twin.config.client_secret,
                         refresh_token=twin.refresh_token, region="NA")
    return SPAPIClient(config, endpoint=twin.url, oauth_endpoint=twin.lwa_url)


def test_sdk_token_refresh_search_with_pagination_and_get_order(twin, sdk):
    base = datetime.now(UTC) - timedelta(hours=3)
    twin.seed_orders([make_order(f"113-0000020-{i:07d}", created=base + timedelta(minutes=i)) for i in range(7)])
    search = SearchOrdersApi(sdk.api_client)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs = {"created_after": base - timedelta(minutes=1), "max_results_per_page": 3,
                  "included_data": ["BUYER", "PROCEEDS", "FULFILLMENT"], "marketplace_ids": [US]}
        if token:
            kwargs["pagination_token"] = token
        response = search.search_orders(**kwargs)
        pages += 1
        seen += [o.order_id for o in response.orders]
        assert response.created_before is not None
        token = response.pagination.next_token if response.pagination else None
        if not token:
            break
    assert pages == 3
    assert seen == [f"113-0000020-{i:07d}" for i in range(7)]
    assert twin.stats()["calls"]["searchOrders"] == 3

    order = GetOrderApi(sdk.api_client).get_order("113-0000020-0000003", included_data=["PROCEEDS", "BUYER"])
    assert order.order.proceeds.grand_total.amount == "25.50"
    assert order.order.buyer.buyer_name == "Zoë Tester"
    assert order.order.order_items[0].product.seller_sku == "SKU-11111111111111"

    with pytest.raises(ApiException) as missing:
        GetOrderApi(sdk.api_client).get_order("113-0000020-0009999")
    assert missing.value.status == 404


def test_sdk_confirm_shipment(twin, sdk):
    twin.seed_orders([make_order("113-0000021-0000001")])
    payload = ConfirmShipmentRequest(
        marketplace_id=US,
        package_detail=PackageDetail(
            package_reference_id="1", carrier_code="UPS", carrier_name="UPS", shipping_method="Ground",
            tracking_number="1ZSDK", ship_date=datetime.now(UTC) - timedelta(hours=1),
            order_items=[ConfirmShipmentOrderItem(order_item_id="11111111111111", quantity=2),
                         ConfirmShipmentOrderItem(order_item_id="22222222222222", quantity=1)]),
    )
    assert OrdersV0Api(sdk.api_client).confirm_shipment("113-0000021-0000001", payload) is None
    order = twin.get_order("113-0000021-0000001")
    assert order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert order["packages"][0]["trackingNumber"] == "1ZSDK"
    v0 = OrdersV0Api(sdk.api_client).get_order("113-0000021-0000001")
    assert v0.payload.order_status == "Shipped"
    with pytest.raises(ApiException) as again:
        payload.package_detail.package_reference_id = "2"
        OrdersV0Api(sdk.api_client).confirm_shipment("113-0000021-0000001", payload)
    assert again.value.status == 400


def test_sdk_feed_round_trip_cancels_an_order(twin, sdk):
    twin.seed_orders([make_order("113-0000022-0000001")])
    feeds = FeedsApi(sdk.api_client)
    content_type = "text/xml; charset=UTF-8"
    document = feeds.create_feed_document(body=CreateFeedDocumentSpecification(content_type=content_type))
    xml = ('<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header><DocumentVersion>1.01</DocumentVersion>'
           "<MerchantIdentifier>M1</MerchantIdentifier></Header><MessageType>OrderAcknowledgement</MessageType>"
           "<Message><MessageID>1</MessageID><OrderAcknowledgement><AmazonOrderID>113-0000022-0000001"
           "</AmazonOrderID><StatusCode>Failure</StatusCode><Item><AmazonOrderItemCode>11111111111111"
           "</AmazonOrderItemCode><CancelReason>NoInventory</CancelReason></Item></OrderAcknowledgement>"
           "</Message></AmazonEnvelope>")
    put = requests.put(document.url, data=xml.encode(), headers={"Content-Type": content_type}, timeout=10)
    assert put.status_code == 200
    created = feeds.create_feed(body=CreateFeedSpecification(
        feed_type="POST_ORDER_ACKNOWLEDGEMENT_DATA", marketplace_ids=[US],
        input_feed_document_id=document.feed_document_id))
    assert feeds.get_feed(created.feed_id).processing_status == "IN_QUEUE"
    twin.advance_clock(1)  # 90 s of feed processing at rate_scale 100
    feed = feeds.get_feed(created.feed_id)
    assert feed.processing_status == "DONE"
    result = feeds.get_feed_document(feed.result_feed_document_id)
    report = ET.fromstring(requests.get(result.url, timeout=10).content)  # noqa: S314 - the twin's report
    assert report.findtext("Message/ProcessingReport/ProcessingSummary/MessagesSuccessful") == "1"
    assert report.findtext("Message/ProcessingReport/ProcessingSummary/MessagesWithError") == "0"
    listed = feeds.get_feeds(feed_types=["POST_ORDER_ACKNOWLEDGEMENT_DATA"])
    assert [f.feed_id for f in listed.feeds] == [created.feed_id]
    assert twin.get_order("113-0000022-0000001")["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
