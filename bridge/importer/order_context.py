"""What the order payload needs from outside the Amazon order: Magento's gift message setting, and the
Commerce order a replacement order replaces. Read here so the builder stays pure (no I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.domain import AmazonOrder
from bridge.order_settings import OrderSettings
from bridge.storage.models import AmazonOrderRecord

if TYPE_CHECKING:
    from bridge.magento.client import MagentoClient


def build_context(
    session: Session, store_id: int, settings: OrderSettings, order: AmazonOrder, magento: MagentoClient
) -> dict[str, Any]:
    """Keyword arguments for `build_order_payload`; asks Magento only when the order has a gift message."""
    context: dict[str, Any] = {}
    if any(item.gift_message for item in order.items):
        context["gift_messages_allowed"] = magento.gift_messages_allowed(settings.store_view_code)
    if order.replaced_order_id:
        context["replaced_commerce_order"] = session.scalar(
            select(AmazonOrderRecord.magento_increment_id).where(
                AmazonOrderRecord.store_id == store_id,
                AmazonOrderRecord.amazon_order_id == order.replaced_order_id,
            )
        )
    return context
