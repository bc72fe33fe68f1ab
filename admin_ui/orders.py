"""Recent Orders (the landing page), All Orders, Amazon Order Details, and Retry import.

`/orders` and `/orders/<amazon_order_id>` are stable: the importer writes them into Commerce order comments.
Lists filter and sort on indexed (store_id, column) pairs and page by id first, so they stay fast at
100,000 orders per store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from redis import RedisError
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import selectinload

from bridge.amazon.mapping import delivery_window
from bridge.domain import ImportState
from bridge.importer.order_notes import OrderFacts
from bridge.service import import_counts
from bridge.storage.models import (
    AmazonOrderRecord,
    OrderEvent,
    OutboundAction,
    Role,
    SkuMapping,
    Store,
)
from bridge.storage.orders import add_event

from . import get_runtime, get_settings
from .address_form import (
    AddressForm,
    address_locked_reason,
    address_rows,
    amazon_address,
    current_address,
    load_directory,
)
from .auth import require_role, safe_next
from .banners import selected_store
from .extensions import db
from .formatting import IMPORT_STATE_LABELS, STATUS_FILTER, status_label
from .order_facts import facts_for
from .order_pages import Page, contains_text, list_orders
from .scope import store_condition
from .snapshot import details

log = logging.getLogger(__name__)

bp = Blueprint("orders", __name__)

SORTS: dict[str, Any] = {
    "purchase_date": AmazonOrderRecord.purchase_date,
    "order_number": AmazonOrderRecord.amazon_order_id,
    "status": AmazonOrderRecord.status,
    "buyer": AmazonOrderRecord.buyer_name,
    "total": AmazonOrderRecord.order_total,
    "import_state": AmazonOrderRecord.import_state,
    "commerce_order": AmazonOrderRecord.magento_increment_id,
    "channel": AmazonOrderRecord.fulfillment_channel,
    "ship_by": AmazonOrderRecord.latest_ship_date,
    "deliver_by": AmazonOrderRecord.latest_delivery_date,
}
ERROR_STATUS = "Error"
MAX_TOTAL = Decimal(10) ** 14  # Money is Numeric(18, 4)
PER_PAGE_CHOICES = (20, 50, 100, 200)


def magento_order_url(record: AmazonOrderRecord) -> str | None:
    """The Commerce order in Magento's admin, when the order became one."""
    if record.magento_entity_id is None:
        return None
    return f"{get_settings().magento.admin_base_url}/sales/order/view/order_id/{record.magento_entity_id}"


def seller_central_url(store: Store, amazon_order_id: str) -> str:
    return f"{store.seller_central_url.rstrip('/')}/orders-v3/order/{amazon_order_id}"


@dataclass
class OrderFilters:
    """All Orders' *Filter by* panel, read from the query string; bad values become messages, not 500s."""

    date_from: date | None = None
    date_to: date | None = None
    order_number: str = ""
    buyer: str = ""
    total_min: Decimal | None = None
    total_max: Decimal | None = None
    statuses: list[str] = field(default_factory=list)
    import_state: str = ""
    cancel_requested: bool = False  # the buyer asked to cancel (bridge.lifecycle)
    ship_by_from: date | None = None
    ship_by_to: date | None = None
    deliver_by_from: date | None = None
    deliver_by_to: date | None = None
    prime: bool = False
    premium: bool = False
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: Any) -> OrderFilters:
        f = cls()
        f.date_from, f.date_to = f._range(args, "from", "to", "Purchase Date")
        f.ship_by_from, f.ship_by_to = f._range(args, "ship_by_from", "ship_by_to", "Ship By")
        f.deliver_by_from, f.deliver_by_to = f._range(args, "deliver_by_from", "deliver_by_to", "Deliver By")
        f.order_number = _text(args.get("order_number", ""))[:32]
        f.buyer = _text(args.get("buyer", ""))[:255]
        f.total_min = f._decimal(args.get("total_min", ""), "Total min")
        f.total_max = f._decimal(args.get("total_max", ""), "Total max")
        f.statuses = [s for s in STATUS_FILTER if s in args.getlist("status")]
        state = args.get("import_state", "")
        f.import_state = state if state in IMPORT_STATE_LABELS else ""
        f.cancel_requested = args.get("cancel_requested", "") == "1"
        f.prime = args.get("prime") == "1"
        f.premium = args.get("premium") == "1"
        return f

    def _range(self, args: Any, low: str, high: str, label: str) -> tuple[date | None, date | None]:
        start = self._date(args.get(low, ""), f"{label} from")
        end = self._date(args.get(high, ""), f"{label} to")
        if start and end and start > end:
            self.errors.append(f"{label}: 'from' ({start.isoformat()}) is after 'to' ({end.isoformat()}).")
        return start, end

    def _date(self, raw: str, label: str) -> date | None:
        raw = _text(raw)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors.append(f"{label}: expected a date as yyyy-mm-dd, got {raw[:40]!r}.")
            return None

    def _decimal(self, raw: str, label: str) -> Decimal | None:
        raw = _text(raw)
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except (InvalidOperation, ValueError):
            value = None
        if value is None or not value.is_finite():
            self.errors.append(f"{label}: expected a number, got {raw[:40]!r}.")
            return None
        if abs(value) >= MAX_TOTAL:
            self.errors.append(f"{label}: {raw[:40]} is out of range; order totals stay below {MAX_TOTAL:,}.")
            return None
        return value.quantize(Decimal("0.0001"))

    def conditions(self, store_id: int) -> list[ColumnElement[bool]]:
        o = AmazonOrderRecord
        conds: list[ColumnElement[bool]] = [o.store_id == store_id]
        conds += _date_conditions(o.purchase_date, self.date_from, self.date_to)
        conds += _date_conditions(o.latest_ship_date, self.ship_by_from, self.ship_by_to)
        conds += _date_conditions(o.latest_delivery_date, self.deliver_by_from, self.deliver_by_to)
        if self.prime:
            conds.append(o.is_prime.is_(True))
        if self.premium:
            conds.append(o.is_premium.is_(True))
        if self.order_number:
            # A prefix range rather than LIKE, so SQLite uses the (store_id, amazon_order_id) unique index.
            conds.append(o.amazon_order_id >= self.order_number)
            conds.append(o.amazon_order_id < self.order_number + "\U0010ffff")
        if self.buyer:
            # A contains search can use no index; the capped count and the page's LIMIT bound its cost.
            pattern = "%" + self.buyer.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conds.append(contains_text(o.buyer_name, pattern))
        if self.total_min is not None:
            conds.append(o.order_total >= self.total_min)
        if self.total_max is not None:
            conds.append(o.order_total <= self.total_max)
        if self.statuses:
            # "Error" is the import state, the one vocabulary of the banner and the Recent Orders count:
            # an order in error is one that could not become a Commerce order, whatever Amazon's status.
            amazon = [s for s in self.statuses if s != ERROR_STATUS]
            either: list[ColumnElement[bool]] = [o.status.in_(amazon)] if amazon else []
            if ERROR_STATUS in self.statuses:
                either.append(o.import_state == ImportState.ERROR.value)
            conds.append(or_(*either) if len(either) > 1 else either[0])
        if self.import_state:
            conds.append(o.import_state == self.import_state)
        if self.cancel_requested:
            conds.append(o.buyer_cancel_requested.is_(True))
        return conds

    def chips(self) -> list[tuple[str, str, str]]:
        """Applied filters as (label, value, query-string key) for the chips with an x."""
        chips = []
        if self.date_from:
            chips.append(("Purchase Date from", self.date_from.isoformat(), "from"))
        if self.date_to:
            chips.append(("Purchase Date to", self.date_to.isoformat(), "to"))
        if self.order_number:
            chips.append(("Order Number", self.order_number, "order_number"))
        if self.buyer:
            chips.append(("Buyer's Name", self.buyer, "buyer"))
        if self.total_min is not None:
            chips.append(("Total min", str(self.total_min), "total_min"))
        if self.total_max is not None:
            chips.append(("Total max", str(self.total_max), "total_max"))
        if self.statuses:
            chips.append(("Status", ", ".join(status_label(s) for s in self.statuses), "status"))
        if self.import_state:
            chips.append(("Import", IMPORT_STATE_LABELS[self.import_state], "import_state"))
        if self.cancel_requested:
            chips.append(("Buyer asked to cancel", "yes", "cancel_requested"))
        for label, value, key in (
            ("Ship By from", self.ship_by_from, "ship_by_from"),
            ("Ship By to", self.ship_by_to, "ship_by_to"),
            ("Deliver By from", self.deliver_by_from, "deliver_by_from"),
            ("Deliver By to", self.deliver_by_to, "deliver_by_to"),
        ):
            if value:
                chips.append((label, value.isoformat(), key))
        if self.prime:
            chips.append(("Prime", "Yes", "prime"))
        if self.premium:
            chips.append(("Premium shipping", "Yes", "premium"))
        return chips


def _text(raw: Any) -> str:
    return raw.strip() if isinstance(raw, str) else ""


def _date_conditions(column: Any, start: date | None, end: date | None) -> list[ColumnElement[bool]]:
    """`column` within [start, end] as whole UTC days; the last day (9999-12-31) has no day after it."""
    conds: list[ColumnElement[bool]] = []
    if start:
        conds.append(column >= datetime.combine(start, time.min, UTC))
    if end and end < date.max:
        conds.append(column < datetime.combine(end + timedelta(days=1), time.min, UTC))
    return conds


def positive_int(raw: str | None, default: int) -> int:
    try:
        value = int(raw or default)
    except ValueError:
        return default
    return value if value > 0 else default


def non_empty(args: dict[str, Any]) -> dict[str, Any]:
    """Query parameters without the empty ones the filter form submits (`from=&to=`)."""
    clean: dict[str, Any] = {}
    for key, value in args.items():
        values = [v for v in (value if isinstance(value, list | tuple) else [value]) if str(v) != ""]
        if values:
            clean[key] = values
    return clean


def query_url(endpoint: str, args: dict[str, Any], **changes: Any) -> str:
    """The current list URL with some query parameters changed (None removes one); empty ones are left out."""
    merged = {k: v for k, v in args.items()}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    query = urlencode(non_empty(merged), doseq=True)
    return url_for(endpoint) + (f"?{query}" if query else "")


@bp.route("/")
def recent():
    """Recent Orders for the chosen store (ASC's store dashboard): the ten latest by purchase date."""
    store = selected_store()
    rows: list[AmazonOrderRecord] = []
    counts: dict[str, int] = {}
    if store is not None:
        rows = list(
            db.session.scalars(
                select(AmazonOrderRecord)
                .where(AmazonOrderRecord.store_id == store.id)
                .order_by(AmazonOrderRecord.purchase_date.desc(), AmazonOrderRecord.id.desc())
                .limit(current_app.config["RECENT_ORDERS"])
            )
        )
        counts = import_counts(db.session(), store.id)
    return render_template(
        "orders/recent.html",
        store=store,
        rows=rows,
        counts=counts,
        magento_order_url=magento_order_url,
        can_operate=current_user.can(Role.OPERATOR),
    )


@bp.route("/orders")
def all_orders():
    """All Orders: filters, sorting and server-side pagination (the link target *View all Amazon Orders*)."""
    raw = request.args.to_dict(flat=False)
    if non_empty(raw) != raw:  # the filter form sends every field: show (and share) the URL without the blanks
        return redirect(query_url("orders.all_orders", raw))
    store = selected_store()
    filters = OrderFilters.from_args(request.args)
    sort = request.args.get("sort", "purchase_date")
    sort = sort if sort in SORTS else "purchase_date"
    direction = "asc" if request.args.get("dir") == "asc" else "desc"
    per_page = positive_int(request.args.get("per_page"), current_app.config["ORDERS_PER_PAGE"])
    per_page = per_page if per_page in PER_PAGE_CHOICES else current_app.config["ORDERS_PER_PAGE"]
    # `page=last` and `count=all` count every match (on demand); otherwise the count stops at the cap.
    page_number = None if request.args.get("page") == "last" else positive_int(request.args.get("page"), 1)
    result = Page([], 0, 1, per_page)
    if store is not None:
        result = list_orders(
            filters.conditions(store.id),
            SORTS[sort],
            direction == "desc",
            page_number,
            per_page,
            cap=current_app.config["ORDERS_COUNT_CAP"],
            exact=request.args.get("count") == "all",
        )
    args = request.args.to_dict(flat=False)
    if store is not None:
        args["store"] = [store.code]
    return render_template(
        "orders/list.html",
        store=store,
        page=result,
        filters=filters,
        sort=sort,
        direction=direction,
        args=args,
        query_url=query_url,
        status_filter=STATUS_FILTER,
        per_page_choices=PER_PAGE_CHOICES,
        magento_order_url=magento_order_url,
    )


def find_order(amazon_order_id: str) -> AmazonOrderRecord:
    """The order by Amazon's number; `?store=` picks one when two stores hold the same number."""
    query = select(AmazonOrderRecord).where(
        AmazonOrderRecord.amazon_order_id == amazon_order_id, store_condition(AmazonOrderRecord.store_id)
    )
    code = request.args.get("store") or request.form.get("store")
    if code:
        query = query.join(Store).where(Store.code == code)
    record = db.session.scalars(query.options(selectinload(AmazonOrderRecord.items)).limit(1)).first()
    if record is None:
        abort(404, f"No Amazon order {amazon_order_id} in the bridge (it may not have been synced yet).")
    return record


def cancel_action(record: AmazonOrderRecord) -> OutboundAction | None:
    return db.session.scalar(
        select(OutboundAction).where(OutboundAction.order_id == record.id, OutboundAction.kind == "cancel")
    )


@bp.route("/orders/<amazon_order_id>")
def detail(amazon_order_id: str):
    """Amazon Order Details: the order, its items, tracking and the bridge's full history of it."""
    return render_detail(find_order(amazon_order_id))


def render_detail(record: AmazonOrderRecord, address_form: AddressForm | None = None) -> str:
    """The details page; `address_form` carries a rejected address edit back with its errors."""
    store = record.store
    actions = list(
        db.session.scalars(
            select(OutboundAction).where(OutboundAction.order_id == record.id).order_by(OutboundAction.id)
        )
    )
    events = list(
        db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == record.id).order_by(OrderEvent.id))
    )
    snap = details(record.snapshot)
    facts = facts_for(record)
    titles = {item.order_item_id: item.title for item in record.items}
    missing_skus = _missing_skus(record)
    amazon = amazon_address(record.snapshot)
    can_operate = current_user.can(Role.OPERATOR)
    why_not = address_locked_reason(record)
    if address_form is None and can_operate and why_not is None:
        address_form = AddressForm(formdata=None, data=current_address(amazon, record.address_override))
        address_form.set_directory(*load_directory())
    return render_template(
        "orders/detail.html",
        record=record,
        store=store,
        snap=snap,
        titles=titles,
        actions=actions,
        events=events,
        cancel=next((a for a in actions if a.kind == "cancel"), None),
        missing_skus=missing_skus,
        magento_url=magento_order_url(record),
        seller_central=seller_central_url(store, record.amazon_order_id),
        can_operate=can_operate,
        can_admin=current_user.can(Role.ADMIN),
        address_form=address_form if can_operate and why_not is None else None,
        address_locked=why_not,
        deliver_by=delivery_window(record.snapshot),
        address_rows=address_rows(amazon, record.address_override),
        commerce_note=commerce_order_note(record, saved=False),
        facts=facts,
        replaced_known=_replaced_known(record, facts),
    )


def _replaced_known(record: AmazonOrderRecord, facts: OrderFacts | None) -> bool:
    """Whether the order a replacement replaces is one of this store's orders (so the page can link it)."""
    if facts is None or not facts.replaced_order_id:
        return False
    return db.session.scalar(
        select(AmazonOrderRecord.id).where(
            AmazonOrderRecord.store_id == record.store_id,
            AmazonOrderRecord.amazon_order_id == facts.replaced_order_id,
        )
    ) is not None


def commerce_order_note(record: AmazonOrderRecord, *, saved: bool = True) -> str | None:
    """Once the Commerce order exists, a correction here no longer reaches it: say so, plainly (after saving,
    and on the page before anyone edits)."""
    if record.magento_entity_id is None:
        return None
    number = record.magento_increment_id or record.magento_entity_id
    what = "this correction applies" if saved else "corrections made here apply"
    return (
        f"The Commerce order #{number} already exists; {what} to the bridge's record only — "
        "change the address on the Commerce order in Magento too."
    )


def _missing_skus(record: AmazonOrderRecord) -> list[tuple[str, SkuMapping | None]]:
    """Seller SKUs named in ASC's "Product ... does not exist" error, with their mapping when there is one, so
    the page offers a new mapping, or the edit of the one that points at a missing product (the error then
    names the catalog SKU)."""
    if record.import_state != ImportState.ERROR.value or not record.last_error:
        return []
    sellers = list(dict.fromkeys(item.seller_sku for item in record.items))
    mappings = {
        m.seller_sku: m
        for m in db.session.scalars(
            select(SkuMapping).where(SkuMapping.store_id == record.store_id, SkuMapping.seller_sku.in_(sellers))
        )
    }
    found = []
    for sku in sellers:
        mapping = mappings.get(sku)
        names = [sku] + ([mapping.catalog_sku] if mapping is not None else [])
        if any(f'"{name}"' in record.last_error for name in names):
            found.append((sku, mapping))
    return found


def request_retry(record: AmazonOrderRecord, actor: str) -> bool:
    """Queue the import of an order in error again; True when a job was queued (or one already was)."""
    from jobs.queues import enqueue_import

    record.import_state = ImportState.QUEUED.value
    record.next_attempt_at = None
    add_event(record, "retry", "Import retry requested.", actor)
    db.session.commit()  # the row first: a fast worker must find the order queued
    try:
        enqueue_import(get_runtime().redis, record.store_id, record.amazon_order_id)
    except RedisError as exc:  # Redis down: the next sync picks the order up anyway
        log.warning("could not enqueue import of %s: %s", record.amazon_order_id, exc)
        return False
    return True


@bp.route("/orders/<amazon_order_id>/retry", methods=["POST"])
@require_role(Role.OPERATOR)
def retry(amazon_order_id: str):
    """Retry import of an order in error (after fixing its SKU mapping or product)."""
    record = find_order(amazon_order_id)
    target = safe_next(request.form.get("next")) or url_for(
        "orders.detail", amazon_order_id=record.amazon_order_id, store=record.store.code
    )
    if record.import_state != ImportState.ERROR.value:
        flash(f"Order {record.amazon_order_id} is not in error; nothing to retry.", "warning")
        return redirect(target)
    if request_retry(record, current_user.username):
        flash(f"Import of order {record.amazon_order_id} is queued.", "success")
    else:
        flash(
            f"Order {record.amazon_order_id} is marked for import, but the job queue did not answer; "
            "the next sync will import it.",
            "warning",
        )
    return redirect(target)
