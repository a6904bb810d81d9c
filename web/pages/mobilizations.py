"""Pages of mobilizations and alliances: publish an urgent call, see its reach, manage allies."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid
from server.models import Account, Group
from server.services import mobilizations
from web.forms import field, form_values, parse_id
from web.pages.group_paths import account_and_group, group_form, new_in_group_page
from web.render import current_account, redirect, render


async def new_mobilization_page(request: Request) -> Response:
    return await new_in_group_page(request, "mobilization_new.html", {"urgency": "high"})


async def publish(request: Request, form: FormData) -> Response:
    account, group = await account_and_group(request)
    try:
        mobilization = await mobilizations.publish_mobilization(
            request.app.state.db,
            request.app.state.config,
            group,
            account,
            what=field(form, "what"),
            place=field(form, "place"),
            starts_at=field(form, "starts_at"),
            why=field(form, "why"),
            how_to_help=field(form, "how_to_help"),
            urgency=field(form, "urgency"),
        )
    except Invalid as exc:
        return group_form(request, "mobilization_new.html", group, form_values(form), exc.fields)
    return redirect(request, f"/mobilizations/{mobilization.id}")


async def mobilization_page(request: Request) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    mobilization = await mobilizations.get_mobilization(
        db, parse_id(request.path_params["mobilization_id"]), account
    )
    reach = None
    if mobilization.is_local and await mobilizations.is_organizer(
        db, mobilization.group_id, account
    ):
        assert account is not None
        reach = await mobilizations.get_reach(db, mobilization, account)
    return render(request, "mobilization.html", {"mobilization": mobilization, "reach": reach})


async def _alliances_page(
    request: Request,
    group: Group,
    account: Account,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    db = request.app.state.db
    context = {
        "group": group,
        "alliances": await mobilizations.list_alliances(db, group, account),
        "pending": await mobilizations.list_pending_relays(db, group),
        "form": form or {},
        "errors": errors or {},
        "queued": request.query_params.get("queued") == "1",
    }
    return render(request, "alliances.html", context, status=422 if errors else 200)


async def alliances_page(request: Request) -> Response:
    account, group = await account_and_group(request)
    return await _alliances_page(request, group, account)


async def propose(request: Request, form: FormData) -> Response:
    account, group = await account_and_group(request)
    db = request.app.state.db
    handle = field(form, "handle")
    try:
        await mobilizations.propose_alliance(db, request.app.state.config, group, account, handle)
    except Invalid as exc:
        return await _alliances_page(
            request, group, account, form=form_values(form), errors=exc.fields
        )
    queued = "?queued=1" if "@" in handle.strip().lstrip("@") else ""
    return redirect(request, f"/groups/{group.slug}/alliances{queued}")


async def accept(request: Request, form: FormData) -> Response:
    account, group = await account_and_group(request)
    db = request.app.state.db
    ally_id = parse_id(request.path_params["actor_id"])
    await mobilizations.accept_alliance(db, group, account, ally_id)
    return redirect(request, f"/groups/{group.slug}/alliances")


async def set_relay(request: Request, form: FormData) -> Response:
    account, group = await account_and_group(request)
    db = request.app.state.db
    ally_id = parse_id(request.path_params["actor_id"])
    await mobilizations.set_relay_policy(db, group, account, ally_id, field(form, "relay"))
    return redirect(request, f"/groups/{group.slug}/alliances")


async def approve_relay(request: Request, form: FormData) -> Response:
    account, group = await account_and_group(request)
    db = request.app.state.db
    mobilization_id = parse_id(request.path_params["mobilization_id"])
    await mobilizations.approve_relay(db, group, account, mobilization_id)
    return redirect(request, f"/groups/{group.slug}/alliances")
