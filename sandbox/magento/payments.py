"""Payment method titles as a clean 2.4 install configures them (payment/<code>/title)."""

from __future__ import annotations

METHOD_TITLES = {
    "purchaseorder": "Purchase Order",
    "checkmo": "Check / Money order",
    "cashondelivery": "Cash On Delivery",
    "free": "No Payment Information Required",
    "banktransfer": "Bank Transfer Payment",
}


def method_title(code: str | None) -> str:
    """Unknown codes show as the code itself, as Magento's admin does for a method with no model."""
    if not code:
        return ""
    return METHOD_TITLES.get(code, code)
