"""Small builders for domain objects used by several tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bridge.domain import AmazonOrder, AmazonOrderItem, AmazonStatus, FulfillmentChannel

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_order(
    amazon_order_id: str = "111-0000001-0000001",
    *,
    status: AmazonStatus = AmazonStatus.UNSHIPPED,
    channel: FulfillmentChannel = FulfillmentChannel.MFN,
    purchase_date: datetime = T0,
    last_updated: datetime | None = None,
    sku: str = "SKU-1",
    qty: int = 1,
    price: str = "10.00",
    buyer_name: str | None = "Jane Doe",
) -> AmazonOrder:
    item = AmazonOrderItem(
        order_item_id=f"{amazon_order_id}-1",
        seller_sku=sku,
        asin="B000000001",
        title="A thing",
        quantity_ordered=qty,
        unit_price=Decimal(price),
        item_price=Decimal(price) * qty,
    )
    return AmazonOrder(
        amazon_order_id=amazon_order_id,
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        fulfillment_channel=channel,
        purchase_date=purchase_date,
        last_updated=last_updated or purchase_date + timedelta(minutes=5),
        currency="USD",
        order_total=item.row_total,
        items=(item,),
        buyer_name=buyer_name,
    )
