"""The client API's URL map: Mastodon's paths, each endpoint with the scope it needs.

Every route goes through `api_endpoint` (bearer token, scope, JSON errors, rate-limit headers).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from api import oauth
from api.http import Handler, api_endpoint

READ = ["GET"]
WRITE = ["POST"]


def route(
    path: str,
    handler: Handler,
    methods: list[str],
    *,
    scope: str | None = None,
    user: bool = False,
    public: bool = False,
) -> Route:
    endpoint = api_endpoint(handler, scope=scope, user=user, public=public)
    return Route(path, endpoint, methods=methods)


def api_routes() -> list[BaseRoute]:
    """Return the routes of the client API and of its OAuth endpoints."""
    return [
        route("/api/v1/apps", oauth.create_app, WRITE),
        route("/api/v1/apps/verify_credentials", oauth.verify_app, READ, scope="read"),
        route("/oauth/token", oauth.token, WRITE),
        route("/oauth/revoke", oauth.revoke, WRITE),
        route("/.well-known/oauth-authorization-server", oauth.server_metadata, READ),
        route("/api/{rest:path}", oauth.not_found, ["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
