"""Pages of the board of needs and offers: the group's board, an item, answering, closing."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid
from server.models import BoardItem, Group
from server.services import board, groups
from server.services.board import BoardFilters
from web.forms import field, form_values, parse_id, require_account
from web.render import current_account, redirect, render


async def board_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    """Show a group's board with its filters, the viewer's matches and the posting form."""
    account = await current_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    q = request.query_params
    filters = BoardFilters.parse(q.get("kind", ""), q.get("category", ""), q.get("area", ""))
    before = q.get("before", "")
    before_id = parse_id(before) if before else None
    items = await board.list_board(db, group, account, filters, before_id=before_id)
    context: dict[str, Any] = {
        "group": group,
        "membership": await groups.get_membership(db, group, account),
        "items": items,
        "filters": filters,
        "next_before": items[-1].id if len(items) == board.PAGE_SIZE else None,
        "needs_met": await board.count_needs_met_this_month(db, request.app.state.config, group),
        "matches": await board.list_my_matches(db, group, account),
        "mine": await board.list_my_items(db, group, account),
        "form": form or {"kind": "need", "category": "goods", "answers": "private"},
        "errors": errors or {},
    }
    return render(request, "group_board.html", context, status=422 if errors else 200)


async def followed_page(request: Request) -> Response:
    """Show the needs and offers of the remote groups one follows."""
    account = await require_account(request)
    items = await board.list_followed_items(request.app.state.db, account)
    return render(request, "followed_board.html", {"items": items})


async def create_item(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group: Group = await groups.get_group_by_slug(db, request.path_params["slug"])
    try:
        item = await board.create_item(
            db,
            request.app.state.config,
            group,
            account,
            kind=field(form, "kind"),
            category=field(form, "category"),
            title=field(form, "title"),
            details=field(form, "details"),
            area=field(form, "area"),
            latitude=field(form, "latitude"),
            longitude=field(form, "longitude"),
            valid_until=field(form, "valid_until"),
            answers=field(form, "answers"),
        )
    except Invalid as exc:
        return await board_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, f"/board/{item.id}")


async def _item(request: Request) -> BoardItem:
    account = await current_account(request)
    item_id = parse_id(request.path_params["item_id"])
    return await board.get_item(request.app.state.db, item_id, account)


async def item_page(
    request: Request, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    item = await _item(request)
    context = {
        "item": item,
        "answers": await board.list_answers(db, item, account),
        "matches": await board.find_matches(db, item)
        if account is not None and account.id == item.author_id
        else [],
        "form": form or {},
        "errors": errors or {},
    }
    return render(request, "board_item.html", context, status=422 if errors else 200)


async def answer(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    item = await _item(request)
    try:
        await board.answer_item(
            request.app.state.db,
            item,
            account,
            content=field(form, "content"),
            public=field(form, "public") == "yes",
            may_name=field(form, "may_name") == "yes",
        )
    except Invalid as exc:
        return await item_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, f"/board/{item.id}")


async def close(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    item = await _item(request)
    helper = field(form, "helper")
    try:
        await board.close_item(
            request.app.state.db,
            item,
            account,
            state=field(form, "state"),
            helper_id=parse_id(helper) if helper else None,
        )
    except Invalid as exc:
        return await item_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, f"/board/{item.id}")


async def reply(request: Request, form: FormData) -> Response:
    """The poster replies to one answer (sent back to its author's server when remote)."""
    account = await require_account(request)
    item = await _item(request)
    try:
        await board.reply_to_answer(
            request.app.state.db,
            item,
            account,
            parse_id(request.path_params["answer_id"]),
            content=field(form, "content"),
        )
    except Invalid as exc:
        return await item_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, f"/board/{item.id}")
