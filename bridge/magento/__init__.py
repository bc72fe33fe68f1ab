"""Magento 2 REST client of the bridge: `MagentoClient`, its error hierarchy and search criteria."""

from bridge.magento.client import MagentoClient, MagentoProtocolError
from bridge.magento.errors import (
    MagentoAuthError,
    MagentoConnectionError,
    MagentoError,
    MagentoHTTPError,
    MagentoInvalidRequest,
    MagentoNotFound,
    MagentoRateLimited,
    MagentoServerError,
    MagentoTimeout,
    MagentoTransportError,
)
from bridge.magento.models import Country, CustomerRef, MagentoOrderRef, Product, Region, SourceItem, StoreView, Track
from bridge.magento.search import Filter, SearchCriteria, SearchResult
from bridge.retry import RetryPolicy

__all__ = [
    "Country",
    "CustomerRef",
    "Filter",
    "MagentoAuthError",
    "MagentoClient",
    "MagentoConnectionError",
    "MagentoError",
    "MagentoHTTPError",
    "MagentoInvalidRequest",
    "MagentoNotFound",
    "MagentoOrderRef",
    "MagentoProtocolError",
    "MagentoRateLimited",
    "MagentoServerError",
    "MagentoTimeout",
    "MagentoTransportError",
    "Product",
    "Region",
    "RetryPolicy",
    "SearchCriteria",
    "SearchResult",
    "SourceItem",
    "StoreView",
    "Track",
]
