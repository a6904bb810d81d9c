"""The instance's /about page, its editing by administrators, and the directory of groups."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from server.errors import Forbidden, Invalid
from server.services import about, groups
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
    params = request.query_params
    filters = groups.DirectoryFilters.parse(
        params.get("q", "")[:1000],
        params.get("topic", ""),
        params.get("place", "")[:1000],
        params.get("language", ""),
        params.get("page", ""),
    )
    found, more = await groups.list_directory(request.app.state.db, filters)
    # The links to the other pages keep the filters.
    kept = {"q": filters.words, "topic": filters.topic or "", "place": filters.place,
            "language": filters.language or ""}  # fmt: skip
    query = urlencode({k: v for k, v in kept.items() if v})
    context = {
        "groups": found,
        "filters": filters,
        "previous": filters.page - 1 if filters.page > 1 else None,
        "next": filters.page + 1 if more else None,
        "query": query,
    }
    return render(request, "directory.html", context)
