"""Order Settings per store, with ASC's labels, tooltips and defaults (ASC guide §2).

Everyone may read them; only admins save. With *Import Amazon Orders* set to Disabled every other field is
greyed out and, as in ASC, the server ignores them too: only the switch itself is saved.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import ValidationError

from bridge.amazon.feeds import ADJUSTMENT_REASON_LABELS
from bridge.domain import CANCEL_REASONS
from bridge.order_settings import (
    DEFAULT_ADJUSTMENT_REASON,
    DEFAULT_COMMERCE_CANCEL_REASON,
    DEFAULT_SHIPPING_METHOD,
    NoTrackingPolicy,
)
from bridge.storage.models import Role, Store, StoreOrderSettings

from .banners import selected_store
from .extensions import db
from .forms import choices

bp = Blueprint("settings", __name__)

SAVED_MESSAGE = "You have successfully saved the order settings."
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
METHOD_RE = re.compile(r"^[a-z0-9]+(?:[a-z0-9-]*)_[a-z0-9_-]+$", re.IGNORECASE)
PREFIX_RE = re.compile(r"^[A-Za-z0-9_-]{0,32}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STATUS_NOT_ALLOWED = {"complete", "canceled", "closed"}

TOOLTIPS = {
    "import_enabled": "Enabling will import Amazon orders into Magento, where the orders and fulfillment will be "
    "managed from the Magento admin.",
    "store_view_code": "The default store that Amazon orders will be imported into.",
    "customer_creation": "Guest orders carry the buyer's e-mail; a new account is looked up or created by that "
    "e-mail; or every order goes to one existing customer.",
    "predefined_customer_email": "The existing Magento customer that every Amazon order is placed for.",
    "order_number_source": "If you are using an external system for order fulfillment, it is recommended to use "
    "Magento Order Number as the order source to prevent any incompatibilities with Amazon order numbers.",
    "order_number_prefix": "Put before the Amazon order number in the Commerce order number, e.g. AMZ-.",
    "reserve_pending": "Determines whether pending order will place a reserve on the Magento available quantity - "
    "thus reducing by the sold quantity. Applies when Stock Handling decrements source quantities; a reserved "
    "order that Amazon cancels before import gives its quantity back.",
    "stock_handling": "Orders created over Magento's REST API get no stock reservation. Choose whether the bridge "
    "subtracts the ordered quantity from the source once per merchant-fulfilled order. Never done for FBA.",
    "order_status_mode": "Use Magento's default processing status, or a custom one.",
    "custom_processing_status": "The Commerce order status given to imported orders (not complete, canceled "
    "or closed).",
    "payment_method": "The Magento payment method code; the Amazon order number is stored as the PO number.",
    "shipping_methods": "One mapping per line: Amazon ship service level = Magento carrier_method code. "
    "The line * = ... is used for every other level.",
    "import_fba": "Fulfilled by Amazon orders become Commerce orders once Shipped, completed at once, without "
    "touching stock.",
    "create_invoice": "Create an offline invoice right after the order, as Amazon Sales Channel does.",
    "amazon_collected_tax": "Tax that Amazon itself collects and remits (US marketplace facilitator, UK VOEC, EU "
    "IOSS) is not your tax. Exclude: the Commerce order carries no tax for those items and its grand total is "
    "Amazon's total minus that tax. Include: booked like your own tax. Either way a comment on the order says "
    "how much Amazon collected and who remits it.",
    "import_from": "Orders placed before this time (UTC) are listed but never imported. Amazon orders that "
    "existed before the store was connected are never imported.",
    "no_tracking_policy": "A Commerce shipment without a tracking number: hold it and warn in the order's history "
    "(it is confirmed on Amazon once a tracking number is added), or confirm it on Amazon at once with the "
    "Commerce shipment number in place of a tracking number.",
    "adjustment_reason": "The reason Amazon receives with the refund when a credit memo is created in Commerce "
    "for a shipped order.",
    "commerce_cancel_reason": "The reason Amazon and the buyer receive when an Unshipped order is canceled (or fully "
    "refunded) in Commerce.",
}

ENABLED = (("1", "Enabled"), ("0", "Disabled"))
NO_TRACKING_CHOICES = (
    (NoTrackingPolicy.HOLD.value, "Hold And Warn"),
    (NoTrackingPolicy.SEND.value, "Send Without Tracking"),
)


def _one_of(field: SelectField, pairs) -> None:
    if field.data and field.data not in {value for value, _ in pairs}:
        raise ValidationError("Choose one of the listed values.")


class OrderSettingsForm(FlaskForm):
    import_enabled = SelectField("Import Amazon Orders", choices=choices(ENABLED))
    store_view_code = StringField("Import Amazon Orders Into Magento Store")
    customer_creation = SelectField(
        "Customer Creation",
        choices=choices(
            [
                ("guest", "No Customer Creation (guest)"),
                ("new_account", "Build New Customer Account"),
                ("predefined", "Assign To One Existing Customer"),
            ]
        ),
    )
    predefined_customer_email = StringField("Existing Customer E-mail")
    order_number_source = SelectField(
        "Order Number Source",
        choices=choices(
            [("magento", "Build Using Magento Order Number"), ("amazon", "Build Using Amazon Order Number")]
        ),
    )
    order_number_prefix = StringField("Order Number Prefix")
    reserve_pending = SelectField(
        "Pending Orders", choices=choices([("1", "Reserve Quantity"), ("0", "Do Not Reserve Quantity")])
    )
    stock_handling = SelectField(
        "Stock For New Orders",
        choices=choices(
            [
                ("none", "Do Not Change Stock"),
                ("decrement_source", "Decrement Source Quantity (merchant-fulfilled)"),
            ]
        ),
    )
    order_status_mode = SelectField(
        "Order Status", choices=choices([("default", "Default Order Status"), ("custom", "Custom Order Status")])
    )
    custom_processing_status = StringField("Processing Order Status")
    payment_method = StringField("Payment Method Code")
    shipping_methods = TextAreaField("Shipping Method Mapping")
    import_fba = SelectField("Import FBA Orders", choices=choices(ENABLED))
    create_invoice = SelectField("Create Invoice", choices=choices([("1", "Yes"), ("0", "No")]))
    import_from = StringField("Import Orders Placed From (UTC)")
    amazon_collected_tax = SelectField(
        "Tax Collected By Amazon",
        choices=choices([("exclude", "Exclude From Commerce Order"), ("include", "Include In Commerce Order")]),
        default="exclude",
    )
    # Commerce -> Amazon. A post without them (an older form) keeps what is stored.
    no_tracking_policy = SelectField(
        "Shipment Without Tracking Number",
        choices=choices(NO_TRACKING_CHOICES),
        validate_choice=False,
    )
    adjustment_reason = SelectField(
        "Refund Reason For Credit Memos", choices=choices(ADJUSTMENT_REASON_LABELS), validate_choice=False
    )
    commerce_cancel_reason = SelectField(
        "Cancel Reason For Commerce Cancels", choices=choices(CANCEL_REASONS), validate_choice=False
    )

    REQUIRED = ("import_enabled", "store_view_code", "reserve_pending", "order_status_mode", "payment_method")

    def validate(self, extra_validators: Any = None) -> bool:
        """With import disabled only the switch counts; otherwise every field and the cross-field rules."""
        if self.import_enabled.data == "0":
            return self.import_enabled.validate(self)
        ok = super().validate(extra_validators)
        for name in self.REQUIRED:
            field = getattr(self, name)
            if not (field.data or "").strip():
                field.errors = [*field.errors, "This is a required field."]
                ok = False
        return ok and not any(field.errors for field in self)

    def validate_no_tracking_policy(self, field: SelectField) -> None:
        _one_of(field, NO_TRACKING_CHOICES)

    def validate_adjustment_reason(self, field: SelectField) -> None:
        _one_of(field, ADJUSTMENT_REASON_LABELS)

    def validate_commerce_cancel_reason(self, field: SelectField) -> None:
        _one_of(field, CANCEL_REASONS)

    def validate_store_view_code(self, field: StringField) -> None:
        if field.data and not CODE_RE.match(field.data.strip()):
            raise ValidationError("Use a Magento store view code: lower-case letters, digits and _, e.g. default.")

    def validate_predefined_customer_email(self, field: StringField) -> None:
        value = (field.data or "").strip()
        if self.customer_creation.data == "predefined" and not value:
            raise ValidationError("Give the e-mail of the customer every order is placed for.")
        if value and not EMAIL_RE.match(value):
            raise ValidationError("Enter a valid e-mail address.")

    def validate_order_number_prefix(self, field: StringField) -> None:
        if not PREFIX_RE.match((field.data or "").strip()):
            raise ValidationError("Up to 32 letters, digits, - or _.")

    def validate_custom_processing_status(self, field: StringField) -> None:
        value = (field.data or "").strip()
        if self.order_status_mode.data != "custom":
            return
        if not value:
            raise ValidationError("This is a required field.")
        if value.lower() in STATUS_NOT_ALLOWED:
            raise ValidationError("Choose a status other than complete, canceled or closed.")
        if not CODE_RE.match(value):
            raise ValidationError("Use a Magento order status code, e.g. processing.")

    def validate_payment_method(self, field: StringField) -> None:
        if field.data and not CODE_RE.match(field.data.strip()):
            raise ValidationError("Use a Magento payment method code, e.g. purchaseorder or checkmo.")

    def validate_shipping_methods(self, field: TextAreaField) -> None:
        parse_shipping_methods(field.data or "")

    def validate_import_from(self, field: StringField) -> None:
        parse_import_from(field.data or "")


def parse_shipping_methods(text: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        level, sep, method = (part.strip() for part in line.partition("="))
        if not sep or not level or not method:
            raise ValidationError(f"Line {number}: write it as <service level> = <carrier_method>.")
        if not METHOD_RE.match(method):
            raise ValidationError(f"Line {number}: {method!r} is not a carrier_method code like flatrate_flatrate.")
        mapping[level] = method
    mapping.setdefault("*", DEFAULT_SHIPPING_METHOD)
    return mapping


def parse_import_from(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.replace("T", " ").removesuffix(" UTC"), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValidationError("Use yyyy-mm-dd or yyyy-mm-dd hh:mm (UTC).")


def _form_from_row(row: StoreOrderSettings) -> dict[str, Any]:
    methods = row.shipping_methods or {"*": DEFAULT_SHIPPING_METHOD}
    lines = [f"{k} = {v}" for k, v in methods.items() if k != "*"] + [
        f"* = {methods.get('*', DEFAULT_SHIPPING_METHOD)}"
    ]
    return {
        "import_enabled": "1" if row.import_enabled else "0",
        "store_view_code": row.store_view_code,
        "customer_creation": row.customer_creation,
        "predefined_customer_email": row.predefined_customer_email or "",
        "order_number_source": row.order_number_source,
        "order_number_prefix": row.order_number_prefix or "",
        "reserve_pending": "1" if row.reserve_pending else "0",
        "stock_handling": row.stock_handling,
        "order_status_mode": row.order_status_mode,
        "custom_processing_status": row.custom_processing_status or "",
        "payment_method": row.payment_method,
        "shipping_methods": "\n".join(lines),
        "import_fba": "1" if row.import_fba else "0",
        "create_invoice": "1" if row.create_invoice else "0",
        "import_from": row.import_from.strftime("%Y-%m-%d %H:%M") if row.import_from else "",
        "amazon_collected_tax": row.amazon_collected_tax or "exclude",
        "no_tracking_policy": row.no_tracking_policy or NoTrackingPolicy.HOLD.value,
        "adjustment_reason": row.adjustment_reason or DEFAULT_ADJUSTMENT_REASON,
        "commerce_cancel_reason": row.commerce_cancel_reason or DEFAULT_COMMERCE_CANCEL_REASON,
    }


def _save(row: StoreOrderSettings, form: OrderSettingsForm) -> None:
    row.import_enabled = form.import_enabled.data == "1"
    if not row.import_enabled:
        return  # the other fields are disabled: keep what was stored
    row.store_view_code = form.store_view_code.data.strip()
    row.customer_creation = form.customer_creation.data
    email = (form.predefined_customer_email.data or "").strip()
    row.predefined_customer_email = email if form.customer_creation.data == "predefined" else (email or None)
    row.order_number_source = form.order_number_source.data
    row.order_number_prefix = (form.order_number_prefix.data or "").strip()
    row.reserve_pending = form.reserve_pending.data == "1"
    row.stock_handling = form.stock_handling.data
    row.order_status_mode = form.order_status_mode.data
    status = (form.custom_processing_status.data or "").strip()
    row.custom_processing_status = status if form.order_status_mode.data == "custom" else (status or None)
    row.payment_method = form.payment_method.data.strip()
    row.shipping_methods = parse_shipping_methods(form.shipping_methods.data or "")
    row.import_fba = form.import_fba.data == "1"
    row.create_invoice = form.create_invoice.data == "1"
    row.import_from = parse_import_from(form.import_from.data or "")
    row.amazon_collected_tax = form.amazon_collected_tax.data
    for name in ("no_tracking_policy", "adjustment_reason", "commerce_cancel_reason"):
        if getattr(form, name).data:
            setattr(row, name, getattr(form, name).data)


def _settings_row(store: Store) -> StoreOrderSettings:
    if store.order_settings is None:
        store.order_settings = StoreOrderSettings(shipping_methods={"*": DEFAULT_SHIPPING_METHOD})
        db.session.flush()
    return store.order_settings


@bp.route("/settings")
def index():
    """The chosen store's Order Settings (the store switcher picks another)."""
    store = selected_store()
    if store is None:
        abort(404, "No Amazon store is connected yet.")
    return redirect(url_for("settings.edit", store_code=store.code))


@bp.route("/stores/<store_code>/settings", methods=["GET", "POST"])
def edit(store_code: str):
    store = selected_store(store_code)
    assert store is not None
    row = _settings_row(store)
    can_edit = current_user.can(Role.ADMIN)
    if request.method == "POST":
        if not can_edit:
            abort(403, "Only admins change order settings.")
        form = OrderSettingsForm()
        if form.validate_on_submit():
            _save(row, form)
            db.session.commit()
            flash(SAVED_MESSAGE, "success")
            return redirect(url_for("settings.edit", store_code=store.code))
        status = 400
    else:
        form = OrderSettingsForm(data=_form_from_row(row))
        status = 200
    return (
        render_template(
            "settings/edit.html",
            store=store,
            form=form,
            tooltips=TOOLTIPS,
            can_edit=can_edit,
            import_disabled=form.import_enabled.data == "0",
        ),
        status,
    )
