"""A tiny Magento-style router: `:param` segments, ACL per route, literal routes before parametrised ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import MagentoError, required, type_error

if TYPE_CHECKING:
    from .app import Twin
    from .config import StoreView

Handler = Callable[..., Any]


@dataclass
class Route:
    method: str
    path: str
    handler: Handler
    acl: str | None  # None = anonymous
    segments: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.segments = [s for s in self.path.split("/") if s]

    @property
    def param_count(self) -> int:
        return sum(1 for s in self.segments if s.startswith(":"))

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self.segments, parts, strict=True):
            if want.startswith(":"):
                if got == "":
                    return None
                params[want[1:]] = got
            elif want != got:
                return None
        return params


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, path: str, acl: str | None) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.routes.append(Route(method, path, fn, acl))
            self.routes.sort(key=lambda r: r.param_count)
            return fn

        return deco

    def find(self, method: str, parts: list[str]) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method == method:
                params = route.match(parts)
                if params is not None:
                    return route, params
        return None


@dataclass
class Ctx:
    """One REST call: the twin, the current store view, the parsed body and query."""

    twin: Twin
    method: str
    store_view: StoreView | None  # None = `all` (admin store, id 0)
    args: list[tuple[str, str]]
    raw_body: bytes
    content_type: str
    _body: dict[str, Any] | None = None

    @property
    def store_id(self) -> int:
        return self.store_view.id if self.store_view else 0

    def body(self) -> dict[str, Any]:
        if self._body is None:
            self._body = parse_body(self.raw_body, self.content_type)
        return self._body

    def param(self, name: str, *, required_param: bool = True) -> Any:
        body = self.body()
        if name not in body or body[name] is None:
            if required_param:
                raise required(name)
            return None
        return body[name]

    def obj(self, name: str, *, required_param: bool = True) -> dict[str, Any]:
        value = self.param(name, required_param=required_param)
        if value is None or value == []:
            return {}
        if not isinstance(value, dict):
            raise type_error(name, value, "object")
        return value


def _reject_constant(name: str) -> Any:
    """NaN/Infinity are not JSON; PHP's json_decode refuses them, so Magento answers "Decoding error."."""
    raise ValueError(name)


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """JSON body → dict, with Magento's 400s instead of a traceback for anything malformed."""
    if not raw.strip():
        return {}
    ctype = content_type.split(";")[0].strip().lower()
    if not ctype:
        raise MagentoError("Content-Type header is empty.", 400)
    if "json" not in ctype:
        raise MagentoError("Server cannot understand Content-Type HTTP header media type %1", 400, [ctype])
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MagentoError("Decoding error.", 400) from exc
    if isinstance(data, dict):
        return data
    if isinstance(data, list) and not data:
        return {}
    raise MagentoError("Decoding error.", 400)
