"""Pages of petitions: publish one in a group, read it, sign or withdraw, change its status."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Invalid
from server.models import Petition
from server.services import petitions
from web.forms import field, form_values, parse_id, require_account
from web.pages.group_paths import account_and_group, group_form, new_in_group_page
from web.render import current_account, redirect, render


async def new_petition_page(request: Request) -> Response:
    return await new_in_group_page(request, "petition_new.html")


async def create_petition(request: Request, form: FormData) -> Response:
    account, group = await account_and_group(request)
    try:
        petition = await petitions.create_petition(
            request.app.state.db,
            request.app.state.config,
            group,
            account,
            title=field(form, "title"),
            body=field(form, "body"),
            addressee=field(form, "addressee"),
            goal=field(form, "goal"),
            deadline=field(form, "deadline"),
        )
    except Invalid as exc:
        return group_form(request, "petition_new.html", group, form_values(form), exc.fields)
    return redirect(request, f"/petitions/{petition.id}")


async def _petition(request: Request) -> Petition:
    account = await current_account(request)
    petition_id = parse_id(request.path_params["petition_id"])
    return await petitions.get_petition(request.app.state.db, petition_id, account)


async def petition_page(
    request: Request, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    petition = await _petition(request)
    organizer = await petitions.is_organizer(db, petition, account)
    context = {
        "petition": petition,
        "signature": await petitions.get_signature(db, petition, account),
        "signers": await petitions.list_public_signatures(db, petition),
        "history": await petitions.list_status_changes(db, petition),
        "organizer": organizer,
        "form": form or {"status": petition.status},
        "errors": errors or {},
    }
    return render(request, "petition.html", context, status=422 if errors else 200)


async def sign(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    petition = await _petition(request)
    await petitions.sign(
        request.app.state.db,
        request.app.state.config,
        petition,
        account,
        public=field(form, "public") == "yes",
    )
    return redirect(request, f"/petitions/{petition.id}")


async def withdraw(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    petition = await _petition(request)
    await petitions.withdraw(request.app.state.db, petition, account)
    return redirect(request, f"/petitions/{petition.id}")


async def change_status(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    petition = await _petition(request)
    try:
        await petitions.change_status(
            request.app.state.db,
            petition,
            account,
            status=field(form, "status"),
            note=field(form, "note"),
        )
    except Invalid as exc:
        return await petition_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, f"/petitions/{petition.id}")


async def export(request: Request) -> Response:
    account = await require_account(request)
    petition = await _petition(request)
    text = await petitions.export_signatures(
        request.app.state.db, request.app.state.config, petition, account
    )
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="petition-{petition.id}.csv"',
            "cache-control": "private, no-store",
        },
    )
