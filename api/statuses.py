"""Statuses: post (to a group, by @mention or in its thread), read, thread, edit, delete, like."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import entities, things
from api.http import caller, id_list, me, optional_id, params, path_id, text
from server.services import posts, statuses, timelines


async def _render(request: Request, post_id: int) -> Response:
    view = await timelines.get_status(request.app.state.db, caller(request).account, post_id)
    return JSONResponse(entities.status(request.app.state.config, view))


async def create(request: Request) -> Response:
    values = await params(request)
    post = await statuses.publish_status(
        request.app.state.db,
        request.app.state.config,
        me(request),
        content=text(values, "status"),
        spoiler_text=text(values, "spoiler_text"),
        in_reply_to_id=optional_id(values, "in_reply_to_id"),
        visibility=text(values, "visibility"),
        media_ids=id_list(values, "media_ids"),
    )
    return await _render(request, post.id)


async def show(request: Request) -> Response:
    # An event, petition, mobilization or need/offer of a group reads as a status too.
    found = await timelines.get_status_or_thing(
        request.app.state.db, caller(request).account, path_id(request)
    )
    return JSONResponse(things.status(request.app.state.config, found))


async def context(request: Request) -> Response:
    ancestors, descendants = await timelines.status_context(
        request.app.state.db, caller(request).account, path_id(request)
    )
    config = request.app.state.config
    return JSONResponse(
        {
            "ancestors": [entities.status(config, v) for v in ancestors],
            "descendants": [entities.status(config, v) for v in descendants],
        }
    )


async def edit(request: Request) -> Response:
    values = await params(request)
    db = request.app.state.db
    view = await timelines.get_status(db, me(request), path_id(request))
    await posts.edit_post(
        db,
        request.app.state.config,
        view.post,
        me(request),
        content=text(values, "status"),
        content_warning=text(values, "spoiler_text"),
    )
    return await _render(request, view.post.id)


async def delete(request: Request) -> Response:
    db = request.app.state.db
    view = await timelines.get_status(db, me(request), path_id(request))
    await posts.delete_post(db, view.post, me(request))
    # Mastodon answers with the deleted status and its source text, for "delete and redraft".
    entity = entities.status(request.app.state.config, view)
    entity["text"] = view.post.content
    return JSONResponse(entity)


async def _like(request: Request, liked: bool) -> Response:
    db = request.app.state.db
    view = await timelines.get_status(db, me(request), path_id(request))
    await posts.set_like(db, request.app.state.config, view.post, me(request), liked=liked)
    return await _render(request, view.post.id)


async def favourite(request: Request) -> Response:
    return await _like(request, True)


async def unfavourite(request: Request) -> Response:
    return await _like(request, False)
