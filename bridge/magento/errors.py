"""One error hierarchy for everything the Magento client raises.

Magento renders errors as `{"message": "<phrase with %1 or %name>", "parameters": ..., "errors": [...]}` and
leaves the placeholder substitution to the client, so every `MagentoHTTPError` carries both the raw phrase
(for matching) and the filled-in message (for people). Transport failures say whether the request may have
reached Magento (`request_sent`): for a write that means "maybe saved", and the importer must look the
order up by `ext_order_id` instead of sending it again.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bridge.errors import BridgeError

_PLACEHOLDER = re.compile(r"%(\w+)")
_REPORT_ID = re.compile(r"Report ID: (webapi-[0-9A-Za-z]+)")
NO_ROUTE_MESSAGE = "Request does not match any route."


def fill_placeholders(message: str, parameters: Any) -> str:
    """Magento's Phrase rendering: `%1` is `parameters[0]` (list), `%name` is `parameters["name"]` (dict)."""
    if not parameters:
        return message

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if isinstance(parameters, list | tuple):
            if key.isdigit() and 1 <= int(key) <= len(parameters):
                return str(parameters[int(key) - 1])
            return match.group(0)
        if isinstance(parameters, dict):
            # PHP renders integer key k as %(k+1): a sparse positional array arrives as {"1": "x"} and fills %2.
            lookup = str(int(key) - 1) if key.isdigit() else key
            if lookup in parameters:
                return str(parameters[lookup])
        return match.group(0)

    return _PLACEHOLDER.sub(replace, message)


class MagentoError(BridgeError):
    """Root of everything the Magento client raises; `transient` as `bridge.errors` defines it."""


class MagentoHTTPError(MagentoError):
    """Magento answered with an error status; `message` has the placeholders filled in."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        raw_message: str | None = None,
        parameters: Any = None,
        errors: list[dict[str, Any]] | None = None,
        body: Any = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ):
        self.status = status
        self.message = message
        self.raw_message = raw_message if raw_message is not None else message
        self.parameters = parameters
        self.errors = errors or []
        self.body = body
        self.request_id = request_id
        self.method = method
        self.path = path
        # str() is Magento's own message, so it can go straight into a merchant-facing note.
        super().__init__(f"{message} (HTTP {status})")

    @property
    def error_messages(self) -> list[str]:
        """The aggregated `errors[]` of an InputException, placeholders filled."""
        return [fill_placeholders(str(e.get("message", "")), e.get("parameters")) for e in self.errors]

    @property
    def is_no_route(self) -> bool:
        """404 because the endpoint does not exist (module missing), not because the entity does not."""
        return self.status == 404 and self.raw_message == NO_ROUTE_MESSAGE


class MagentoInvalidRequest(MagentoHTTPError):
    """400: a LocalizedException (validation, invalid state, document validation...)."""


class MagentoAuthError(MagentoHTTPError):
    """401 (or 403): bad credentials, a missing ACL grant, or a refused bearer integration token."""


class MagentoNotFound(MagentoHTTPError):
    """404: NoSuchEntityException, or no route (see `is_no_route`)."""


class MagentoRateLimited(MagentoHTTPError):
    """429 from a proxy or rate limiter in front of Magento; the request was not processed."""

    transient = True


class MagentoServerError(MagentoHTTPError):
    """5xx: Magento (or a proxy) failed; for a write the outcome is unknown only if it is a gateway error."""

    transient = True


class MagentoTransportError(MagentoError):
    """No HTTP answer at all. `request_sent` False means Magento certainly never saw the request."""

    transient = True

    def __init__(self, message: str, *, request_sent: bool, method: str | None = None, path: str | None = None):
        self.request_sent = request_sent
        self.method = method
        self.path = path
        super().__init__(message)


class MagentoConnectionError(MagentoTransportError):
    """Connection refused, reset or dropped before a response arrived."""


class MagentoTimeout(MagentoConnectionError):
    """Connect timeout (not sent) or read timeout (sent: a write may have been saved).

    A connection error too, so one `except MagentoConnectionError` handles every lost answer."""


class MagentoSetupError(MagentoError):
    """Commerce lacks something the store's settings name; a person must add it or change the settings."""


class StoreViewMissing(MagentoSetupError):
    """The store view of the store's Order Settings does not exist in Commerce (any more)."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(
            f'Store view "{code}" does not exist in Commerce. Choose an existing store view under Order Settings '
            '(Import Amazon Orders Into Magento Store), or create it in Stores > All Stores.'
        )


class StockNotAssigned(MagentoSetupError):
    """MSI has no stock linked to the store view's website, so nothing can be sold there."""

    def __init__(self, website_code: str):
        self.website_code = website_code
        super().__init__(
            f'Website "{website_code}" has no stock assigned in Commerce. Assign a stock with a source to it in '
            "Stores > Inventory > Stocks (Sales Channels)."
        )


_BY_STATUS: dict[int, type[MagentoHTTPError]] = {
    400: MagentoInvalidRequest,
    401: MagentoAuthError,
    403: MagentoAuthError,
    404: MagentoNotFound,
    429: MagentoRateLimited,
}


def error_class_for(status: int) -> type[MagentoHTTPError]:
    if status >= 500:
        return MagentoServerError
    return _BY_STATUS.get(status, MagentoHTTPError)


def error_from_response(
    status: int,
    text: str,
    headers: dict[str, str] | None = None,
    *,
    method: str | None = None,
    path: str | None = None,
) -> MagentoHTTPError:
    """Build the right error from a status and body; non-JSON bodies (a proxy's HTML 502 page) are kept short."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    body: Any
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    raw_message: str
    parameters: Any = None
    errors: list[dict[str, Any]] = []
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        raw_message = body["message"]
        parameters = body.get("parameters")
        raw_errors = body.get("errors")
        if isinstance(raw_errors, list):
            errors = [e for e in raw_errors if isinstance(e, dict)]
    else:
        snippet = " ".join((text or "").split())
        if body is None and snippet:
            body = text
        raw_message = _html_title(text) or (snippet[:200] if snippet else f"HTTP {status} with an empty body")
    message = fill_placeholders(raw_message, parameters)
    request_id = headers.get("x-request-id") or headers.get("x-magento-request-id")
    if request_id is None:
        match = _REPORT_ID.search(message)
        request_id = match.group(1) if match else None
    cls = error_class_for(status)
    return cls(
        status,
        message,
        raw_message=raw_message,
        parameters=parameters,
        errors=errors,
        body=body,
        request_id=request_id,
        method=method,
        path=path,
    )


def _html_title(text: str | None) -> str | None:
    if not text:
        return None
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if match:
        title = " ".join(match.group(1).split())
        return title or None
    return None
