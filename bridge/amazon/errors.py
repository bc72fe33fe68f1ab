"""One error hierarchy for everything the bridge's Amazon layer raises.

Callers (the importer, RQ jobs) branch on these types instead of on SDK exceptions or HTTP codes; each
says whether it is transient (`AmazonThrottled`, `AmazonServerError`) or needs a person or different
input, and `bridge.errors.disposition` decides from that.
"""

from __future__ import annotations

from typing import Any

from bridge.errors import BridgeError


class AmazonError(BridgeError):
    """Base of every error from the Amazon layer."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        operation: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.operation = operation
        self.errors = errors or []
        self.request_id = request_id


class AmazonAuthError(AmazonError):
    """LWA refused the credentials, or SP-API answered 401/403 (bad token, missing role)."""


class AmazonInvalidInput(AmazonError):
    """400: Amazon rejected the request; `errors` holds Amazon's `[{code, message, details}]`."""


class AmazonNotFound(AmazonError):
    """404: the order, feed or document does not exist (for this seller)."""


class AmazonThrottled(AmazonError):
    """429 even after the bounded retries; the job should run again later."""

    transient = True


class AmazonServerError(AmazonError):
    """An outage: 5xx or a connection failure that outlived the client's few quick retries. Unlike a 429
    it is not waited out in the worker: the job ends and the store backs off (`bridge.outage`)."""

    transient = True


class AmazonDataError(AmazonError):
    """Amazon sent data the bridge cannot map; the message names the order and the field."""

    def __init__(self, order_id: str | None, field: str, problem: str) -> None:
        super().__init__(f"Amazon order {order_id or '?'}: field {field!r}: {problem}")
        self.order_id = order_id
        self.field = field
        self.problem = problem
