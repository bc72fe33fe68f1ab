"""Is what an order asks for salable? Asked of Magento once per sync batch, not once per SKU per order.

The sync asks MSI's `are-product-salable-for-requested-qty` once for the *sum* of every SKU over a batch of
orders. What Magento says is salable in that sum is a *budget*, shared through Redis for a short time:
each import takes its quantities from it (atomically, so two workers never spend the same units) and
asks Magento nothing. A SKU without budget left (other orders took it, it expired, the sum was not salable,
Redis is down) is asked about live, all of the order's such SKUs in one call. An order is thus never
called salable unless Magento said its quantity, together with the batch's, was salable moments ago.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

import redis

from bridge.domain import AmazonOrder

if TYPE_CHECKING:
    from bridge.magento.client import MagentoClient

log = logging.getLogger(__name__)

BUDGET_TTL_SECONDS = 600  # as long as a sync's imports take; stock sold elsewhere meanwhile is seen after it

# Take ARGV[1] from the budget in KEYS[1] if it holds that much; 1 when taken. INCRBYFLOAT keeps the TTL.
_TAKE = """
local left = tonumber(redis.call('GET', KEYS[1]) or '-1')
local want = tonumber(ARGV[1])
if left >= want then
  redis.call('INCRBYFLOAT', KEYS[1], -want)
  return 1
end
return 0
"""


# Add ARGV[1] to the budget in KEYS[1] (creating it), and give it a fresh lifetime of ARGV[2] seconds.
_ADD = """
redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


class SalableBudget:
    """Salable quantities granted to a batch of orders, per (Magento, stock, SKU), in Redis."""

    def __init__(self, connection: redis.Redis | None, prefix: str, ttl_seconds: int = BUDGET_TTL_SECONDS):
        self.connection = connection
        self.prefix = prefix + "salable-budget:"
        self.ttl_seconds = ttl_seconds

    @classmethod
    def for_client(cls, magento: MagentoClient) -> SalableBudget:
        cache = magento.reference_cache
        if cache is None:
            return cls(None, "")
        return cls(cache.connection, cache.prefix)

    def _key(self, stock_id: int, sku: str) -> str:
        return f"{self.prefix}{int(stock_id)}:{sku.casefold()}"

    def left(self, stock_id: int, skus: list[str]) -> dict[str, Decimal]:
        """What earlier batches granted and no import has taken yet."""
        if self.connection is None or not skus:
            return {}
        try:
            values = self.connection.mget([self._key(stock_id, sku) for sku in skus])
        except redis.RedisError as exc:
            log.warning("salable budget unavailable: %s", exc)
            return {}
        return {sku: Decimal(v.decode() if isinstance(v, bytes) else v)
                for sku, v in zip(skus, values, strict=True) if v is not None}

    def grant(self, stock_id: int, quantities: Mapping[str, Decimal | int]) -> None:
        """Add to the budget. Callers add only what Magento said is salable *together with* what is left."""
        if self.connection is None or not quantities:
            return
        try:
            script = self.connection.register_script(_ADD)
            for sku, qty in quantities.items():
                script(keys=[self._key(stock_id, sku)], args=[str(qty), self.ttl_seconds])
        except redis.RedisError as exc:
            log.warning("salable budget unavailable: %s", exc)

    def take(self, stock_id: int, quantities: Mapping[str, Decimal | int]) -> set[str]:
        """The SKUs whose quantity came out of the budget (salable without asking)."""
        if self.connection is None:
            return set()
        taken: set[str] = set()
        try:
            script = self.connection.register_script(_TAKE)
            for sku, qty in quantities.items():
                if script(keys=[self._key(stock_id, sku)], args=[str(qty)]) == 1:
                    taken.add(sku)
        except redis.RedisError as exc:
            log.warning("salable budget unavailable: %s", exc)
        return taken


def batch_quantities(orders: Iterable[tuple[AmazonOrder, Callable[[str], str]]]) -> dict[str, int]:
    """Quantity per catalog SKU over several merchant-fulfilled orders (FBA orders take no Commerce stock)."""
    from bridge.stock import quantities

    total: dict[str, int] = {}
    for order, catalog_sku in orders:
        if order.is_fba:
            continue
        for sku, qty in quantities(order, catalog_sku).items():
            if qty > 0:
                total[sku] = total.get(sku, 0) + qty
    return total


def grant_for_batch(magento: MagentoClient, totals: Mapping[str, int]) -> int:
    """Ask Magento once about a batch's totals and grant what is salable; the number of SKUs granted."""
    if not totals:
        return 0
    stock_id = magento.default_stock_id()
    budget = SalableBudget.for_client(magento)
    # Earlier batches' orders may not be imported yet: ask whether theirs and this batch's fit together.
    left = budget.left(stock_id, list(totals))
    answer = magento.are_salable_for_qty({sku: left.get(sku, 0) + qty for sku, qty in totals.items()}, stock_id)
    granted = {sku: totals[sku] for sku, ok in answer.items() if ok}
    budget.grant(stock_id, granted)
    return len(granted)


def unsalable_skus(magento: MagentoClient, wanted: Mapping[str, int]) -> list[str]:
    """The SKUs of one order that are not salable in its quantity: budget first, then one live call."""
    wanted = {sku: qty for sku, qty in wanted.items()}
    if not wanted:
        return []
    stock_id = magento.default_stock_id()
    covered = SalableBudget.for_client(magento).take(stock_id, wanted)
    rest = {sku: Decimal(qty) for sku, qty in wanted.items() if sku not in covered}
    if not rest:
        return []
    answer = magento.are_salable_for_qty(rest, stock_id)
    return [sku for sku in rest if not answer.get(sku, False)]
