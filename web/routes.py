"""The human side's URL map. Every POST goes through `form_endpoint` (form limits + CSRF)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from server.errors import NotFound
from server.services import avatars
from server.services import groups as group_service
from server.services.health import check_health
from web.pages import accounts, admin, following, groups, oauth, posts
from web.security import form_endpoint

STATIC = Path(__file__).parent / "static"


async def by_handle(request: Request) -> Response:
    """Send /@name to the person's or the group's page (the handle's usual web address)."""
    name = request.path_params["name"].lower()
    db = request.app.state.db
    try:
        await group_service.get_group_by_slug(db, name)
    except NotFound:
        return RedirectResponse(f"/users/{name}", status_code=302)
    return RedirectResponse(f"/groups/{name}", status_code=302)


async def avatar_file(request: Request) -> Response:
    path = avatars.avatar_path(request.app.state.config, request.path_params["name"])
    if path is None:
        raise NotFound("This page does not exist.")
    return FileResponse(
        path,
        media_type="image/png",
        headers={"cache-control": "public, max-age=31536000, immutable"},
    )


async def health(request: Request) -> Response:
    """Answer 200 when the instance can serve, 503 otherwise (for containers and proxies)."""
    try:
        state = await check_health(request.app.state.db)
    except Exception:  # any failure to reach PostgreSQL means "not healthy", nothing more
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse(state, status_code=200 if state["status"] == "ok" else 503)


def post(path: str, handler: object) -> Route:
    return Route(path, form_endpoint(handler), methods=["POST"])  # type: ignore[arg-type]


def web_routes() -> list[BaseRoute]:
    """Return the routes of the pages and forms."""
    return [
        Route("/", groups.home),
        Route("/health", health),
        Route("/signup", accounts.signup_page),
        post("/signup", accounts.signup),
        Route("/login", accounts.login_page),
        post("/login", accounts.login),
        post("/logout", accounts.logout),
        Route("/settings", accounts.settings_page),
        post("/settings", accounts.update_settings),
        post("/settings/avatar", accounts.update_avatar),
        Route("/settings/password", accounts.password_page),
        post("/settings/password", accounts.change_password),
        post("/settings/delete", accounts.delete_account),
        Route("/settings/apps", oauth.apps_page),
        post("/settings/apps/{token_id}/revoke", oauth.revoke_app),
        Route("/oauth/authorize", oauth.authorize_page),
        post("/oauth/authorize", oauth.authorize),
        Route("/admin", accounts.admin_page),
        post("/admin/accounts/{account_id:int}", accounts.admin_decide),
        post("/admin/password", accounts.admin_reset_password),
        Route("/admin/queue", admin.queue_page),
        post("/admin/queue/hosts", admin.host_action),
        Route("/users/{username}", accounts.profile_page),
        Route("/@{name}", by_handle),
        Route("/groups/new", groups.new_group_page),
        post("/groups", groups.create_group),
        Route("/groups/{slug}", groups.group_page),
        post("/groups/{slug}/join", groups.join),
        post("/groups/{slug}/leave", groups.leave),
        post("/groups/{slug}/posts", posts.create_post),
        Route("/groups/{slug}/members", groups.members_page),
        post("/groups/{slug}/members/invite", groups.invite),
        post("/groups/{slug}/members/{actor_id}/decide", groups.decide_request),
        post("/groups/{slug}/members/{actor_id}/role", groups.set_role),
        post("/groups/{slug}/members/{actor_id}/remove", groups.remove_member),
        Route("/groups/{slug}/settings", groups.settings_page),
        post("/groups/{slug}/settings", groups.update_settings),
        post("/groups/{slug}/avatar", groups.update_avatar),
        Route("/posts/{post_id}", posts.post_page),
        Route("/posts/{post_id}/edit", posts.edit_page),
        post("/posts/{post_id}/edit", posts.edit),
        post("/posts/{post_id}/delete", posts.delete),
        Route("/following", following.following_page),
        post("/following", following.follow),
        post("/following/{actor_id}/unfollow", following.unfollow),
        post("/groups/{slug}/remote-follow", following.remote_follow),
        post("/groups/{slug}/followers/{actor_id}/decide", following.decide_follow),
        post("/posts/{post_id}/like", following.like),
        Route("/tags/{tag}", posts.tag_page),
        Route("/media/avatars/{name}", avatar_file),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
