"""Pages of goals: the group's goals, one goal's timeline, follow-ups and encouragement."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid
from server.models import Goal
from server.services import goals, groups
from web.forms import field, form_values, parse_id, require_account
from web.render import current_account, redirect, render


async def goals_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    context = {
        "group": group,
        "membership": await groups.get_membership(db, group, account),
        "goals": await goals.list_goals(db, group, account),
        "form": form or {"visibility": "members"},
        "errors": errors or {},
    }
    response = render(request, "group_goals.html", context, status=422 if errors else 200)
    response.headers["cache-control"] = "private, no-store"
    return response


async def share(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    try:
        goal = await goals.share_goal(
            db, group, account, title=field(form, "title"), body=field(form, "body"),
            visibility=field(form, "visibility") or "members",
        )  # fmt: skip
    except Invalid as exc:
        return await goals_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, f"/goals/{goal.id}")


async def _goal(request: Request) -> Goal:
    account = await current_account(request)
    return await goals.get_goal(
        request.app.state.db, parse_id(request.path_params["goal_id"]), account
    )


async def goal_page(
    request: Request, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    goal = await _goal(request)
    context = {
        "goal": goal,
        "timeline": await goals.list_timeline(db, goal),
        "liked": await goals.has_liked(db, goal, account),
        "form": form or {},
        "errors": errors or {},
    }
    response = render(request, "goal.html", context, status=422 if errors else 200)
    response.headers["cache-control"] = "private, no-store"
    return response


async def add_update(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    goal = await _goal(request)
    try:
        await goals.add_update(request.app.state.db, goal, account, content=field(form, "content"))
    except Invalid as exc:
        return await goal_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, f"/goals/{goal.id}")


async def like(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    goal = await _goal(request)
    await goals.like(request.app.state.db, goal, account, liked=field(form, "liked") == "yes")
    return redirect(request, f"/goals/{goal.id}")
