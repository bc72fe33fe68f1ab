"""Login with Amazon: `POST /auth/o2/token` (refresh_token and client_credentials grants).

Errors use LWA's `{"error", "error_description"}` JSON with OAuth 2.0 status codes (400, or 401 for
client authentication). LWA is not throttled and gets no injected faults.
"""

from __future__ import annotations

import hmac
import json
import secrets
from datetime import timedelta

from flask import Blueprint, Response, request

from .spapi import current_state
from .store import AccessToken

bp = Blueprint("amazon_lwa", __name__)

GRANTLESS_SCOPES = {"sellingpartnerapi::notifications", "sellingpartnerapi::client_credential:rotation"}


def lwa_error(status: int, error: str, description: str) -> Response:
    body = json.dumps({"error_description": description, "error": error})
    return Response(body, status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})


def _form() -> dict[str, str]:
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return {k: v for k, v in request.form.items()}


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@bp.post("/auth/o2/token")
def token() -> Response:
    state = current_state()
    config = state.config
    form = _form()
    grant_type = form.get("grant_type", "")
    if not grant_type:
        return lwa_error(400, "invalid_request", "The request is missing a required parameter : grant_type")
    if grant_type not in ("refresh_token", "client_credentials"):
        return lwa_error(400, "unsupported_grant_type", "The authorization grant type is not supported by "
                                                         "the authorization server")
    for name in ("client_id", "client_secret"):
        if not form.get(name):
            return lwa_error(400, "invalid_request", f"The request is missing a required parameter : {name}")
    if not (_same(form["client_id"], config.client_id) and _same(form["client_secret"], config.client_secret)):
        return lwa_error(401, "invalid_client", "Client authentication failed")

    seller_id: str | None = None
    scope: str | None = None
    if grant_type == "refresh_token":
        refresh_token = form.get("refresh_token", "")
        if not refresh_token:
            return lwa_error(400, "invalid_request",
                             "The request is missing a required parameter : refresh_token")
        seller_id = config.refresh_tokens.get(refresh_token)
        if seller_id is None:
            return lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
    else:
        scope = form.get("scope", "")
        if not scope:
            return lwa_error(400, "invalid_request", "The request is missing a required parameter : scope")
        if not set(scope.split()) <= GRANTLESS_SCOPES:
            return lwa_error(400, "invalid_scope", "An unknown scope was requested")

    access_token = "Atza|" + secrets.token_urlsafe(96)
    ttl = config.access_token_ttl_seconds
    with state.lock:
        if len(state.tokens) > 10000:  # forget expired tokens so long benchmarks stay flat
            now = state.clock.now()
            for key in [k for k, t in state.tokens.items() if t.expires_at <= now]:
                del state.tokens[key]
        state.tokens[access_token] = AccessToken(
            token=access_token, client_id=config.client_id, seller_id=seller_id,
            expires_at=state.clock.now() + timedelta(seconds=ttl), scope=scope,
        )
    body: dict[str, object] = {"access_token": access_token}
    if grant_type == "refresh_token":
        body["refresh_token"] = form["refresh_token"]
    body.update({"token_type": "bearer", "expires_in": ttl})
    return Response(json.dumps(body), status=200, mimetype="application/json",
                    headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
