"""Tokens API 2021-03-01: createRestrictedDataToken, so v0 clients can read buyer and address PII the
way they do on Amazon (an RDT in `x-amz-access-token` instead of the LWA token)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, Response, g

from .spapi import current_state, error, json_response, request_json, sp_operation
from .store import AccessToken

bp = Blueprint("amazon_tokens", __name__)

MODEL = "tokens_2021-03-01"
METHODS = {"GET", "PUT", "POST", "DELETE"}
DATA_ELEMENTS = {"buyerInfo", "shippingAddress", "buyerTaxInformation"}
RDT_LIFETIME = 3600


def invalid_request(details: str) -> Response:
    return error(400, "InvalidRequest", "Request is missing or has invalid parameters", details)


@bp.post("/tokens/2021-03-01/restrictedDataToken")
@sp_operation("createRestrictedDataToken", MODEL, "createRestrictedDataToken")
def create_restricted_data_token() -> Response:
    state = current_state()
    if g.rdt:
        return error(403, "Unauthorized", "Access to requested resource is denied.")
    body = request_json()
    resources = body.get("restrictedResources") if isinstance(body, dict) else None
    if not isinstance(resources, list) or not 1 <= len(resources) <= 50:
        return invalid_request("Resource not provided.")
    clean: list[dict] = []
    for resource in resources:
        if not isinstance(resource, dict):
            return invalid_request("Resource not provided.")
        method, path = resource.get("method"), resource.get("path")
        elements = resource.get("dataElements") or []
        if method not in METHODS or not isinstance(path, str) or not path.startswith("/"):
            return invalid_request("Resource not provided.")
        if not isinstance(elements, list) or set(elements) - DATA_ELEMENTS:
            return invalid_request(f"Invalid dataElements for {path}.")
        clean.append({"method": method, "path": path, "dataElements": list(elements)})
    token = "Atz.sprdt|" + secrets.token_urlsafe(64)
    with state.lock:
        state.tokens[token] = AccessToken(
            token=token, client_id=state.config.client_id, seller_id=g.seller_id,
            expires_at=state.clock.now() + timedelta(seconds=RDT_LIFETIME), resources=clean,
        )
    return json_response({"restrictedDataToken": token, "expiresIn": RDT_LIFETIME})
