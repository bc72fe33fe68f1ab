"""Who is calling, and may they: OAuth 1.0a (verified with oauthlib), integration token as Bearer, ACL.

Magento 2.4.4+ refuses an integration access token used as a Bearer token unless
`oauth/consumer/enable_integration_as_bearer` is on; the client then sees the same 401 ACL body as for
a missing grant, so the twin does exactly that.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature, utils

from .errors import MagentoError, unauthorized

# Magento's NonceGenerator allows a timestamp at most this far in the future.
TIME_DEVIATION_SECONDS = 600

# child -> parent in Magento's ACL tree (acl.xml of the modules involved); a grant on an ancestor covers
# its descendants, as Laminas ACL resource inheritance does.
ACL_PARENTS: dict[str, str] = {
    "Magento_Sales::sales": "Magento_Backend::admin",
    "Magento_Sales::sales_operation": "Magento_Sales::sales",
    "Magento_Sales::sales_order": "Magento_Sales::sales_operation",
    "Magento_Sales::actions": "Magento_Sales::sales_order",
    **{
        f"Magento_Sales::{child}": "Magento_Sales::actions"
        for child in (
            "create", "actions_view", "email", "reorder", "actions_edit", "cancel", "review_payment",
            "capture", "invoice", "creditmemo", "hold", "unhold", "ship", "comment", "emails",
        )
    },
    "Magento_Sales::sales_invoice": "Magento_Sales::sales_operation",
    "Magento_Sales::shipment": "Magento_Sales::sales_operation",
    "Magento_Sales::sales_creditmemo": "Magento_Sales::sales_operation",
    "Magento_Sales::transactions": "Magento_Sales::sales_operation",
    "Magento_Sales::transactions_fetch": "Magento_Sales::transactions",
    "Magento_Catalog::catalog": "Magento_Backend::admin",
    "Magento_Catalog::catalog_inventory": "Magento_Catalog::catalog",
    "Magento_Catalog::products": "Magento_Catalog::catalog_inventory",
    "Magento_Backend::stores": "Magento_Backend::admin",
    "Magento_Backend::stores_settings": "Magento_Backend::stores",
    "Magento_Backend::store": "Magento_Backend::stores_settings",
    "Magento_CatalogInventory::cataloginventory": "Magento_Backend::stores_settings",
    "Magento_InventoryApi::inventory": "Magento_Backend::stores",
    "Magento_InventoryApi::source": "Magento_InventoryApi::inventory",
    "Magento_InventoryApi::stock": "Magento_InventoryApi::inventory",
    "Magento_InventoryApi::stock_source_item_assign": "Magento_InventoryApi::source",
    "Magento_InventorySalesApi::stock": "Magento_InventoryApi::stock",
    "Magento_Customer::customer": "Magento_Backend::admin",
    "Magento_Customer::manage": "Magento_Customer::customer",
}


def acl_allows(granted: frozenset[str] | None, resource: str) -> bool:
    """True when `resource` or one of its ancestors is granted (None = the integration has "All")."""
    if granted is None:
        return True
    node: str | None = resource
    while node is not None:
        if node in granted:
            return True
        node = ACL_PARENTS.get(node)
    return False


@dataclass(frozen=True)
class Credentials:
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


class NonceRegistry:
    """Remembers (nonce, timestamp) pairs: Magento refuses a nonce the consumer already used."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def use(self, nonce: str, timestamp: str) -> bool:
        with self._lock:
            key = (nonce, timestamp)
            if key in self._seen:
                return False
            self._seen.add(key)
            return True


def _oauth_fail(message: str, parameters: list | dict | None = None) -> MagentoError:
    return MagentoError(message, 401, parameters)


def verify_oauth(
    header: str,
    method: str,
    url: str,
    body: str | None,
    creds: Credentials,
    nonces: NonceRegistry,
) -> None:
    """Check a request signed with the integration's credentials; raise 401 if not.

    The oauth_* parameters come from the `Authorization: OAuth ...` header or, without one, from the query
    string (Magento's OauthHelper reads both).
    """
    if header:
        try:
            params = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
        except (ValueError, IndexError) as exc:
            raise _oauth_fail("The OAuth header is malformed.") from exc
    else:
        params = {k: v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True) if k.startswith("oauth_")}
    for name in (
        "oauth_consumer_key", "oauth_signature_method", "oauth_signature", "oauth_nonce", "oauth_timestamp",
        "oauth_token",
    ):
        if not params.get(name):
            raise MagentoError('"%1" is required. Enter and try again.', 400, [name])
    if params.get("oauth_version", "1.0") != "1.0":
        raise _oauth_fail("The OAuth version is not supported.")
    if params["oauth_consumer_key"] != creds.consumer_key:
        raise _oauth_fail("A consumer having the specified key does not exist")
    if params["oauth_token"] != creds.access_token:
        raise _oauth_fail("A token with the specified ID does not exist. Verify the token and try again.")
    method_name = params["oauth_signature_method"]
    if method_name not in ("HMAC-SHA256", "HMAC-SHA1"):
        raise _oauth_fail('The "%1" signature method is not supported.', [method_name])
    try:
        ts = int(params["oauth_timestamp"])
    except ValueError as exc:
        raise _oauth_fail("An invalid timestamp value was provided in the oauth_timestamp parameter.") from exc
    if ts <= 0 or ts > time.time() + TIME_DEVIATION_SECONDS:
        raise _oauth_fail("An invalid timestamp value was provided in the oauth_timestamp parameter.")

    headers = {"Authorization": header} if header else {}
    req = OAuthRequest(url, http_method=method, body=body, headers=headers)
    req.params = signature.collect_parameters(
        uri_query=urlsplit(url).query, body=body, headers=headers or None, exclude_oauth_signature=True
    )
    req.signature = params["oauth_signature"]
    verify = signature.verify_hmac_sha256 if method_name == "HMAC-SHA256" else signature.verify_hmac_sha1
    if not verify(req, creds.consumer_secret, creds.access_token_secret):
        raise _oauth_fail("The signature is invalid. Verify and try again.")
    # Only a correctly signed request consumes its nonce, so a forged replay can't burn it.
    if not nonces.use(params["oauth_nonce"], params["oauth_timestamp"]):
        raise _oauth_fail("The nonce is already being used by the consumer with ID %1.", ["1"])


def require_acl(granted: frozenset[str] | None, resource: str) -> None:
    if not acl_allows(granted, resource):
        raise unauthorized(resource)
