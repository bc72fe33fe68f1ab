"""Magento's web API error bodies: `{"message": "<phrase with %placeholders>", "parameters": ...}`.

Magento's ErrorProcessor maps NoSuchEntity → 404, Authorization/Authentication → 401, every other
LocalizedException → 400 and anything unexpected → 500 with a masked message; clients substitute the
placeholders themselves, so the twin keeps them raw.
"""

from __future__ import annotations

import secrets
from typing import Any

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
NO_ROUTE = "Request does not match any route."
ENTITY_NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
REQUIRED_FIELD = '"%fieldName" is required. Enter and try again.'


class MagentoError(Exception):
    """An error the twin answers the way Magento's ErrorProcessor renders it."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        parameters: dict[str, Any] | list[Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.parameters = parameters
        self.errors = errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.parameters is not None:
            out["parameters"] = self.parameters
        if self.errors:
            out["errors"] = self.errors
        return out


def not_found(message: str = ENTITY_NOT_FOUND, parameters: dict[str, Any] | list[Any] | None = None) -> MagentoError:
    return MagentoError(message, 404, parameters)


def unauthorized(resources: str) -> MagentoError:
    return MagentoError(NOT_AUTHORIZED, 401, {"resources": resources})


def required(field: str) -> MagentoError:
    return MagentoError(REQUIRED_FIELD, 400, {"fieldName": field})


def internal_error() -> MagentoError:
    """Production-mode mask of an unexpected exception (the real message only goes to the log)."""
    report = secrets.token_hex(6)
    return MagentoError(
        f"Internal Error. Details are available in Magento log file. Report ID: webapi-{report}", 500
    )


def type_error(field: str, value: Any, expected: str) -> MagentoError:
    """ServiceInputProcessor's message for a value that doesn't convert to the declared type."""
    shown = value if isinstance(value, str | int | float) else type(value).__name__
    details = f'The "{shown}" value\'s type is invalid. The "{expected}" type was expected. Verify and try again.'
    return MagentoError(
        'Error occurred during "%field_name" processing. %details',
        400,
        {"field_name": field, "details": details},
    )
