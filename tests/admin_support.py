"""Helpers for testing the admin (no pytest import): a migrated database, seeded stores and orders, an app,
and test clients signed in with a role, posting forms with their CSRF token like a browser does."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from flask import Flask
from flask.testing import FlaskClient

from admin_ui import create_app
from admin_ui.auth import hash_password
from bridge.config import AdminSettings, DatabaseSettings, MagentoSettings, RedisSettings, Settings
from bridge.runtime import Runtime
from bridge.storage.migrate import upgrade
from bridge.storage.models import (
    AmazonOrderItemRecord,
    AmazonOrderRecord,
    OrderEvent,
    Store,
    User,
)
from bridge.storage.stores import create_store

PASSWORD = "correct horse battery staple"  # noqa: S105 - test accounts only, made per test
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" type="hidden" value="([^"]+)"')


class AdminTestRuntime(Runtime):
    """A Runtime whose Amazon clients can be replaced per store code (a fake, or one aimed at the twin)."""

    def __init__(self, settings: Settings, **kwargs: Any):
        super().__init__(settings, **kwargs)
        self.amazon_clients: dict[str, Any] = {}

    def amazon_client(self, store: Store):
        if store.code in self.amazon_clients:
            return self.amazon_clients[store.code]
        return super().amazon_client(store)


def make_settings(database_url: str, redis_url: str, **admin: Any) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        redis=RedisSettings(url=redis_url),
        # Credentials as a configured deployment has them; nothing answers at magento.test (Magento down).
        magento=MagentoSettings(base_url="http://magento.test", admin_url="http://magento.test/admin",
                                consumer_key="ck", consumer_secret="cs", access_token="at", access_token_secret="ats"),
        admin=replace(AdminSettings(public_base_url="http://admin.test", secret_key="test-secret"), **admin),  # noqa: S106
    )


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise AssertionError("no CSRF token on the page")
    return match.group(1) or match.group(2)


class AdminClient:
    """A Flask test client that posts forms with the page's CSRF token, as a browser would."""

    def __init__(self, client: FlaskClient):
        self.client = client
        self._token: str | None = None

    def get(self, url: str, **kwargs: Any):
        return self.client.get(url, **kwargs)

    def token(self) -> str:
        if self._token is None:
            self._token = csrf_token(self.client.get("/login" if not self.signed_in else "/").get_data(as_text=True))
        return self._token

    signed_in = False

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        return self.client.post(url, data=data, **kwargs)

    def login(self, username: str, password: str = PASSWORD, next_url: str | None = None):
        page = self.client.get("/login" + (f"?next={next_url}" if next_url else ""))
        data = {"username": username, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))}
        if next_url:
            data["next"] = unquote(next_url)
        response = self.client.post("/login", data=data)
        if response.status_code == 302:
            self.signed_in = True
            self._token = None
        return response


class AdminHarness:
    """A migrated database, the admin app on it, and helpers to seed stores, orders and users."""

    def __init__(
        self,
        database_url: str,
        redis_url: str,
        *,
        settings: Settings | None = None,
        test_config: dict[str, Any] | None = None,
    ):
        self.settings = settings or make_settings(database_url, redis_url)
        self._users = 0
        self.runtime = AdminTestRuntime(self.settings)
        upgrade(self.runtime.db.engine)
        self.app: Flask = create_app(
            self.settings, runtime=self.runtime, test_config={"TESTING": True, **(test_config or {})}
        )

    def close(self) -> None:
        from admin_ui.extensions import db

        with self.app.app_context():
            db.engine.dispose()
        self.runtime.close()

    # -- seeding ---------------------------------------------------------------------------------
    def add_store(self, code: str = "us", name: str = "US store", **fields: Any) -> Store:
        with self.runtime.db.session() as session:
            store = create_store(
                session,
                code=code,
                name=name,
                seller_id=fields.pop("seller_id", f"SELLER-{code.upper()}"),
                marketplace_id=fields.pop("marketplace_id", "ATVPDKIKX0DER"),
                refresh_token_env=fields.pop("refresh_token_env", f"AMAZON_REFRESH_TOKEN_{code.upper()}"),
                import_from=datetime(2020, 1, 1, tzinfo=UTC),
            )
            for key, value in fields.items():
                setattr(store, key, value)
        return store

    def add_user(self, username: str, role: str, password: str = PASSWORD, **fields: Any) -> int:
        with self.runtime.db.session() as session:
            user = User(username=username, role=role, password_hash=hash_password(password), **fields)
            session.add(user)
            session.flush()
            return user.id

    def add_order(
        self,
        store_id: int,
        amazon_order_id: str,
        *,
        status: str = "Unshipped",
        import_state: str = "waiting",
        buyer_name: str | None = "Jane Doe",
        total: str | Decimal = "25.64",
        currency: str = "USD",
        purchase_date: datetime | None = None,
        items: list[dict[str, Any]] | None = None,
        events: list[tuple[str, str]] | None = None,
        snapshot: dict[str, Any] | None = None,
        **fields: Any,
    ) -> int:
        purchase_date = purchase_date or datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
        items = items or [{"seller_sku": "SKU-1", "title": "Thing", "qty": 2, "price": "20.00", "tax": "0.65"}]
        record = AmazonOrderRecord(
            store_id=store_id,
            amazon_order_id=amazon_order_id,
            marketplace_id="ATVPDKIKX0DER",
            status=status,
            fulfillment_channel=fields.pop("fulfillment_channel", "MFN"),
            purchase_date=purchase_date,
            last_updated=purchase_date + timedelta(hours=1),
            currency=currency,
            order_total=Decimal(str(total)),
            buyer_name=buyer_name,
            ship_service_level=fields.pop("ship_service_level", "Standard"),
            items_shipped=0,
            items_unshipped=sum(int(i["qty"]) for i in items),
            latest_ship_date=fields.pop("latest_ship_date", purchase_date + timedelta(days=2)),
            snapshot=snapshot if snapshot is not None else sample_snapshot(amazon_order_id, buyer_name),
            import_state=import_state,
            **fields,
        )
        for n, item in enumerate(items):
            record.items.append(
                AmazonOrderItemRecord(
                    order_item_id=item.get("order_item_id", f"{n + 1:014d}"),
                    seller_sku=item["seller_sku"],
                    asin=item.get("asin", "B000TEST00"),
                    title=item["title"],
                    condition="New",
                    qty_ordered=int(item["qty"]),
                    qty_shipped=int(item.get("qty_shipped", 0)),
                    item_price=Decimal(item["price"]),
                    item_tax=Decimal(item.get("tax", "0")),
                    shipping_price=Decimal(item.get("shipping", "0")),
                    shipping_tax=Decimal("0"),
                    promotion_discount=Decimal(item.get("discount", "0")),
                )
            )
        for kind, message in events or [("seen", "First seen in searchOrders.")]:
            record.events.append(OrderEvent(kind=kind, message=message, at=purchase_date + timedelta(minutes=5)))
        with self.runtime.db.session() as session:
            session.add(record)
            session.flush()
            return record.id

    def record(self, amazon_order_id: str) -> AmazonOrderRecord:
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        with self.runtime.db.session() as session:
            return session.scalars(
                select(AmazonOrderRecord)
                .where(AmazonOrderRecord.amazon_order_id == amazon_order_id)
                .options(selectinload(AmazonOrderRecord.events), selectinload(AmazonOrderRecord.items))
            ).one()

    # -- clients ---------------------------------------------------------------------------------
    def client(self, role: str | None = None, username: str | None = None) -> AdminClient:
        """A test client, signed in as a fresh user with `role` when one is given."""
        client = AdminClient(self.app.test_client())
        if role is not None:
            self._users += 1
            username = username or f"{role}-{self._users}"
            self.add_user(username, role)
            response = client.login(username)
            assert response.status_code == 302, response.get_data(as_text=True)
        return client


def sample_snapshot(amazon_order_id: str, buyer_name: str | None, **extra: Any) -> dict[str, Any]:
    """A v2026-01-01 Order with the fields the details page reads."""
    snapshot: dict[str, Any] = {
        "orderId": amazon_order_id,
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER", "marketplaceName": "Amazon.com"},
        "buyer": {"buyerName": buyer_name, "buyerEmail": f"{amazon_order_id}@marketplace.amazon.com"},
        "recipient": {
            "deliveryAddress": {
                "name": buyer_name,
                "addressLine1": "2201 Westlake Ave",
                "city": "Seattle",
                "stateOrRegion": "WA",
                "postalCode": "98121",
                "countryCode": "US",
                "phone": "+1 206-555-0100",
                "addressType": "RESIDENTIAL",
            }
        },
        "fulfillment": {
            "fulfillmentStatus": "UNSHIPPED",
            "fulfilledBy": "MERCHANT",
            "fulfillmentServiceLevel": "STANDARD",
        },
        "packages": [],
    }
    snapshot.update(extra)
    return snapshot
