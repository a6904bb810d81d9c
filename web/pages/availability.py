"""Pages of availability: members say when they can listen or meet, and ask each other."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid
from server.services import availability, groups
from web.forms import field, form_values, parse_id, require_account
from web.render import redirect, render


async def availability_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    """Show who is available now and soon, one's own windows, and the requests received."""
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    context = {
        "group": group,
        "membership": await groups.get_membership(db, group, account),
        "available": await availability.list_available(db, group, account),
        "remote_members": await availability.list_remote_members(db, group, account),
        "mine": await availability.list_my_availabilities(db, group, account),
        "requests": await availability.list_conversation_requests(db, group, account),
        "form": form or {"minutes": "60", "weekday": "0", "start": "18:00", "end": "20:00"},
        "errors": errors or {},
    }
    response = render(request, "group_availability.html", context, status=422 if errors else 200)
    response.headers["cache-control"] = "private, no-store"
    return response


def _back(slug: str) -> str:
    return f"/groups/{slug}/availability"


async def set_now(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    try:
        await availability.set_available_now(
            db, group, account, minutes=field(form, "minutes"), note=field(form, "note")
        )
    except Invalid as exc:
        return await availability_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, _back(group.slug))


async def add_weekly(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    try:
        await availability.add_weekly_window(
            db, group, account, weekday=field(form, "weekday"), start=field(form, "start"),
            end=field(form, "end"), note=field(form, "note"),
        )  # fmt: skip
    except Invalid as exc:
        return await availability_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, _back(group.slug))


async def remove(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    availability_id = parse_id(request.path_params["availability_id"])
    await availability.remove_availability(db, group, account, availability_id)
    return redirect(request, _back(group.slug))


async def ask(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    try:
        await availability.ask_for_conversation(
            db, group, account, parse_id(request.path_params["actor_id"]),
            message=field(form, "message"),
        )  # fmt: skip
    except Invalid as exc:
        return await availability_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, _back(group.slug))
