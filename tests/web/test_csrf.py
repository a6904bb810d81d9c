"""Every POST route of the app refuses a form without this browser's CSRF token, and writes
nothing. The routes are enumerated from the app itself, so a new form cannot be forgotten."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from server.config import Config
from server.db import Pool
from server.services import board, mobilizations, participation, petitions
from tests.factories import make_account, make_event, make_group, make_member, make_post
from tests.web.conftest import OpenVisitor, StartApp
from tests.web.markup import parse
from tests.web.visitor import Visitor

CSRF_MESSAGE = "This form has expired. Go back, reload the page and try again."
PASSWORD = "correct horse battery staple"
# POST routes that legitimately take no CSRF token: requests that carry no cookie and are
# authenticated otherwise. ActivityPub inboxes are signed with HTTP Signatures by the peer
# server (federation/), never submitted by a browser session; the client API's routes take a
# bearer token from the Authorization header and never read a cookie (api/, marked so by
# `api_endpoint`).
EXEMPT_PACKAGES = ("federation.",)
# POST routes whose URL is signed with the secret key for one account and one purpose: the
# signature is the authority, and RFC 8058's one-click unsubscribe comes from a mail program
# that never saw a form of ours (web/security.py `signed_link_endpoint`, SECURITY.md).
SIGNED_LINK_ROUTES = {"/unsubscribe/{account_id}/{token}"}


def token_authenticated(route: Route) -> bool:
    endpoint = route.endpoint
    return endpoint.__module__.startswith("api.") and getattr(
        endpoint, "token_authenticated", False
    )


async def snapshot(db: Pool) -> dict[str, tuple[int, str | None]]:
    """Return (row count, digest of all rows) of every table: equal snapshots, nothing written."""
    async with db.acquire() as conn:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        result = {}
        for row in tables:
            name = row["tablename"]
            counted = await conn.fetchrow(
                f"SELECT count(*) AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest"
                f' FROM "{name}" t'
            )
            result[name] = (counted["n"], counted["digest"])
    assert {"actors", "accounts", "groups", "memberships", "posts", "sessions", "jobs"} <= set(
        result
    )
    return result


def post_routes(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    """Yield (full path, route) for every route answering POST, inside mounts too."""
    for route in routes:
        path = prefix + getattr(route, "path", "")
        if isinstance(route, Route) and route.methods and "POST" in route.methods:
            yield path, route
        children = getattr(route, "routes", None)
        if children:
            yield from post_routes(list(children), path)


def browser_post_routes(app: Starlette) -> list[tuple[str, Route]]:
    found = list(post_routes(app.routes))
    return [
        (p, r)
        for p, r in found
        if not r.endpoint.__module__.startswith(EXEMPT_PACKAGES)
        and not token_authenticated(r)
        and p not in SIGNED_LINK_ROUTES
    ]


def api_post_routes(app: Starlette) -> list[tuple[str, Route]]:
    return [(p, r) for p, r in post_routes(app.routes) if token_authenticated(r)]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "purple").save(out, format="PNG")
    return out.getvalue()


@dataclasses.dataclass
class World:
    """Rows that let every form do something real if its token check were missing."""

    admin: Visitor
    attacker: Visitor
    params: dict[str, dict[str, str]]  # path template -> path parameters
    fields: dict[str, dict[str, str]]  # path template -> form fields


# Fields that make each form succeed when sent with a good token.
COMMON_FIELDS = {
    "decision": "approve",
    "role": "moderator",
    "content": "Changed by a forged form",
    "content_warning": "",
    "name": "Renamed by a forged form",
    "description": "Forged",
    "visibility": "members",
    "join_policy": "open",
    "display_name": "Forged",
    "summary": "Forged",
    "language": "fr",
    "timezone": "Europe/Paris",
    "current_password": PASSWORD,
    "new_password": "a password chosen by the attacker",
    "password": PASSWORD,
    "email": "newcomer@example.org",
    "slug": "forged_group",
    "handle": "friend@peer.example",
    "instance": "mastodon.example",
}
# Routes that end the admin's session go last when the forms are sent with their token.
LAST = ("/settings/delete", "/logout")


async def build_world(db: Pool, config: Config, visitors: OpenVisitor, app: Starlette) -> World:
    admin_account = await make_account(db, config, "root_admin", is_admin=True)
    group = await make_group(db, config, admin_account, "circle", join_policy="approval")
    post = await make_post(db, config, group, admin_account, "Original")
    member = await make_account(db, config, "member")
    await make_member(db, dataclasses.replace(group, join_policy="open"), member)
    requester = await make_account(db, config, "requester")
    await make_member(db, group, requester)  # a pending request: the policy is approval
    await make_account(db, config, "invitee")
    pending = await make_account(
        db, dataclasses.replace(config, registrations="approval"), "pending", by_operator=False
    )
    await make_account(db, config, "attacker")
    petition = await petitions.create_petition(
        db, config, group, admin_account, title="T", body="B", addressee="A", goal="10"
    )
    mobilization = await mobilizations.publish_mobilization(
        db, config, group, admin_account, what="W", place="P", starts_at="2099-01-01T10:00"
    )
    event = await make_event(db, group, admin_account)
    joined = await participation.join_event(db, config, event, member)
    item = await board.create_item(
        db, config, group, member, kind="need", category="food", title="T", details="",
        valid_until=(date.today() + timedelta(days=30)).isoformat(),
    )  # fmt: skip

    admin = visitors(on=app)
    assert (await admin.log_in("root_admin")).status_code == 303
    attacker = visitors(on=app)
    assert (await attacker.log_in("attacker")).status_code == 303

    base = {
        "slug": group.slug,
        "post_id": str(post.id),
        "account_id": str(pending.id),
        "petition_id": str(petition.id),
        "mobilization_id": str(mobilization.id),
        "event_id": str(event.id),
        "participant_id": str(joined.id),
        "id": str(post.id),
        "rest": "v1/anything",
        "token_id": "1",
        "item_id": str(item.id),
        "answer_id": "1",
        "availability_id": "1",
        "resource_id": "1",
        "goal_id": "1",
        "report_id": "1",
        "anonymous_id": "1",
        "action": "suspend",
        "notification_id": "1",
        "token": "not-a-token",
    }
    params = {
        "/groups/{slug}/members/{actor_id}/decide": {**base, "actor_id": str(requester.id)},
    }
    params_default = {**base, "actor_id": str(member.id)}
    fields = {
        "/signup": {"username": "newcomer"},
        "/login": {"username": "root_admin"},
        "/admin/password": {"username": "member"},
        "/groups/{slug}/members/invite": {"username": "invitee"},
        "/groups/{slug}/petitions": {"title": "T", "body": "B", "addressee": "A", "goal": "5"},
        "/petitions/{petition_id}/status": {"status": "closed"},
        "/groups/{slug}/mobilizations": {"what": "W", "place": "P", "starts_at": "2099-02-01"},
        "/groups/{slug}/alliances/{actor_id}/relay": {"relay": "approve"},
        "/groups/{slug}/bans": {"handle": "@member", "reason": "forged"},
        "/admin/moderation/{action}": {"username": "member"},
        "/posts/{post_id}/report": {"reason": "forged"},
        "/groups/{slug}/anonymous": {"anonymous_posts": "on"},
        "/groups/{slug}/anonymous/{anonymous_id}/decide": {"decision": "approve"},
    }
    return World(
        admin=admin,
        attacker=attacker,
        params=params | {"*": params_default},
        fields=fields,
    )


def fill(path: str, params: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in params, f"give test_csrf a value for the path parameter {{{name}}}"
        return params[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


def uploads(config: Config) -> list[Path]:
    return sorted(config.uploads_dir.rglob("*")) if config.uploads_dir.exists() else []


async def forge(
    visitor: Visitor, path: str, fields: dict[str, str], *, token: str | None, with_token: bool
) -> tuple[int, str]:
    files = {"avatar": ("a.png", png(), "image/png")} if path.endswith("/avatar") else None
    response = await visitor.post(path, fields, files=files, token=token, with_token=with_token)
    text = parse(response.text).text if response.status_code != 303 else ""
    return response.status_code, text


async def test_every_post_route_is_wrapped_by_form_endpoint(app: Starlette) -> None:
    routes = browser_post_routes(app)

    assert len(routes) >= 20  # the enumeration itself works (mounts, methods)
    unchecked = [
        path for path, route in routes if not getattr(route.endpoint, "csrf_checked", False)
    ]
    assert unchecked == []
    # The exemption covers ActivityPub inboxes and the client API's token-authenticated
    # routes alone; any other POST must come from a form.
    exempt = {path for path, _ in post_routes(app.routes)} - {path for path, _ in routes}
    api = {path for path, _ in api_post_routes(app)}
    assert len(api) >= 3  # the mark is found (apps, token, revoke at least)
    assert all(
        path.endswith("/inbox") or path in api or path in SIGNED_LINK_ROUTES for path in exempt
    ), exempt - api - SIGNED_LINK_ROUTES
    # A signed-link route is one because it is marked so, not because it is listed.
    signed = {p for p, r in post_routes(app.routes) if getattr(r.endpoint, "signed_link", False)}
    assert signed == SIGNED_LINK_ROUTES
    assert all(path.startswith(("/api/", "/oauth/token", "/oauth/revoke")) for path in api), api


async def test_api_post_routes_ignore_the_session_cookie_and_write_nothing(
    start_app: StartApp, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    # What makes the API safe without CSRF tokens: a browser's cookies authenticate nothing
    # there. A signed-in admin's browser posting to every API route changes no row.
    app = await start_app()
    world = await build_world(db, web_config, visitors, app)
    before = await snapshot(db)

    failures = []
    for template, _route in api_post_routes(app):
        path = fill(template, world.params.get(template, world.params["*"]))
        status, _text = await forge(world.admin, path, COMMON_FIELDS, token=None, with_token=True)
        if status not in (400, 401, 404, 422):
            failures.append(f"{template}: {status}")
        if await snapshot(db) != before:
            failures.append(f"{template}: wrote to the database")
            before = await snapshot(db)

    assert failures == []


async def test_route_enumeration_finds_posts_inside_mounts() -> None:
    from starlette.routing import Mount

    async def endpoint(request: object) -> None:
        raise AssertionError

    routes: list[BaseRoute] = [
        Route("/a", endpoint, methods=["GET"]),
        Mount("/m", routes=[Route("/b", endpoint, methods=["POST"])]),
    ]
    assert [path for path, _ in post_routes(routes)] == ["/m/b"]


@pytest.mark.parametrize("attempt", ["no token", "random token", "attacker's own token"])
async def test_every_post_route_refuses_a_forged_form_and_writes_nothing(
    start_app: StartApp, visitors: OpenVisitor, db: Pool, web_config: Config, attempt: str
) -> None:
    app = await start_app()
    world = await build_world(db, web_config, visitors, app)
    attacker_token = await world.attacker.token()
    assert attacker_token != await world.admin.token()
    token = {"no token": None, "random token": "0" * 64, "attacker's own token": attacker_token}[
        attempt
    ]
    before = await snapshot(db)
    files_before = uploads(web_config)

    failures = []
    for template, _route in browser_post_routes(app):
        path = fill(template, world.params.get(template, world.params["*"]))
        fields = COMMON_FIELDS | world.fields.get(template, {})
        status, text = await forge(
            world.admin, path, fields, token=token, with_token=attempt != "no token"
        )
        if status != 403 or CSRF_MESSAGE not in text:
            failures.append(f"{template}: {status}")
        now, files_now = await snapshot(db), uploads(web_config)
        if now != before or files_now != files_before:
            failures.append(f"{template}: wrote to the database or the disk")
            before, files_before = now, files_now  # judge the next route on its own

    assert failures == []
    assert await world.admin.signed_in_as() == "root_admin"


async def test_every_post_route_accepts_the_form_with_its_token(
    start_app: StartApp, visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    # The counterpart of the test above: with the right token, the same requests get past the
    # check, so the refusals there come from the token alone. Logout goes last.
    app = await start_app()
    world = await build_world(db, web_config, visitors, app)
    routes = sorted(
        browser_post_routes(app), key=lambda item: LAST.index(item[0]) if item[0] in LAST else -1
    )
    before = await snapshot(db)

    refused = []
    for template, _route in routes:
        path = fill(template, world.params.get(template, world.params["*"]))
        fields = COMMON_FIELDS | world.fields.get(template, {})
        status, text = await forge(world.admin, path, fields, token=None, with_token=True)
        if status == 403 and CSRF_MESSAGE in text:
            refused.append(template)

    assert refused == []
    after = await snapshot(db)
    changed = {table for table in before if before[table] != after[table]}
    assert {"actors", "accounts", "groups", "memberships", "posts", "sessions"} <= changed
    assert uploads(web_config) != []
