"""Pages of groups: the directory, creation, the group page with its posts, members, settings."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Forbidden, Invalid
from server.models import Account, Group
from server.services import avatars, follows, groups, mobilizations, petitions, pictures, posts
from web.forms import confirmed, field, form_values, parse_id, require_account
from web.render import current_account, redirect, render, translator


async def home(request: Request) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    mine = await groups.list_account_groups(db, account) if account else []
    return render(request, "home.html", {"groups": await groups.list_groups(db), "mine": mine})


async def new_group_page(request: Request) -> Response:
    await require_account(request)
    # The language the page speaks: the account's, else the browser's, else the instance's.
    language = translator(request).language
    form = {"visibility": "public", "join_policy": "open", "language": language}
    return render(request, "group_new.html", {"form": form, "errors": {}})


def _shown(form: FormData) -> dict[str, object]:
    """Return a group form's fields to show again, its topics as the list they are."""
    return {**form_values(form), "topics": _topics(form)}


def _topics(form: FormData) -> list[str]:
    return [t for t in form.getlist("topics") if isinstance(t, str)]


async def create_group(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    try:
        group = await groups.create_group(
            request.app.state.db,
            request.app.state.config,
            account,
            slug=field(form, "slug"),
            name=field(form, "name"),
            description=field(form, "description"),
            visibility=field(form, "visibility"),
            join_policy=field(form, "join_policy"),
            topics=_topics(form),
            place=field(form, "place"),
            language=field(form, "language"),
        )
    except Invalid as exc:
        context = {"form": _shown(form), "errors": exc.fields}
        return render(request, "group_new.html", context, status=422)
    return redirect(request, f"/groups/{group.slug}", flash="group_created")


async def _group_context(
    request: Request, group: Group, account: Account | None
) -> dict[str, object]:
    db = request.app.state.db
    membership = await groups.get_membership(db, group, account)
    return {
        "group": group,
        "membership": membership,
        "can_read": groups.can_read(group, membership),
        "followers_count": await follows.count_followers(db, group.id),
    }


async def group_page(
    request: Request, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    context = await _group_context(request, group, account)
    page = None
    if context["can_read"]:
        before_raw = request.query_params.get("before", "")
        before = parse_id(before_raw) if before_raw else None
        page = await posts.list_group_posts(db, group, account, before=before)
    liked = await posts.list_liked(db, account, page.posts) if page else set()
    context.update({"page": page, "liked": liked, "form": form or {}, "errors": errors or {}})
    # Calls to action come first on the page (web/templates/_calls.html).
    readable = bool(context["can_read"])
    context["petitions"] = await petitions.list_group_petitions(db, group) if readable else []
    context["mobilizations"] = (
        await mobilizations.list_group_mobilizations(db, group) if readable else []
    )
    return render(request, "group.html", context, status=422 if errors else 200)


async def join(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    accepted = field(form, "accept_rules") == "on"
    member = await groups.join_group(db, group, account, accepted_rules=accepted)
    flash = "joined" if member.state == "active" else "join_requested"
    return redirect(request, f"/groups/{group.slug}", flash=flash)


def _confirm(request: Request, kind: str, name: str, action: str, cancel: str) -> Response:
    context = {"kind": kind, "name": name, "action": action, "cancel": cancel}
    return render(request, "confirm.html", context)


async def leave_page(request: Request) -> Response:
    """Ask before leaving a group."""
    await require_account(request)
    group = await groups.get_group_by_slug(request.app.state.db, request.path_params["slug"])
    slug = group.slug
    return _confirm(request, "leave", group.name, f"/groups/{slug}/leave", f"/groups/{slug}")


async def leave(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    membership = await groups.get_membership(db, group, account)
    # Declining an invitation or withdrawing a request loses nothing: no question then.
    if membership is not None and membership.state == "active" and not confirmed(form):
        return await leave_page(request)
    await groups.leave_group(db, group, account)
    return redirect(request, f"/groups/{group.slug}", flash="left")


async def delete_page(request: Request) -> Response:
    """Ask before deleting a group (its owners)."""
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    membership = await groups.get_membership(db, group, account)
    if membership is None or membership.role != "owner" or membership.state != "active":
        raise Forbidden("Only the group's owners can delete it.")
    slug = group.slug
    return _confirm(
        request, "delete_group", group.name, f"/groups/{slug}/delete", f"/groups/{slug}/settings"
    )


async def delete_group(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    if not confirmed(form):
        return await delete_page(request)
    await groups.delete_group(db, group, account)
    return redirect(request, "/", flash="group_deleted")


async def members_page(
    request: Request, *, errors: dict[str, str] | None = None, form: dict[str, str] | None = None
) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    context = await _group_context(request, group, account)
    members = await groups.list_members(db, group, account)
    membership = context["membership"]
    is_moderator = membership is not None and membership.is_moderator  # type: ignore[attr-defined]
    pending = await groups.list_members(db, group, account, state="pending") if is_moderator else []
    invited = await groups.list_members(db, group, account, state="invited") if is_moderator else []
    assert account is not None or not is_moderator
    follow_requests = (
        await follows.list_follow_requests(db, group, account) if account and is_moderator else []
    )
    context.update(
        {
            "members": members,
            "pending": pending,
            "invited": invited,
            "follow_requests": follow_requests,
            "is_moderator": is_moderator,
            "errors": errors or {},
            "form": form or {},
        }
    )
    return render(request, "members.html", context, status=422 if errors else 200)


async def decide_request(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    actor_id = parse_id(request.path_params["actor_id"])
    approve = field(form, "decision") == "approve"
    await groups.decide_request(db, group, account, actor_id, approve=approve)
    flash = "request_approved" if approve else None
    return redirect(request, f"/groups/{group.slug}/members", flash=flash)


async def invite(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    try:
        await groups.invite_member(db, group, account, field(form, "username"))
    except Invalid as exc:
        return await members_page(request, errors=exc.fields, form=form_values(form))
    return redirect(request, f"/groups/{group.slug}/members", flash="invited")


async def set_role(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    actor_id = parse_id(request.path_params["actor_id"])
    await groups.set_member_role(db, group, account, actor_id, field(form, "role"))
    return redirect(request, f"/groups/{group.slug}/members")


async def remove_member(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    actor_id = parse_id(request.path_params["actor_id"])
    if not confirmed(form):
        return await remove_member_page(request)
    await groups.remove_member(db, group, account, actor_id)
    return redirect(request, f"/groups/{group.slug}/members", flash="member_removed")


async def remove_member_page(request: Request) -> Response:
    """Ask before removing someone from a group, naming them."""
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    actor_id = parse_id(request.path_params["actor_id"])
    member = await groups.get_member_to_remove(db, group, account, actor_id)
    slug = group.slug
    return _confirm(
        request,
        "remove_member",
        member.display_name or member.name,
        f"/groups/{slug}/members/{actor_id}/remove",
        f"/groups/{slug}/members",
    )


def _settings_form(group: Group) -> dict[str, object]:
    """Return the settings form filled with what the group has now."""
    return {
        "name": group.name,
        "description": group.description,
        "rules": group.rules,
        "visibility": group.visibility,
        "join_policy": group.join_policy,
        "followers_can_post": "on" if group.followers_can_post else "",
        "topics": list(group.topics),
        "place": group.place,
        "language": group.language or "",
    }


async def settings_page(request: Request) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    context = await _group_context(request, group, account)
    membership = context["membership"]
    if membership is None or not membership.is_moderator:  # type: ignore[attr-defined]
        raise Forbidden("Only the group's moderators can do this.")
    context.update({"form": _settings_form(group), "errors": {}})
    return render(request, "group_settings.html", context)


async def update_settings(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    try:
        await groups.update_group(
            db,
            account,
            group,
            name=field(form, "name"),
            description=field(form, "description"),
            visibility=field(form, "visibility"),
            join_policy=field(form, "join_policy"),
            followers_can_post=field(form, "followers_can_post") == "on",
            rules=field(form, "rules"),
            topics=_topics(form),
            place=field(form, "place"),
            language=field(form, "language"),
        )
    except Invalid as exc:
        context = await _group_context(request, group, account)
        context.update({"form": _shown(form), "errors": exc.fields})
        return render(request, "group_settings.html", context, status=422)
    return redirect(request, f"/groups/{group.slug}", flash="settings_saved")


async def update_avatar(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    config = request.app.state.config
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    upload = form.get("avatar")
    try:
        if not isinstance(upload, UploadFile):
            raise Invalid({"avatar": "Send a PNG, JPEG, GIF or WebP image."})
        data = await upload.read(avatars.MAX_BYTES + 1)
        await avatars.set_group_avatar(db, config, group, account, data)
    except Invalid as exc:
        context = await _group_context(request, group, account)
        context.update({"form": _settings_form(group), "errors": exc.fields})
        return render(request, "group_settings.html", context, status=422)
    return redirect(request, f"/groups/{group.slug}/settings")


async def update_header(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    config = request.app.state.config
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    upload = form.get("header")
    try:
        if not isinstance(upload, UploadFile):
            raise Invalid({"header": "Send a PNG, JPEG, GIF or WebP image."})
        data = await upload.read(pictures.MAX_BYTES + 1)
        await pictures.set_group_header(db, config, group, account, data)
    except Invalid as exc:
        context = await _group_context(request, group, account)
        context.update({"form": _settings_form(group), "errors": exc.fields})
        return render(request, "group_settings.html", context, status=422)
    return redirect(request, f"/groups/{group.slug}/settings", flash="settings_saved")
