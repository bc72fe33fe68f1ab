"""Twin settings: integration credentials, granted ACL, store views, faults."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from typing import Any

# Fixed, non-secret sandbox values so a bridge config for the twin can be written down once.
DEFAULT_CONSUMER_KEY = "sandbox-consumer-key"
DEFAULT_CONSUMER_SECRET = "sandbox-consumer-secret"  # noqa: S105 - public sandbox value
DEFAULT_ACCESS_TOKEN = "sandbox-access-token"  # noqa: S105 - public sandbox value
DEFAULT_ACCESS_TOKEN_SECRET = "sandbox-access-token-secret"  # noqa: S105 - public sandbox value


@dataclass(frozen=True)
class StoreView:
    """A store view (`store` table row) with its website's base currency."""

    code: str
    id: int
    name: str
    currency: str = "USD"
    website_id: int = 1
    website_code: str = "base"
    website_name: str = "Main Website"
    group_id: int = 1
    group_name: str = "Main Website Store"
    locale: str = "en_US"
    timezone: str = "UTC"
    is_active: bool = True
    # Sales > Gift Options > Allow Gift Messages on Order Level (sales/gift_options/allow_order); Magento's
    # default is No. Read by clients through GraphQL `storeConfig { allow_order }`.
    allow_gift_messages: bool = False


def default_store_views() -> tuple[StoreView, ...]:
    return (StoreView("default", 1, "Default Store View"),)


# Extra views a multi-marketplace demo typically wants; pass them in `store_views` to get them.
EXAMPLE_EXTRA_VIEWS = (
    StoreView("uk", 2, "UK Store View", "GBP", 2, "uk", "UK Website", 2, "UK Store", "en_GB", "Europe/London"),
    StoreView("de", 3, "German Store View", "EUR", 3, "de", "DE Website", 3, "DE Store", "de_DE", "Europe/Berlin"),
    StoreView("jp", 4, "Japanese Store View", "JPY", 4, "jp", "JP Website", 4, "JP Store", "ja_JP", "Asia/Tokyo"),
)


@dataclass
class FaultSettings:
    seed: int | None = None
    rate_500: float = 0.0
    rate_timeout: float = 0.0
    timeout_seconds: float = 5.0
    rate_drop: float = 0.0
    # "Saves late": this share of order creates (PUT /V1/orders/create) is held this long before it is saved,
    # as a Magento under load does: the client gives up (timeout) and the order appears afterwards.
    rate_save_late: float = 0.0
    save_late_seconds: float = 45.0


@dataclass
class MagentoTwinConfig:
    data_path: str | None = None
    consumer_key: str = DEFAULT_CONSUMER_KEY
    consumer_secret: str = DEFAULT_CONSUMER_SECRET
    access_token: str = DEFAULT_ACCESS_TOKEN
    access_token_secret: str = DEFAULT_ACCESS_TOKEN_SECRET
    acl_resources: frozenset[str] | None = None  # None = the integration has "All"
    enable_integration_as_bearer: bool = False
    admin_users: dict[str, str] = field(default_factory=dict)
    # True: the admins already set up Google Authenticator (the answer names the provider endpoints instead)
    admin_2fa_configured: bool = False
    store_views: tuple[StoreView, ...] = field(default_factory=default_store_views)
    # Website codes no MSI stock is linked to (Stores > Inventory > Stocks > Sales Channels left empty): the stock
    # resolver answers 404 "No linked stock found" for them, as Magento does.
    websites_without_stock: frozenset[str] = frozenset()
    faults: FaultSettings = field(default_factory=FaultSettings)
    # Flat aliases of `faults` (either spelling works; a flat value given here wins).
    seed: int | None = None
    rate_500: float | None = None
    rate_timeout: float | None = None
    timeout_seconds: float | None = None
    rate_drop: float | None = None
    rate_save_late: float | None = None
    save_late_seconds: float | None = None

    def __post_init__(self) -> None:
        flat = {name: getattr(self, name) for name in FAULT_FIELDS if getattr(self, name) is not None}
        if flat:
            self.faults = dataclasses.replace(self.faults, **flat)
        for name in FAULT_FIELDS:
            setattr(self, name, getattr(self.faults, name))
        if self.acl_resources is not None:
            self.acl_resources = frozenset(self.acl_resources)
        self.websites_without_stock = frozenset(self.websites_without_stock)

    def view_by_code(self, code: str) -> StoreView | None:
        return next((v for v in self.store_views if v.code == code), None)

    def view_by_id(self, store_id: int) -> StoreView | None:
        return next((v for v in self.store_views if v.id == store_id), None)

    @property
    def default_view(self) -> StoreView:
        return self.store_views[0]


FAULT_FIELDS = ("seed", "rate_500", "rate_timeout", "timeout_seconds", "rate_drop", "rate_save_late",
                "save_late_seconds")


def load_toml(path: str) -> dict[str, Any]:
    """Read a small TOML file into MagentoTwinConfig keyword arguments.

    Keys: consumer_key, consumer_secret, access_token, access_token_secret, acl (list),
    enable_integration_as_bearer, [admin_users] name = "password", [[store_views]] code/id/name/currency/...,
    [faults] seed/rate_500/rate_timeout/timeout_seconds/rate_drop/rate_save_late/save_late_seconds.
    """
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    out: dict[str, Any] = {}
    simple = {f.name for f in fields(MagentoTwinConfig)} - {"acl_resources", "store_views", "faults", "admin_users",
                                                            *FAULT_FIELDS}
    for key in simple:
        if key in raw:
            out[key] = raw[key]
    if "acl" in raw:
        out["acl_resources"] = frozenset(raw["acl"])
    if "admin_users" in raw:
        out["admin_users"] = dict(raw["admin_users"])
    if "store_views" in raw:
        out["store_views"] = tuple(StoreView(**v) for v in raw["store_views"])
    if "faults" in raw:
        out["faults"] = FaultSettings(**raw["faults"])
    return out
