"""The instance's /about page, its editing by administrators, and the directory of groups."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Forbidden, Invalid
from server.services import about
from web.forms import field, form_values, require_account
from web.render import redirect, render


async def about_page(request: Request) -> Response:
    page = await about.get_about(request.app.state.db)
    return render(request, "about.html", {"about": page})


async def edit_page(request: Request) -> Response:
    admin = await require_account(request)
    if not admin.is_admin:
        raise Forbidden("Only administrators can do this.")
    page = await about.get_about(request.app.state.db)
    form = {"description": page.description, "rules": page.rules, "contact": page.contact}
    return render(request, "about_edit.html", {"form": form, "errors": {}})


async def save(request: Request, form: FormData) -> Response:
    admin = await require_account(request)
    try:
        await about.save_about(
            request.app.state.db,
            admin,
            description=field(form, "description"),
            rules=field(form, "rules"),
            contact=field(form, "contact"),
        )
    except Invalid as exc:
        context = {"form": form_values(form), "errors": exc.fields}
        return render(request, "about_edit.html", context, status=422)
    return redirect(request, "/about", flash="settings_saved")


async def directory_page(request: Request) -> Response:
    query = request.query_params.get("q", "")[:200]
    found = await about.list_directory(request.app.state.db, query)
    return render(request, "directory.html", {"groups": found, "query": query})
