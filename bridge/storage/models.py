"""Database models (SQLAlchemy 2.0 declarative, typed).

Plain SQLAlchemy, so workers and the CLI use them without Flask; the admin app binds the same `Base`
through Flask-SQLAlchemy (`SQLAlchemy(model_class=Base)`), and Alembic migrations read `Base.metadata`.
Money columns are Numeric and come back as Decimal; datetimes are stored as UTC and returned aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship

from bridge.domain import ImportState

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns timezone-aware UTC (SQLite drops tzinfo; this puts it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the bridge stores UTC-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Money = Numeric(18, 4, asdecimal=True)


class Base(DeclarativeBase):
    # The type map lives on the registry (not as a class attribute) so Flask-SQLAlchemy can bind this Base.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING),
        type_annotation_map={datetime: UTCDateTime(), Decimal: Money, dict[str, Any]: JSON},
    )


class Store(Base):
    """An Amazon store: one seller account on one marketplace, imported into one Magento store view."""

    __tablename__ = "store"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    seller_id: Mapped[str] = mapped_column(String(64))
    marketplace_id: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(8), default="NA")
    # Name of the environment variable that holds this seller's LWA refresh token (never the token).
    refresh_token_env: Mapped[str] = mapped_column(String(128))
    seller_central_url: Mapped[str] = mapped_column(String(255), default="https://sellercentral.amazon.com")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order_settings: Mapped[StoreOrderSettings] = relationship(
        back_populates="store", uselist=False, cascade="all, delete-orphan"
    )
    cursor: Mapped[SyncCursor | None] = relationship(
        back_populates="store", uselist=False, cascade="all, delete-orphan"
    )


class StoreOrderSettings(Base):
    """ASC's Order Settings for one store (see bridge.order_settings for meanings and defaults)."""

    __tablename__ = "store_order_settings"

    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"), primary_key=True)
    import_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    store_view_code: Mapped[str] = mapped_column(String(64), default="default")
    customer_creation: Mapped[str] = mapped_column(String(32), default="guest")
    predefined_customer_email: Mapped[str | None] = mapped_column(String(255))
    order_number_source: Mapped[str] = mapped_column(String(16), default="magento")
    order_number_prefix: Mapped[str] = mapped_column(String(32), default="")
    reserve_pending: Mapped[bool] = mapped_column(Boolean, default=True)
    stock_handling: Mapped[str] = mapped_column(String(32), default="none")
    order_status_mode: Mapped[str] = mapped_column(String(16), default="default")
    custom_processing_status: Mapped[str | None] = mapped_column(String(64))
    payment_method: Mapped[str] = mapped_column(String(64), default="purchaseorder")
    shipping_methods: Mapped[dict[str, Any]] = mapped_column(JSON, default=lambda: {"*": "flatrate_flatrate"})
    import_fba: Mapped[bool] = mapped_column(Boolean, default=True)
    create_invoice: Mapped[bool] = mapped_column(Boolean, default=True)
    import_from: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # "Tax collected by Amazon": exclude | include (bridge.order_settings.AmazonCollectedTax)
    amazon_collected_tax: Mapped[str] = mapped_column(String(16), default="exclude", server_default="exclude")
    # Commerce -> Amazon (see bridge.order_settings): a shipment without tracking number is held or sent;
    # the reason given to Amazon for refunds and for orders canceled in Commerce.
    no_tracking_policy: Mapped[str] = mapped_column(String(16), default="hold", server_default="hold")
    adjustment_reason: Mapped[str] = mapped_column(String(64), default="CustomerReturn",
                                                   server_default="CustomerReturn")
    commerce_cancel_reason: Mapped[str] = mapped_column(String(64), default="GeneralAdjustment",
                                                        server_default="GeneralAdjustment")

    store: Mapped[Store] = relationship(back_populates="order_settings")


class SkuMapping(Base):
    """Amazon seller SKU -> Commerce catalog SKU, per store (ASC: listing's catalog SKU; else the same SKU)."""

    __tablename__ = "sku_mapping"
    __table_args__ = (UniqueConstraint("store_id", "seller_sku", name="uq_sku_mapping_store_seller_sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"), index=True)
    seller_sku: Mapped[str] = mapped_column(String(255))
    catalog_sku: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncCursor(Base):
    """How far the pull of Amazon changes got for a store.

    `last_updated_after` moves only after a whole pass is stored. While a pass is under way,
    `pass_*` and `next_token` remember where it is, so a crash between pages resumes instead of
    re-reading (searchOrders allows one page per ~3 minutes once the burst is spent).
    """

    __tablename__ = "sync_cursor"

    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"), primary_key=True)
    last_updated_after: Mapped[datetime | None] = mapped_column()
    pass_after: Mapped[datetime | None] = mapped_column()
    pass_before: Mapped[datetime | None] = mapped_column()
    next_token: Mapped[str | None] = mapped_column(Text)
    pass_started_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    store: Mapped[Store] = relationship(back_populates="cursor")


class SyncRun(Base):
    """One sync pass of one store: what it saw and did (shown on the Sync status page)."""

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_store_started", "store_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    result: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | failed
    pages: Mapped[int] = mapped_column(Integer, default=0)
    orders_seen: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_text: Mapped[str | None] = mapped_column(Text)


class AmazonOrderRecord(Base):
    """The bridge's copy of one Amazon order: latest snapshot, import state and the Commerce order it became.

    (store_id, amazon_order_id) is unique: the database itself refuses a second copy of an order.
    """

    __tablename__ = "amazon_order"
    __table_args__ = (
        UniqueConstraint("store_id", "amazon_order_id", name="uq_amazon_order_store_order"),
        Index("ix_amazon_order_store_purchase", "store_id", "purchase_date"),
        Index("ix_amazon_order_store_state", "store_id", "import_state"),
        # All Orders' covering index (admin_ui/order_pages.py): the status and import-state filters seek, and
        # date, total, Prime/Premium, cancel-request and buyer filters are read from the index, not the rows,
        # so a filtered count touches no row. Its (store_id, status) prefix serves the Status sort too.
        Index(
            "ix_amazon_order_store_grid",
            "store_id", "status", "import_state", "purchase_date", "order_total",
            "is_prime", "is_premium", "buyer_cancel_requested", "buyer_name",
        ),
        Index("ix_amazon_order_store_total", "store_id", "order_total"),
        Index("ix_amazon_order_store_buyer", "store_id", "buyer_name"),
        Index("ix_amazon_order_magento", "magento_increment_id"),
        Index("ix_amazon_order_store_cancel_request", "store_id", "buyer_cancel_requested"),
        Index("ix_amazon_order_store_ship_by", "store_id", "latest_ship_date"),
        Index("ix_amazon_order_store_deliver_by", "store_id", "latest_delivery_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"))
    amazon_order_id: Mapped[str] = mapped_column(String(32))
    marketplace_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))  # AmazonStatus value, or ASC's own "Completed"/"Error"
    fulfillment_channel: Mapped[str] = mapped_column(String(8))
    purchase_date: Mapped[datetime] = mapped_column()
    last_updated: Mapped[datetime] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    order_total: Mapped[Decimal] = mapped_column(Money)
    buyer_name: Mapped[str | None] = mapped_column(String(255))
    ship_service_level: Mapped[str | None] = mapped_column(String(64))
    items_shipped: Mapped[int] = mapped_column(Integer, default=0)
    items_unshipped: Mapped[int] = mapped_column(Integer, default=0)
    is_prime: Mapped[bool] = mapped_column(Boolean, default=False)
    is_business: Mapped[bool] = mapped_column(Boolean, default=False)
    latest_ship_date: Mapped[datetime | None] = mapped_column()
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)  # Amazon's JSON as last received (v2026 shape)
    snapshot_version: Mapped[str] = mapped_column(String(16), default="2026-01-01")
    # Shipping address fields corrected by an operator (ASC's editable address on Amazon Order Details);
    # kept apart from the snapshot so a sync never overwrites them, and used when the order is created.
    address_override: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    import_state: Mapped[str] = mapped_column(String(16), default=ImportState.WAITING.value)
    notes: Mapped[str | None] = mapped_column(Text)  # ASC's "Order Notes" / "Last Action"
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Creates ever sent for this order (counted before sending): the per-order look-up by ext_order_id is
    # needed only when one may have reached Magento; the sync's batch look-up covers everything else.
    create_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    magento_entity_id: Mapped[int | None] = mapped_column(Integer)
    magento_increment_id: Mapped[str | None] = mapped_column(String(64))
    # Every line's source decrement (or reservation) applied in Magento; the lines are in `stock_move`.
    stock_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    invoiced: Mapped[bool] = mapped_column(Boolean, default=False)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)

    # Per-order claim with a lease: the worker holding an unexpired claim is the only one importing it.
    claim_token: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None] = mapped_column()

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Set (committed) before each create leaves, cleared when Magento answers: until then a create for this
    # order may still be in flight (a slow Magento saves after the client gave up), so no second one is sent.
    create_in_doubt_until: Mapped[datetime | None] = mapped_column()

    # Amazon -> Commerce after import (bridge.lifecycle). `commerce_synced_status` is what the bridge has made
    # the Commerce order follow ("canceled", "refunded", "complete"); an order whose Amazon status asks for
    # more (Canceled, Shipped) is due, and every sync re-dispatches it until it is done.
    commerce_synced_status: Mapped[str | None] = mapped_column(String(16))
    commerce_error: Mapped[str | None] = mapped_column(Text)  # the last refusal, shown on the details page
    commerce_checked_at: Mapped[datetime | None] = mapped_column()  # last attempt; a refused one waits an hour
    # The buyer asked to cancel (v2026 CANCELLATION data, cancellationRequest): ASC's notice and badge.
    buyer_cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    buyer_cancel_reason: Mapped[str | None] = mapped_column(String(255))
    # Deliver-by (fulfillment.deliverByWindow.latestDateTime) and premium shipping: columns so All Orders
    # can sort and filter on them at 100,000 orders (indexed with store_id).
    latest_delivery_date: Mapped[datetime | None] = mapped_column()
    is_premium: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    store: Mapped[Store] = relationship()
    items: Mapped[list[AmazonOrderItemRecord]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="AmazonOrderItemRecord.id"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )


class AmazonOrderItemRecord(Base):
    __tablename__ = "amazon_order_item"
    __table_args__ = (UniqueConstraint("order_id", "order_item_id", name="uq_amazon_order_item_order_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("amazon_order.id", ondelete="CASCADE"))
    order_item_id: Mapped[str] = mapped_column(String(64))
    seller_sku: Mapped[str] = mapped_column(String(255))
    asin: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    condition: Mapped[str | None] = mapped_column(String(64))
    qty_ordered: Mapped[int] = mapped_column(Integer)
    qty_shipped: Mapped[int] = mapped_column(Integer, default=0)
    item_price: Mapped[Decimal] = mapped_column(Money)
    item_tax: Mapped[Decimal] = mapped_column(Money)
    shipping_price: Mapped[Decimal] = mapped_column(Money)
    shipping_tax: Mapped[Decimal] = mapped_column(Money)
    promotion_discount: Mapped[Decimal] = mapped_column(Money)

    order: Mapped[AmazonOrderRecord] = relationship(back_populates="items")


class OrderEvent(Base):
    """The bridge's history of one order: what happened, when, by whom, with the error text."""

    __tablename__ = "order_event"
    __table_args__ = (Index("ix_order_event_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("amazon_order.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Written only by `bridge.storage.orders.add_event`: received, status_changed, imported, error, retry, ...
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64), default="sync")  # "sync", "worker", or a user name
    # The same event repeated (same kind and message, nothing in between) is one row: how often, and when last.
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_at: Mapped[datetime | None] = mapped_column()

    order: Mapped[AmazonOrderRecord] = relationship(back_populates="events")


class ActionState(StrEnum):
    """Where an outbound action stands (the words shown in the order's history)."""

    QUEUED = "queued"  # recorded, not sent yet (or its feed must be looked up: see bridge.outbox)
    HELD = "held"  # waits for the merchant (a shipment without tracking number, store setting "hold")
    SUBMITTED = "submitted"  # the feed is at Amazon; its processing report is read by a later job
    ACCEPTED = "accepted"  # Amazon applied it
    REJECTED = "rejected"  # Amazon refused it; `result` has Amazon's words
    GIVING_UP = "giving_up"  # could not be sent after repeated attempts; `result` says why
    # Older names, kept for code written against them.
    SENT = "submitted"
    DONE = "accepted"
    FAILED = "rejected"


SETTLED_STATES = (ActionState.ACCEPTED.value, ActionState.REJECTED.value, ActionState.GIVING_UP.value)


class OutboundAction(Base):
    """Something to tell Amazon (cancel, shipment, refund), queued by the admin or the Commerce sync.

    Recorded before it is sent, so a crash never loses a merchant's request, and sent at most once per
    (order, kind, key) thanks to the unique constraint.
    """

    __tablename__ = "outbound_action"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", "dedupe_key", name="uq_outbound_action_order_kind_key"),
        Index("ix_outbound_action_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("amazon_order.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # cancel | shipment | refund
    dedupe_key: Mapped[str] = mapped_column(String(128), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default=ActionState.QUEUED.value)
    sent_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    result: Mapped[str | None] = mapped_column(Text)
    feed_id: Mapped[str | None] = mapped_column(String(64))
    # The intent, saved before anything is sent (bridge.outbox): the feed document created for this action
    # and its MessageID in it; a run that finds a document but no feed id looks the feed up at Amazon.
    feed_type: Mapped[str | None] = mapped_column(String(64))
    feed_document_id: Mapped[str | None] = mapped_column(String(128))
    message_id: Mapped[int | None] = mapped_column(Integer)
    intent_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column()

    order: Mapped[AmazonOrderRecord] = relationship()


class Role(StrEnum):
    VIEWER = "viewer"  # reads
    OPERATOR = "operator"  # also cancels, retries, edits addresses
    ADMIN = "admin"  # also settings and users


class User(Base):
    """An admin-UI user. Passwords are stored hashed (werkzeug scrypt/pbkdf2), never in clear."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.VIEWER.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()


class CommerceCursor(Base):
    """How far the poll of the merchant's work in Commerce got for a store (created_at / updated_at marks).

    Each search reads from the mark minus an overlap, so a document saved late by Magento is not missed;
    reading one twice is harmless because every action is unique per (order, kind, document).
    """

    __tablename__ = "commerce_cursor"

    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"), primary_key=True)
    shipments_after: Mapped[datetime | None] = mapped_column()
    creditmemos_after: Mapped[datetime | None] = mapped_column()
    orders_after: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StockKind(StrEnum):
    RESERVE = "reserve"  # taken while Amazon still says Pending (ASC's "Inventory reserved")
    DECREMENT = "decrement"  # taken when the Commerce order was created
    RELEASE = "release"  # given back: Amazon canceled the order


class StockMoveState(StrEnum):
    NEW = "new"  # recorded, not (or certainly not) written to Magento
    PENDING = "pending"  # the write left; Magento's answer is not known yet
    APPLIED = "applied"  # Magento accepted the write


class StockMove(Base):
    """The stock ledger: one source-quantity change per (order, SKU, kind), and whether Magento applied it.

    Writes to one source item are serialized (a Redis lock) and recorded with the quantity before and after,
    so a write whose answer was lost is settled by reading Magento, never by guessing; a release gives back
    only what an applied take took.
    """

    __tablename__ = "stock_move"
    __table_args__ = (
        UniqueConstraint("order_id", "sku", "kind", name="uq_stock_move_order_sku_kind"),
        Index("ix_stock_move_sku_state", "source_code", "sku", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("amazon_order.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    source_code: Mapped[str] = mapped_column(String(64), default="default")
    kind: Mapped[str] = mapped_column(String(16))  # StockKind
    qty: Mapped[int] = mapped_column(Integer)  # always positive; the kind says which way
    state: Mapped[str] = mapped_column(String(16), default=StockMoveState.NEW.value)
    qty_before: Mapped[Decimal | None] = mapped_column(Numeric(18, 4, asdecimal=True))
    qty_after: Mapped[Decimal | None] = mapped_column(Numeric(18, 4, asdecimal=True))
    sent_at: Mapped[datetime | None] = mapped_column()
    applied_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[AmazonOrderRecord] = relationship()


class BackfillRun(Base):
    """`amazon-bridge backfill`: one date range of one store, listed page by page so it resumes after a
    crash (the pagination token is saved after each stored page, as the sync's cursor does)."""

    __tablename__ = "backfill_run"
    __table_args__ = (Index("ix_backfill_run_store", "store_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"))
    created_after: Mapped[datetime] = mapped_column()
    created_before: Mapped[datetime] = mapped_column()
    next_token: Mapped[str | None] = mapped_column(Text)
    listed: Mapped[bool] = mapped_column(Boolean, default=False)  # every page stored; only imports remain
    pages: Mapped[int] = mapped_column(Integer, default=0)
    seen: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="running")  # running | done
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class ReconcileRun(Base):
    """`amazon-bridge reconcile`: Amazon's orders of a period against Commerce's; findings below."""

    __tablename__ = "reconcile_run"
    __table_args__ = (Index("ix_reconcile_run_store", "store_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"))
    since: Mapped[datetime] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    result: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | failed
    amazon_orders: Mapped[int] = mapped_column(Integer, default=0)
    commerce_orders: Mapped[int] = mapped_column(Integer, default=0)
    fixed: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(64), default="cli")
    error_text: Mapped[str | None] = mapped_column(Text)

    findings: Mapped[list[ReconcileFinding]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ReconcileFinding.id"
    )


class ReconcileFinding(Base):
    __tablename__ = "reconcile_finding"
    __table_args__ = (Index("ix_reconcile_finding_run", "run_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconcile_run.id", ondelete="CASCADE"))
    # missing_in_commerce | unknown_to_bridge | duplicate | status_differs | total_differs
    kind: Mapped[str] = mapped_column(String(32))
    amazon_order_id: Mapped[str | None] = mapped_column(String(32))
    magento_entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text)
    fixed: Mapped[bool] = mapped_column(Boolean, default=False)

    run: Mapped[ReconcileRun] = relationship(back_populates="findings")


class UserStore(Base):
    """A store a user may see. A viewer or operator with rows here sees those stores only (and nothing of
    the others); without rows the role applies to every store. Admins always see every store."""

    __tablename__ = "user_store"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"), primary_key=True)
