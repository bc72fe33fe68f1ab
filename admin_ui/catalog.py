"""What the admin asks Magento while a merchant waits: does a catalog SKU exist, which products match a
search, which countries and regions Magento's directory knows.

One call each, no retries with back-off (a page must answer), and the directory through the bridge's shared
reference cache (Redis, ten minutes), so the details page does not call Magento on every view.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge.errors import RetryLater, is_transient
from bridge.magento.errors import MagentoError, MagentoNotFound
from bridge.magento.models import Country
from bridge.magento.search import SearchCriteria
from bridge.retry import NO_RETRY

if TYPE_CHECKING:
    from bridge.magento.client import MagentoClient

log = logging.getLogger(__name__)

PICKER_LIMIT = 10


class CatalogUnavailable(RetryLater):
    """Magento did not answer; the message names it and says what to do."""


@dataclass(frozen=True)
class ProductChoice:
    sku: str
    name: str


def _client() -> MagentoClient:
    from bridge.config import ConfigError

    from . import get_runtime

    try:
        client = get_runtime().magento_client()
    except ConfigError as exc:  # e.g. the MAGENTO_* variables are not set for the admin's process
        raise CatalogUnavailable(f"The admin cannot reach Magento: {exc}.") from exc
    client.retry = NO_RETRY
    return client


def _unavailable(what: str, exc: Exception) -> CatalogUnavailable:
    log.warning("Magento did not answer the admin's %s: %s", what, exc)
    if is_transient(exc):
        return CatalogUnavailable(
            f"Magento did not answer ({exc}); the {what} could not be checked. Try again in a moment, or check "
            "[magento] base_url and the integration's access in the bridge's configuration."
        )
    return CatalogUnavailable(
        f"Magento refused the {what} ({exc}); check the integration's access and the store settings."
    )


def product_missing(sku: str) -> str | None:
    """None when Magento's catalog has `sku`, else Magento's own words for why not."""
    try:
        _client().get_product(sku)
    except MagentoNotFound as exc:
        return exc.message
    except MagentoError as exc:
        raise _unavailable("catalog SKU", exc) from exc
    return None


def search_products(text: str, limit: int = PICKER_LIMIT) -> list[ProductChoice]:
    """Products whose SKU or name contains `text` (Magento's `like`, OR-ed in one filter group)."""
    from bridge.magento.search import Filter

    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    criteria = SearchCriteria().where_any(Filter("sku", pattern, "like"), Filter("name", pattern, "like"))
    try:
        result = _client().search("V1/products", criteria.page(limit), fields="items[sku,name],total_count")
    except MagentoError as exc:
        raise _unavailable("product search", exc) from exc
    return [ProductChoice(str(item.get("sku", "")), str(item.get("name") or "")) for item in result.items][:limit]


# After Magento failed to answer for the country list, the details page does not ask again for a minute, so
# each view of an order does not wait on Magento's connect time-out (saving still asks, and says so).
_DIRECTORY_DOWN: dict[str, float] = {}
DOWN_SECONDS = 60.0


def countries(*, fresh: bool = False) -> list[Country]:
    """Magento's countries with their regions, sorted by name."""
    key = _client_key()
    if not fresh and _DIRECTORY_DOWN.get(key, 0.0) > time.monotonic():
        raise CatalogUnavailable("Magento did not answer a moment ago; the country list could not be read.")
    try:
        found = _client().countries()
    except MagentoError as exc:
        _DIRECTORY_DOWN[key] = time.monotonic() + DOWN_SECONDS
        raise _unavailable("country list", exc) from exc
    _DIRECTORY_DOWN.pop(key, None)
    return sorted(found, key=lambda c: (c.name or c.id).casefold())


def _client_key() -> str:
    from . import get_settings

    return get_settings().magento.base_url
