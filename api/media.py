"""Media: pictures an app uploads before the status that carries them (`media_ids`)."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import entities
from api.http import ApiError, me, params, path_id, text
from server.services import media


async def upload(request: Request) -> Response:
    """POST /api/v2/media (and the older /api/v1/media): one picture, its description, its focus."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(422, "Validation failed: File content type is invalid")
    async with request.form(max_fields=20, max_files=1) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise ApiError(422, "Validation failed: File can't be blank")
        # One byte past the limit is enough to refuse it; the rest is never read into memory.
        data = await file.read(media.MAX_BYTES + 1)
        description = form.get("description")
        focus = form.get("focus")
    created = await media.upload_media(
        request.app.state.db,
        request.app.state.config,
        me(request),
        data,
        description=description if isinstance(description, str) else "",
        focus=focus if isinstance(focus, str) else "",
    )
    return JSONResponse(entities.media_attachment(request.app.state.config, created))


async def show(request: Request) -> Response:
    found = await media.get_own_upload(request.app.state.db, me(request), path_id(request))
    return JSONResponse(entities.media_attachment(request.app.state.config, found))


async def update(request: Request) -> Response:
    values = await params(request)
    updated = await media.update_media(
        request.app.state.db,
        me(request),
        path_id(request),
        description=text(values, "description") if "description" in values else None,
        focus=text(values, "focus") if "focus" in values else None,
    )
    return JSONResponse(entities.media_attachment(request.app.state.config, updated))
