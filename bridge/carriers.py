"""Magento carrier codes and titles -> Amazon carrier codes: the one map used for shipment confirmations.

Magento's own carriers have codes (`ups`, `usps`, `fedex`, `dhl`); a "Custom Value" track has code
`custom` and a free title. Amazon wants its carrier code spelled exactly (`UPS`, `FedEx`...), and a wrong
case files the shipment as "Other", which lowers the valid-tracking rate (peers-and-pains §5.7). Anything
not in the map goes as `Other` with the carrier's name, as confirmShipment requires.
"""

from __future__ import annotations

from dataclasses import dataclass

# Magento code or title (lower case) -> Amazon carrierCode
CARRIERS: dict[str, str] = {
    "ups": "UPS",
    "united parcel service": "UPS",
    "usps": "USPS",
    "united states postal service": "USPS",
    "fedex": "FedEx",
    "federal express": "FedEx",
    "dhl": "DHL",
    "dhl express": "DHL",
    "dhl ecommerce": "DHL eCommerce",
    "ontrac": "OnTrac",
    "lasership": "Lasership",
    "royal mail": "Royal Mail",
    "dpd": "DPD",
    "gls": "GLS",
    "hermes": "Hermes",
    "canada post": "Canada Post",
    "amazon shipping": "Amazon Shipping",
}


@dataclass(frozen=True, slots=True)
class Carrier:
    code: str  # Amazon carrierCode
    name: str | None = None  # carrierName, required with "Other"


def amazon_carrier(carrier_code: str | None, title: str | None) -> Carrier:
    """The Amazon carrier for a Magento track: its code first, then its title, case-insensitively."""
    for key in (carrier_code, title):
        if key and key.strip().lower() in CARRIERS:
            return Carrier(CARRIERS[key.strip().lower()])
    name = (title or "").strip() or (carrier_code or "").strip()
    if not name or name.lower() == "custom":
        name = "Other"
    return Carrier("Other", name)
