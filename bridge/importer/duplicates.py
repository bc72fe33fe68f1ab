"""A second Commerce order for one Amazon order is never left silent.

Should Magento hold more than one order with the same `ext_order_id` (a create saved after the bridge gave
up on it, before this bridge knew better; an order keyed in by hand), the bridge keeps one — the one it is
linked to, else the oldest — and settles each extra: canceled, or refunded offline with a credit memo if it
was invoiced, with a comment naming the kept order; the event shows on Amazon Order Details.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from bridge.magento.errors import MagentoError
from bridge.magento.models import MagentoOrderRef
from bridge.storage.models import AmazonOrderRecord
from bridge.storage.orders import add_event

if TYPE_CHECKING:
    from bridge.magento.client import MagentoClient

log = logging.getLogger(__name__)

SETTLED_STATES = frozenset({"canceled", "closed"})


def choose_kept(refs: Sequence[MagentoOrderRef], linked_entity_id: int | None) -> MagentoOrderRef:
    """The Commerce order to keep: the linked one if it is among them, else the oldest."""
    for ref in refs:
        if ref.entity_id == linked_entity_id:
            return ref
    return min(refs, key=lambda r: r.entity_id)


def duplicate_comment(amazon_order_id: str, kept: MagentoOrderRef, action: str) -> str:
    return (
        f"Duplicate of Commerce order #{escape(str(kept.increment_id))} for Amazon order "
        f"{escape(amazon_order_id)}: {action} by amazon-bridge. Order #{escape(str(kept.increment_id))} is the "
        "one kept."
    )


def settle_duplicates(
    magento: MagentoClient, record: AmazonOrderRecord, kept: MagentoOrderRef, extras: Sequence[MagentoOrderRef],
    actor: str,
) -> int:
    """Cancel (or credit-memo) every extra Commerce order; returns how many were settled now.

    Repeating it changes nothing: an extra already canceled or closed is left as it is.
    """
    settled = 0
    for extra in extras:
        if extra.entity_id == kept.entity_id:
            continue
        try:
            full = magento.get_order(extra.entity_id)
            if full.get("state") in SETTLED_STATES:
                continue
            invoiced = Decimal(str(full.get("total_invoiced") or 0)) > 0
            if invoiced:
                comment = duplicate_comment(record.amazon_order_id, kept, "refunded offline")
                magento.refund_order(extra.entity_id, comment=comment)
                refunded = magento.get_order(extra.entity_id)  # the memo's comment stays on the memo: say it here
                magento.add_comment(extra.entity_id, comment, status=refunded.get("status") or "closed")
                what = "refunded offline (credit memo)"
            else:
                if not magento.cancel(extra.entity_id):
                    raise MagentoError(f"Magento refused to cancel order #{extra.increment_id}")
                magento.add_comment(
                    extra.entity_id, duplicate_comment(record.amazon_order_id, kept, "canceled"), status="canceled"
                )
                what = "canceled"
        except MagentoError as exc:
            log.error("duplicate Commerce order %s for %s not settled: %s", extra.entity_id,
                      record.amazon_order_id, exc)
            add_event(record, "duplicate", f"Commerce order #{extra.increment_id} duplicates #{kept.increment_id} "
                      f"but could not be canceled ({exc}); please cancel it in Magento.", actor)
            continue
        add_event(record, "duplicate", f"Commerce order #{extra.increment_id} was a duplicate of "
                  f"#{kept.increment_id}; {what} with a comment naming #{kept.increment_id}.", actor)
        settled += 1
    return settled
