"""OAuth endpoints of the client API: app registration, token, revocation, server metadata.

The consent page itself (`/oauth/authorize`) is a web page, on the person's browser session.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.http import ApiError, caller, params, text
from server.models import OAuthApp
from server.services import oauth
from server.services.oauth import OAuthError


def app_entity(app: OAuthApp, client_secret: str | None = None) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": list(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
        "vapid_key": "",
    }
    if client_secret is not None:
        entity |= {
            "client_id": app.client_id,
            "client_secret": client_secret,
            "client_secret_expires_at": 0,
        }
    return entity


async def create_app(request: Request) -> Response:
    values = await params(request)
    uris = values.get("redirect_uris", "")
    if isinstance(uris, list):
        uris = " ".join(str(u) for u in uris)
    scopes = values.get("scopes", "read")
    if isinstance(scopes, list):
        scopes = " ".join(str(s) for s in scopes)
    registered = await oauth.register_app(
        request.app.state.db,
        name=text(values, "client_name"),
        redirect_uris=str(uris),
        scopes=str(scopes),
        website=text(values, "website"),
    )
    return JSONResponse(app_entity(registered.app, registered.client_secret))


async def verify_app(request: Request) -> Response:
    token = caller(request).token
    assert token is not None
    app = await oauth.get_app(request.app.state.db, token.client_id)
    return JSONResponse(app_entity(app))


def _client_credentials(request: Request, values: dict[str, Any]) -> tuple[str, str | None]:
    """Read the client's id and secret: HTTP Basic (RFC 6749 §2.3.1) or the body."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", "Client authentication failed.", 401) from exc
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    given = text(values, "client_secret")
    return text(values, "client_id"), given or None


def _token_entity(issued: oauth.IssuedToken) -> dict[str, Any]:
    return {
        "access_token": issued.token,
        "token_type": "Bearer",
        "scope": " ".join(issued.scopes),
        "created_at": int(issued.created_at.timestamp()),
    }


async def token(request: Request) -> Response:
    values = await params(request)
    client_id, secret = _client_credentials(request, values)
    grant_type = text(values, "grant_type")
    db = request.app.state.db
    if grant_type == "authorization_code":
        issued = await oauth.exchange_code(
            db,
            client_id=client_id,
            client_secret=secret,
            code=text(values, "code"),
            redirect_uri=text(values, "redirect_uri"),
            code_verifier=text(values, "code_verifier") or None,
        )
    elif grant_type == "client_credentials":
        if secret is None:
            raise OAuthError("invalid_client", "Client authentication failed.", 401)
        issued = await oauth.issue_app_token(
            db, client_id=client_id, client_secret=secret, scope=text(values, "scope")
        )
    else:
        raise OAuthError("unsupported_grant_type", "This grant type is not supported.")
    # RFC 6749 §5.1: token responses must not be cached.
    return JSONResponse(_token_entity(issued), headers={"pragma": "no-cache"})


async def revoke(request: Request) -> Response:
    values = await params(request)
    client_id, secret = _client_credentials(request, values)
    await oauth.revoke_token(
        request.app.state.db, client_id=client_id, client_secret=secret, token=text(values, "token")
    )
    return JSONResponse({})


async def server_metadata(request: Request) -> Response:
    """RFC 8414 metadata, as Mastodon 4.3 publishes it."""
    base = request.app.state.config.base_url
    return JSONResponse(
        {
            "issuer": base + "/",
            "service_documentation": base + "/docs/api",
            "authorization_endpoint": base + "/oauth/authorize",
            "token_endpoint": base + "/oauth/token",
            "revocation_endpoint": base + "/oauth/revoke",
            "app_registration_endpoint": base + "/api/v1/apps",
            "scopes_supported": sorted(oauth.SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
        }
    )


async def not_found(request: Request) -> Response:
    raise ApiError(404, "Record not found")
