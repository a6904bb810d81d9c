"""Moderation pages: a group's (reports, bans, log), the instance's (blocks, suspensions,
reports, log), and the report form of a post."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid, NotFound
from server.services import anonymous, groups, moderation, posts
from web.forms import field, form_values, parse_id, require_account
from web.render import redirect, render


async def group_moderation_page(
    request: Request, errors: dict[str, str] | None = None, form: dict[str, str] | None = None
) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    context: dict[str, Any] = {
        "group": group,
        "reports": await moderation.list_reports(db, account, group),
        "bans": await moderation.list_bans(db, group, account),
        "log": await moderation.list_log(db, account, group),
        "pending_anonymous": await anonymous.list_pending(db, group, account),
        "errors": errors or {},
        "form": form or {},
    }
    return render(request, "moderation.html", context, status=422 if errors else 200)


async def ban(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    try:
        await moderation.ban_from_group(
            db, group, account, field(form, "handle"), field(form, "reason")
        )
    except Invalid as exc:
        return await group_moderation_page(request, exc.fields, form_values(form))
    return redirect(request, f"/groups/{group.slug}/moderation", flash="banned")


async def lift_ban(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    await moderation.lift_ban(db, group, account, parse_id(request.path_params["actor_id"]))
    return redirect(request, f"/groups/{group.slug}/moderation")


async def resolve_report(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    report_id = parse_id(request.path_params["report_id"])
    await moderation.resolve_report(db, account, report_id)
    back = field(form, "back")
    return redirect(request, back if back.startswith("/groups/") else "/admin/moderation")


async def report_page(
    request: Request, errors: dict[str, str] | None = None, form: dict[str, str] | None = None
) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    post, group = await posts.get_post(db, parse_id(request.path_params["post_id"]), account)
    context = {"post": post, "group": group, "errors": errors or {}, "form": form or {}}
    return render(request, "report.html", context, status=422 if errors else 200)


async def report(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    post_id = parse_id(request.path_params["post_id"])
    try:
        await moderation.report(
            db, account, post_id=post_id, reason=field(form, "reason"),
            forward=field(form, "forward") == "on",
        )  # fmt: skip
    except Invalid as exc:
        return await report_page(request, exc.fields, form_values(form))
    return redirect(request, f"/posts/{post_id}", flash="reported")


async def admin_moderation_page(
    request: Request, errors: dict[str, str] | None = None, form: dict[str, str] | None = None
) -> Response:
    admin = await require_account(request)
    db = request.app.state.db
    context: dict[str, Any] = {
        "domains": await moderation.list_domain_blocks(db, admin),
        "reports": await moderation.list_reports(db, admin),
        "log": await moderation.list_log(db, admin),
        "errors": errors or {},
        "form": form or {},
    }
    return render(request, "admin_moderation.html", context, status=422 if errors else 200)


async def admin_action(request: Request, form: FormData) -> Response:
    """Block or unblock a server, block a remote person, suspend a local account."""
    admin = await require_account(request)
    db = request.app.state.db
    action, reason = request.path_params["action"], field(form, "reason")
    try:
        if action == "block_domain":
            await moderation.block_domain(db, admin, field(form, "domain"), reason)
        elif action == "unblock_domain":
            await moderation.unblock_domain(db, admin, field(form, "domain"))
        elif action == "block_actor":
            await moderation.block_remote_actor(db, admin, field(form, "handle"), reason)
        elif action == "suspend":
            await moderation.suspend_account(db, admin, field(form, "username"), reason)
        else:
            raise NotFound("This page does not exist.")
    except Invalid as exc:
        return await admin_moderation_page(request, exc.fields, form_values(form))
    return redirect(request, "/admin/moderation", flash="moderation_done")


async def reveal_author(request: Request, form: FormData) -> Response:
    """Show a moderator who wrote an anonymous post (a POST: each look is logged)."""
    account = await require_account(request)
    db = request.app.state.db
    post, group = await posts.get_post(db, parse_id(request.path_params["post_id"]), account)
    handle = await anonymous.reveal_author(db, group, account, post.id)
    return render(request, "anonymous_author.html", {"post": post, "handle": handle})


async def set_anonymous_posts(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    await anonymous.set_anonymous_posts(db, group, account, field(form, "anonymous_posts"))
    return redirect(request, f"/groups/{group.slug}/moderation", flash="moderation_done")


async def decide_anonymous(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    approve = field(form, "decision") == "approve"
    await anonymous.decide(
        db, request.app.state.config, group, account,
        parse_id(request.path_params["anonymous_id"]), approve=approve,
    )  # fmt: skip
    return redirect(request, f"/groups/{group.slug}/moderation", flash="moderation_done")
