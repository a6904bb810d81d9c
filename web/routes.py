"""The human side's URL map. Every POST goes through `form_endpoint` (form limits + CSRF)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from server.errors import NotFound
from server.services import avatars, pictures
from server.services import groups as group_service
from server.services.health import check_health
from web import discovery, feeds
from web.pages import (
    about,
    accounts,
    admin,
    availability,
    board,
    events,
    following,
    goals,
    groups,
    library,
    mail,
    mobilizations,
    moderation,
    muting,
    notifications,
    oauth,
    petitions,
    posts,
    search,
)
from web.security import form_endpoint, signed_link_endpoint

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


async def picture_file(request: Request) -> Response:
    found = pictures.picture_path(request.app.state.config, request.path_params["name"])
    if found is None:
        raise NotFound("This page does not exist.")
    path, media_type = found
    return FileResponse(
        path,
        media_type=media_type,
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


def event_routes() -> list[BaseRoute]:
    """Return the routes of agendas, events and their calendars."""
    return [
        Route("/events", events.public_agenda),
        Route("/events.ics", events.public_ics),
        Route("/groups/{slug}/calendar.ics", events.group_ics),
        Route("/events/{event_id}/event.ics", events.event_ics),
        Route("/agenda", events.my_agenda),
        Route("/groups/{slug}/events", events.group_agenda),
        Route("/groups/{slug}/events/new", events.new_event_page),
        post("/groups/{slug}/events", events.create_event),
        Route("/events/{event_id}", events.event_page),
        Route("/events/{event_id}/edit", events.edit_page),
        post("/events/{event_id}/edit", events.edit),
        post("/events/{event_id}/cancel", events.cancel),
        post("/events/{event_id}/delete", events.delete),
        post("/events/{event_id}/join", events.join),
        post("/events/{event_id}/leave", events.leave),
        post("/events/{event_id}/comments", events.comment),
        post("/events/{event_id}/participants/{participant_id}/decide", events.decide),
        Route("/events/{event_id}/participants.csv", events.participants_csv),
    ]


def board_routes() -> list[BaseRoute]:
    """Return the routes of mutual support: needs and offers, availability, library, goals."""
    return [
        Route("/board", board.followed_page),
        Route("/groups/{slug}/board", board.board_page),
        post("/groups/{slug}/board", board.create_item),
        Route("/board/{item_id}", board.item_page),
        post("/board/{item_id}/answers", board.answer),
        post("/board/{item_id}/answers/{answer_id}/reply", board.reply),
        post("/board/{item_id}/close", board.close),
        Route("/groups/{slug}/availability", availability.availability_page),
        post("/groups/{slug}/availability", availability.set_now),
        post("/groups/{slug}/availability/weekly", availability.add_weekly),
        post("/groups/{slug}/availability/{availability_id}/remove", availability.remove),
        post("/groups/{slug}/availability/ask/{actor_id}", availability.ask),
        Route("/groups/{slug}/library", library.library_page),
        post("/groups/{slug}/library", library.add),
        Route("/library/{resource_id}", library.resource_page),
        Route("/library/{resource_id}/file", library.document_file),
        post("/library/{resource_id}/pin", library.pin),
        post("/library/{resource_id}/remove", library.remove),
        Route("/groups/{slug}/goals", goals.goals_page),
        post("/groups/{slug}/goals", goals.share),
        Route("/goals/{goal_id}", goals.goal_page),
        post("/goals/{goal_id}/updates", goals.add_update),
        post("/goals/{goal_id}/like", goals.like),
    ]


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
        Route("/settings/export", accounts.export_data),
        Route("/settings/muting", muting.muting_page),
        post("/settings/muting", muting.silence),
        post("/settings/muting/{actor_id}/unmute", muting.unmute),
        post("/settings/muting/{actor_id}/unblock", muting.unblock),
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
        Route("/groups/{slug}/leave", groups.leave_page),
        post("/groups/{slug}/leave", groups.leave),
        Route("/groups/{slug}/delete", groups.delete_page),
        post("/groups/{slug}/delete", groups.delete_group),
        Route("/groups/{slug}/posts", posts.group_posts_page),
        post("/groups/{slug}/posts", posts.create_post),
        Route("/groups/{slug}/members", groups.members_page),
        post("/groups/{slug}/members/invite", groups.invite),
        post("/groups/{slug}/members/{actor_id}/decide", groups.decide_request),
        post("/groups/{slug}/members/{actor_id}/role", groups.set_role),
        Route("/groups/{slug}/members/{actor_id}/remove", groups.remove_member_page),
        post("/groups/{slug}/members/{actor_id}/remove", groups.remove_member),
        Route("/groups/{slug}/settings", groups.settings_page),
        post("/groups/{slug}/settings", groups.update_settings),
        post("/groups/{slug}/avatar", groups.update_avatar),
        Route("/posts/{post_id}", posts.post_page),
        Route("/posts/{post_id}/edit", posts.edit_page),
        post("/posts/{post_id}/edit", posts.edit),
        Route("/posts/{post_id}/delete", posts.delete_page),
        post("/posts/{post_id}/delete", posts.delete),
        Route("/following", following.following_page),
        Route("/search", search.search_page),
        Route("/about", about.about_page),
        Route("/admin/about", about.edit_page),
        post("/admin/about", about.save),
        Route("/directory", about.directory_page),
        Route("/authorize_interaction", discovery.authorize_interaction),
        Route("/robots.txt", discovery.robots),
        Route("/favicon.ico", discovery.favicon),
        Route("/groups/{slug}/feed.atom", feeds.group_feed),
        Route("/users/{username}/feed.atom", feeds.person_feed),
        Route("/notifications", notifications.notifications_page),
        post("/notifications/read", notifications.mark_all_read),
        post("/notifications/{notification_id}/read", notifications.open_notification),
        Route("/settings/notifications", notifications.preferences_page),
        post("/settings/notifications", notifications.save_preferences),
        Route("/password/forgot", mail.forgot_page),
        post("/password/forgot", mail.forgot),
        Route("/password/reset/{token}", mail.reset_page),
        post("/password/reset/{token}", mail.reset),
        Route("/settings/email", mail.email_page),
        post("/settings/email", mail.change_email),
        Route("/settings/email/confirm/{token}", mail.confirm_email_page),
        post("/settings/email/confirm/{token}", mail.confirm_email),
        Route("/signup/confirm/{token}", mail.confirm_signup_page),
        post("/signup/confirm/{token}", mail.confirm_signup),
        Route("/unsubscribe/{account_id}/{token}", mail.unsubscribe_page),
        # RFC 8058 one-click: the signed URL is the authority (web/security.py).
        Route(
            "/unsubscribe/{account_id}/{token}",
            signed_link_endpoint(mail.unsubscribe),
            methods=["POST"],
        ),
        post("/following", following.follow),
        post("/following/{actor_id}/unfollow", following.unfollow),
        post("/groups/{slug}/remote-follow", following.remote_follow),
        post("/groups/{slug}/followers/{actor_id}/decide", following.decide_follow),
        post("/posts/{post_id}/like", following.like),
        Route("/tags/{tag}", posts.tag_page),
        Route("/groups/{slug}/petitions/new", petitions.new_petition_page),
        post("/groups/{slug}/petitions", petitions.create_petition),
        Route("/petitions/{petition_id}", petitions.petition_page),
        post("/petitions/{petition_id}/sign", petitions.sign),
        post("/petitions/{petition_id}/withdraw", petitions.withdraw),
        post("/petitions/{petition_id}/status", petitions.change_status),
        Route("/petitions/{petition_id}/signatures.csv", petitions.export),
        Route("/groups/{slug}/mobilizations/new", mobilizations.new_mobilization_page),
        post("/groups/{slug}/mobilizations", mobilizations.publish),
        Route("/mobilizations/{mobilization_id}", mobilizations.mobilization_page),
        Route("/groups/{slug}/alliances", mobilizations.alliances_page),
        post("/groups/{slug}/alliances", mobilizations.propose),
        post("/groups/{slug}/alliances/{actor_id}/accept", mobilizations.accept),
        post("/groups/{slug}/alliances/{actor_id}/relay", mobilizations.set_relay),
        post("/groups/{slug}/relays/{mobilization_id}/approve", mobilizations.approve_relay),
        *event_routes(),
        *board_routes(),
        Route("/media/avatars/{name}", avatar_file),
        Route("/media/pictures/{name}", picture_file),
        post("/groups/{slug}/header", groups.update_header),
        Route("/groups/{slug}/moderation", moderation.group_moderation_page),
        post("/groups/{slug}/bans", moderation.ban),
        post("/groups/{slug}/bans/{actor_id}/lift", moderation.lift_ban),
        post("/reports/{report_id}/resolve", moderation.resolve_report),
        Route("/posts/{post_id}/report", moderation.report_page),
        post("/posts/{post_id}/report", moderation.report),
        Route("/admin/moderation", moderation.admin_moderation_page),
        post("/admin/moderation/{action}", moderation.admin_action),
        post("/posts/{post_id}/author", moderation.reveal_author),
        post("/groups/{slug}/anonymous", moderation.set_anonymous_posts),
        post("/groups/{slug}/anonymous/{anonymous_id}/decide", moderation.decide_anonymous),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
