"""Field names of Magento's Sales data interfaces (OrderInterface, OrderItemInterface, OrderAddressInterface,
OrderPaymentInterface, OrderStatusHistoryInterface): a key outside them is refused by ServiceInputProcessor
with `"%fieldName" is not supported. Correct the field name and try again.` (400)."""

from __future__ import annotations

from typing import Any

from .errors import MagentoError

_MONEY = ("discount_amount", "discount_canceled", "discount_invoiced", "discount_refunded", "grand_total",
          "shipping_amount", "shipping_canceled", "shipping_invoiced", "shipping_refunded", "shipping_tax_amount",
          "shipping_tax_refunded", "subtotal", "subtotal_canceled", "subtotal_invoiced", "subtotal_refunded",
          "tax_amount", "tax_canceled", "tax_invoiced", "tax_refunded", "total_canceled", "total_invoiced",
          "total_offline_refunded", "total_online_refunded", "total_paid", "total_qty_ordered", "total_refunded",
          "adjustment_negative", "adjustment_positive", "shipping_discount_amount", "subtotal_incl_tax", "total_due",
          "discount_tax_compensation_amount", "discount_tax_compensation_invoiced",
          "discount_tax_compensation_refunded", "shipping_incl_tax")

ORDER_FIELDS = frozenset({
    *_MONEY, *(f"base_{m}" for m in _MONEY),
    "entity_id", "state", "status", "coupon_code", "protect_code", "shipping_description", "is_virtual", "store_id",
    "customer_id", "base_to_global_rate", "base_to_order_rate", "base_total_invoiced_cost", "store_to_base_rate",
    "store_to_order_rate", "can_ship_partially", "can_ship_partially_item", "customer_is_guest",
    "customer_note_notify", "billing_address_id", "customer_group_id", "edit_increment", "email_sent",
    "forced_shipment_with_invoice", "payment_auth_expiration", "quote_address_id", "quote_id",
    "payment_authorization_amount", "weight", "customer_dob", "increment_id", "applied_rule_ids",
    "base_currency_code", "customer_email", "customer_firstname", "customer_lastname", "customer_middlename",
    "customer_prefix", "customer_suffix", "customer_taxvat", "discount_description", "ext_customer_id",
    "ext_order_id", "global_currency_code", "hold_before_state", "hold_before_status", "order_currency_code",
    "original_increment_id", "relation_child_id", "relation_child_real_id", "relation_parent_id",
    "relation_parent_real_id", "remote_ip", "store_currency_code", "store_name", "x_forwarded_for",
    "customer_note", "created_at", "updated_at", "total_item_count", "customer_gender",
    "shipping_discount_tax_compensation_amount", "base_shipping_discount_tax_compensation_amnt",
    "items", "billing_address", "payment", "status_histories", "extension_attributes",
})

_ITEM_MONEY = ("price", "original_price", "tax_amount", "tax_invoiced", "discount_amount", "discount_invoiced",
               "amount_refunded", "row_total", "row_invoiced", "tax_before_discount", "price_incl_tax",
               "row_total_incl_tax", "discount_tax_compensation_amount", "discount_tax_compensation_invoiced",
               "discount_tax_compensation_refunded", "tax_refunded", "discount_refunded", "cost",
               "weee_tax_applied_amount", "weee_tax_disposition", "weee_tax_row_disposition")
ORDER_ITEM_FIELDS = frozenset({
    *_ITEM_MONEY, *(f"base_{m}" for m in _ITEM_MONEY),
    "item_id", "order_id", "parent_item_id", "quote_item_id", "store_id", "created_at", "updated_at", "product_id",
    "product_type", "weight", "is_virtual", "sku", "name", "description", "applied_rule_ids", "additional_data",
    "is_qty_decimal", "no_discount", "qty_backordered", "qty_canceled", "qty_invoiced", "qty_ordered",
    "qty_refunded", "qty_shipped", "qty_returned", "tax_percent", "discount_percent", "row_weight",
    "ext_order_item_id", "locked_do_invoice", "locked_do_ship", "tax_canceled",
    "discount_tax_compensation_canceled", "gw_id", "gw_base_price", "gw_price", "gw_base_tax_amount",
    "gw_tax_amount", "gw_base_price_invoiced", "gw_price_invoiced", "gw_base_tax_amount_invoiced",
    "gw_tax_amount_invoiced", "gw_base_price_refunded", "gw_price_refunded", "gw_base_tax_amount_refunded",
    "gw_tax_amount_refunded", "free_shipping", "event_id", "base_weee_tax_applied_row_amnt",
    "weee_tax_applied_row_amount", "weee_tax_applied", "parent_item", "product_option", "extension_attributes",
})

ORDER_ADDRESS_FIELDS = frozenset({
    "entity_id", "parent_id", "customer_address_id", "quote_address_id", "region_id", "customer_id", "fax",
    "region", "region_code", "postcode", "lastname", "street", "city", "email", "telephone", "country_id",
    "firstname", "address_type", "prefix", "middlename", "suffix", "company", "vat_id", "vat_is_valid",
    "vat_request_id", "vat_request_date", "vat_request_success", "extension_attributes",
})

ORDER_PAYMENT_FIELDS = frozenset({
    "entity_id", "parent_id", "base_shipping_captured", "shipping_captured", "amount_refunded", "base_amount_paid",
    "amount_canceled", "base_amount_authorized", "base_amount_paid_online", "base_amount_refunded_online",
    "base_shipping_amount", "shipping_amount", "amount_paid", "amount_authorized", "base_amount_ordered",
    "base_shipping_refunded", "shipping_refunded", "base_amount_refunded", "amount_ordered",
    "base_amount_canceled", "quote_payment_id", "additional_data", "cc_exp_month", "cc_ss_start_year",
    "echeck_bank_name", "method", "cc_debug_request_body", "cc_secure_verify", "protection_eligibility",
    "cc_approval", "cc_last4", "cc_status_description", "echeck_type", "cc_debug_response_serialized",
    "cc_ss_start_month", "echeck_account_type", "last_trans_id", "cc_cid_status", "cc_owner", "cc_type",
    "po_number", "cc_exp_year", "cc_status", "echeck_routing_number", "account_status", "anet_trans_method",
    "cc_debug_response_body", "cc_ss_issue", "echeck_account_name", "cc_avs_status", "cc_number_enc",
    "cc_trans_id", "address_status", "additional_information", "extension_attributes",
})

STATUS_HISTORY_FIELDS = frozenset({
    "entity_id", "parent_id", "comment", "status", "is_customer_notified", "is_visible_on_front", "created_at",
    "entity_name", "extension_attributes",
})
# Magento\GiftMessage\Api\Data\MessageInterface (order extension attribute `gift_message`)
GIFT_MESSAGE_FIELDS = frozenset({"gift_message_id", "customer_id", "sender", "recipient", "message",
                                 "extension_attributes"})
SHIPPING_ASSIGNMENT_FIELDS = frozenset({"shipping", "items", "stock_id", "extension_attributes"})
SHIPPING_FIELDS = frozenset({"address", "method", "total", "extension_attributes"})


def check_fields(data: Any, allowed: frozenset[str]) -> None:
    """Refuse the first key the data interface has no setter for."""
    if not isinstance(data, dict):
        return
    for key in data:
        if key not in allowed:
            raise MagentoError('"%fieldName" is not supported. Correct the field name and try again.', 400,
                               {"fieldName": key})


def check_order(entity: dict[str, Any]) -> None:
    check_fields(entity, ORDER_FIELDS)
    for item in entity.get("items") or [] if isinstance(entity.get("items"), list) else []:
        check_fields(item, ORDER_ITEM_FIELDS)
    check_fields(entity.get("billing_address"), ORDER_ADDRESS_FIELDS)
    check_fields(entity.get("payment"), ORDER_PAYMENT_FIELDS)
    histories = entity.get("status_histories")
    for h in histories if isinstance(histories, list) else []:
        check_fields(h, STATUS_HISTORY_FIELDS)
    ext = entity.get("extension_attributes")
    assignments = ext.get("shipping_assignments") if isinstance(ext, dict) else None
    for a in assignments if isinstance(assignments, list) else []:
        check_fields(a, SHIPPING_ASSIGNMENT_FIELDS)
        shipping = a.get("shipping") if isinstance(a, dict) else None
        check_fields(shipping, SHIPPING_FIELDS)
        if isinstance(shipping, dict):
            check_fields(shipping.get("address"), ORDER_ADDRESS_FIELDS)
        items = a.get("items") if isinstance(a, dict) else None
        for item in items if isinstance(items, list) else []:
            check_fields(item, ORDER_ITEM_FIELDS)
