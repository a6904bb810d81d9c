"""Pages of a group's library: links and documents, tags, pins, downloads."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from server.errors import Invalid, NotFound
from server.services import groups, resources
from web.forms import field, form_values, parse_id, require_account
from web.render import current_account, redirect, render


async def library_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    account = await current_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    membership = await groups.get_membership(db, group, account)
    tag = request.query_params.get("tag", "")[:40]
    context = {
        "group": group,
        "membership": membership,
        "items": await resources.list_library(db, group, account, tag=tag),
        "tag": tag,
        "form": form or {},
        "errors": errors or {},
    }
    return render(request, "group_library.html", context, status=422 if errors else 200)


async def add(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    group = await groups.get_group_by_slug(db, request.path_params["slug"])
    upload = form.get("document")
    document = None
    if isinstance(upload, UploadFile) and upload.filename:
        # One byte past the limit is enough to refuse it.
        document = (await upload.read(resources.MAX_BYTES + 1), upload.filename)
    try:
        await resources.add_resource(
            db, request.app.state.config, group, account, title=field(form, "title"),
            description=field(form, "description"), tags=field(form, "tags"),
            link=field(form, "link"), document=document,
        )  # fmt: skip
    except Invalid as exc:
        return await library_page(request, form=form_values(form), errors=exc.fields)
    return redirect(request, f"/groups/{group.slug}/library")


async def pin(request: Request, form: FormData) -> Response:
    account = await require_account(request)
    db = request.app.state.db
    resource = await resources.get_resource(
        db, parse_id(request.path_params["resource_id"]), account
    )
    await resources.set_pinned(db, resource, account, pinned=field(form, "pinned") == "yes")
    return redirect(request, f"/groups/{resource.group_name}/library")


async def resource_page(request: Request) -> Response:
    """Send a library item's address to its place in the library (peers get its Note)."""
    account = await current_account(request)
    db = request.app.state.db
    resource = await resources.get_resource(
        db, parse_id(request.path_params["resource_id"]), account
    )
    if not resource.is_local:
        raise NotFound("This page does not exist.")
    return redirect(request, f"/groups/{resource.group_name}/library#r{resource.id}")


async def remove(request: Request, form: FormData) -> Response:
    """Remove an item (its author or an organizer); a public group's followers are told."""
    account = await require_account(request)
    db = request.app.state.db
    resource = await resources.get_resource(
        db, parse_id(request.path_params["resource_id"]), account
    )
    if not resource.is_local:
        raise NotFound("This page does not exist.")
    await resources.remove_resource(db, request.app.state.config, resource, account)
    return redirect(request, f"/groups/{resource.group_name}/library")


async def document_file(request: Request) -> Response:
    account = await current_account(request)
    resource = await resources.get_resource(
        request.app.state.db, parse_id(request.path_params["resource_id"]), account
    )
    path = resources.document_path(request.app.state.config, resource)
    name = "".join(c for c in (resource.original_name or "") if c.isalnum() or c in "._-")
    return FileResponse(
        path,
        media_type=resource.media_type,
        headers={
            # Never shown in the page's origin: downloaded, and never sniffed as something else.
            "content-disposition": f'attachment; filename="{name or path.name}"',
            "x-content-type-options": "nosniff",
            "cache-control": "private, max-age=3600",
        },
    )
