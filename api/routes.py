"""The client API's URL map: Mastodon's paths, each endpoint with the scope it needs.

Every route goes through `api_endpoint` (bearer token, scope, JSON errors, rate-limit headers).
`public=True`: readable without a token, as Mastodon's public pages are.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from api import accounts, instance, media, notifications, oauth, search, statuses, timelines
from api.http import Handler, api_endpoint

GET = ["GET"]
POST = ["POST"]


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
        # OAuth (the consent page is the web's /oauth/authorize)
        route("/api/v1/apps", oauth.create_app, POST),
        route("/api/v1/apps/verify_credentials", oauth.verify_app, GET, scope="read"),
        route("/oauth/token", oauth.token, POST),
        route("/oauth/revoke", oauth.revoke, POST),
        route("/.well-known/oauth-authorization-server", oauth.server_metadata, GET),
        # Instance
        route("/api/v1/instance", instance.instance_v1, GET),
        route("/api/v2/instance", instance.instance_v2, GET),
        route("/api/v1/custom_emojis", instance.custom_emojis, GET),
        # Accounts (fixed paths before /{id})
        route(
            "/api/v1/accounts/verify_credentials",
            accounts.verify_credentials,
            GET,
            scope="read:accounts",
            user=True,
        ),
        route(
            "/api/v1/accounts/update_credentials",
            accounts.update_credentials,
            ["PATCH"],
            scope="write:accounts",
            user=True,
        ),
        route(
            "/api/v1/accounts/relationships",
            accounts.relationships_of,
            GET,
            scope="read:follows",
            user=True,
        ),
        route("/api/v1/accounts/lookup", accounts.lookup, GET, scope="read", public=True),
        route("/api/v1/accounts/search", accounts.search_accounts, GET, scope="read:accounts"),
        route("/api/v1/accounts/{id}", accounts.show, GET, scope="read", public=True),
        route(
            "/api/v1/accounts/{id}/statuses",
            accounts.statuses,
            GET,
            scope="read:statuses",
            public=True,
        ),
        route(
            "/api/v1/accounts/{id}/follow",
            accounts.follow,
            POST,
            scope="write:follows",
            user=True,
        ),
        route(
            "/api/v1/accounts/{id}/unfollow",
            accounts.unfollow,
            POST,
            scope="write:follows",
            user=True,
        ),
        *(
            route(f"/api/v1/accounts/{{id}}/{action}", handler, POST, scope=scope, user=True)
            for action, handler, scope in (
                ("mute", accounts.mute, "write:mutes"),
                ("unmute", accounts.unmute, "write:mutes"),
                ("block", accounts.block, "write:blocks"),
                ("unblock", accounts.unblock, "write:blocks"),
            )
        ),
        route("/api/v1/mutes", accounts.mutes, GET, scope="read:mutes", user=True),
        route("/api/v1/blocks", accounts.blocks, GET, scope="read:blocks", user=True),
        # Timelines
        route("/api/v1/timelines/home", timelines.home, GET, scope="read:statuses", user=True),
        route(
            "/api/v1/timelines/public", timelines.public, GET, scope="read:statuses", public=True
        ),
        route(
            "/api/v1/timelines/tag/{hashtag}",
            timelines.tag,
            GET,
            scope="read:statuses",
            public=True,
        ),
        # Statuses
        route("/api/v1/statuses", statuses.create, POST, scope="write:statuses", user=True),
        route("/api/v1/statuses/{id}", statuses.show, GET, scope="read:statuses", public=True),
        route("/api/v1/statuses/{id}", statuses.edit, ["PUT"], scope="write:statuses", user=True),
        route(
            "/api/v1/statuses/{id}", statuses.delete, ["DELETE"], scope="write:statuses", user=True
        ),
        route(
            "/api/v1/statuses/{id}/context",
            statuses.context,
            GET,
            scope="read:statuses",
            public=True,
        ),
        route(
            "/api/v1/statuses/{id}/favourite",
            statuses.favourite,
            POST,
            scope="write:favourites",
            user=True,
        ),
        route(
            "/api/v1/statuses/{id}/unfavourite",
            statuses.unfavourite,
            POST,
            scope="write:favourites",
            user=True,
        ),
        # Media
        route("/api/v2/media", media.upload, POST, scope="write:media", user=True),
        route("/api/v1/media", media.upload, POST, scope="write:media", user=True),
        route("/api/v1/media/{id}", media.show, GET, scope="write:media", user=True),
        route("/api/v1/media/{id}", media.update, ["PUT"], scope="write:media", user=True),
        # Notifications
        route(
            "/api/v1/notifications",
            notifications.index,
            GET,
            scope="read:notifications",
            user=True,
        ),
        route(
            "/api/v1/notifications/unread_count",
            notifications.unread_count,
            GET,
            scope="read:notifications",
            user=True,
        ),
        route(
            "/api/v1/notifications/clear",
            notifications.clear,
            POST,
            scope="write:notifications",
            user=True,
        ),
        route(
            "/api/v1/notifications/{id}",
            notifications.show,
            GET,
            scope="read:notifications",
            user=True,
        ),
        route(
            "/api/v1/notifications/{id}/dismiss",
            notifications.dismiss,
            POST,
            scope="write:notifications",
            user=True,
        ),
        # Search
        route("/api/v2/search", search.search, GET, scope="read:search", public=True),
        # What Entraide has none of, answered empty so that apps carry on.
        *(
            route(path, instance.empty_list, GET, scope="read", user=True)
            for path in (
                "/api/v1/filters",
                "/api/v2/filters",
                "/api/v1/lists",
                "/api/v1/domain_blocks",
                "/api/v1/follow_requests",
                "/api/v1/announcements",
                "/api/v1/conversations",
                "/api/v1/favourites",
                "/api/v1/bookmarks",
                "/api/v1/scheduled_statuses",
            )
        ),
        route("/api/{rest:path}", oauth.not_found, ["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
