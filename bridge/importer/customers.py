"""The one place that decides which Commerce customer an Amazon order is placed for (*Customer Creation*).

- No Customer Creation (guest), ASC's default: a guest order.
- Assign To One Existing Customer: that customer, which must exist in the store view's website.
- Build New Customer Account (ASC): the customer with the buyer's e-mail in the website, found again for
  the buyer's next order; created the first time with the order's address in the address book (default
  billing and shipping). Without a buyer e-mail (no PII role) the order stays a guest order: an account is
  never opened on a made-up address.

Two workers importing two orders of one new buyer at the same moment both search, find nobody and both
create; Magento refuses the second account ("A customer with the same email address already exists in an
associated website."), and that worker then finds and uses the first one: one account, two orders.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from bridge.domain import AmazonOrder
from bridge.importer.order_builder import MARKETPLACE_COUNTRY, OrderBuildError, _address, split_name
from bridge.importer.regions import regions_for
from bridge.magento.errors import MagentoInvalidRequest
from bridge.magento.models import Country, CustomerRef, StoreView
from bridge.order_settings import CustomerCreation, OrderSettings

log = logging.getLogger(__name__)

# Keys of Magento's Customer AddressInterface that the order address shares.
_ADDRESS_KEYS = ("firstname", "lastname", "company", "street", "city", "postcode", "country_id", "telephone",
                 "vat_id")


class CustomerDirectory(Protocol):
    """What this module needs from `MagentoClient`."""

    def find_customers_by_email(self, email: str, *, website_id: int | None = None) -> list[CustomerRef]: ...

    def create_customer(self, *, email: str, firstname: str, lastname: str, website_id: int,
                        store_id: int | None = None, group_id: int | None = None,
                        addresses: Any = ()) -> CustomerRef: ...

    def country(self, country_id: str) -> Country: ...

    def countries(self) -> list[Country]: ...


def customer_for_order(
    magento: CustomerDirectory, settings: OrderSettings, order: AmazonOrder, store: StoreView
) -> CustomerRef | None:
    """The customer the order is placed for; None means a guest order. `OrderBuildError` when impossible."""
    if settings.customer_creation is CustomerCreation.PREDEFINED:
        return _predefined(magento, settings, store)
    if settings.customer_creation is not CustomerCreation.NEW_ACCOUNT or not order.buyer_email:
        return None
    email = order.buyer_email
    found = magento.find_customers_by_email(email, website_id=store.website_id)
    if found:
        return found[0]
    first, last = split_name(order.buyer_name)
    try:
        return magento.create_customer(
            email=email,
            firstname=first,
            lastname=last,
            website_id=store.website_id,
            store_id=store.id,
            addresses=[address_book_entry(magento, order)],
        )
    except MagentoInvalidRequest:
        found = magento.find_customers_by_email(email, website_id=store.website_id)
        if found:
            log.info("order %s: the buyer's account was created by another worker; using it", order.amazon_order_id)
            return found[0]
        raise


def _predefined(magento: CustomerDirectory, settings: OrderSettings, store: StoreView) -> CustomerRef:
    email = (settings.predefined_customer_email or "").strip()
    if not email:
        raise OrderBuildError(
            "Cannot create sales order: Customer Creation is set to one existing customer, but no customer "
            "e-mail is configured; enter it in Order Settings"
        )
    found = magento.find_customers_by_email(email, website_id=store.website_id)
    if not found:
        raise OrderBuildError(
            f'Cannot create sales order: the customer "{email}" set in Order Settings does not exist in the '
            f"website of store view {store.code!r}; create it in Magento or change Order Settings"
        )
    return found[0]


def address_book_entry(magento: CustomerDirectory, order: AmazonOrder) -> dict[str, Any]:
    """The order's shipping address as a Customer AddressInterface, default for billing and shipping.

    Built by the same rules as the order's own addresses (placeholders, region ids), so what the customer
    account keeps equals what the order shows.
    """
    ship_to = order.shipping_address
    country = (ship_to.country_code if ship_to and ship_to.country_code else None) or MARKETPLACE_COUNTRY.get(
        order.marketplace_id or "", "US"
    )
    order_address = _address(
        "shipping",
        name=(ship_to.name if ship_to and ship_to.name else None) or order.buyer_name,
        company=(ship_to.company if ship_to else None) or order.buyer_company,
        source=ship_to,
        email=order.buyer_email or "",
        country_fallback=country,
        region_ids=regions_for(magento, country),
    )
    if order.buyer_vat_id:
        order_address["vat_id"] = order.buyer_vat_id
    entry: dict[str, Any] = {k: order_address[k] for k in _ADDRESS_KEYS if k in order_address}
    if "region" in order_address:
        region: dict[str, Any] = {"region": order_address["region"]}
        if order_address.get("region_code"):
            region["region_code"] = order_address["region_code"]
        if order_address.get("region_id") is not None:
            region["region_id"] = order_address["region_id"]
            entry["region_id"] = order_address["region_id"]
        entry["region"] = region
    entry["default_billing"] = True
    entry["default_shipping"] = True
    return entry
