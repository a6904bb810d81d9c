"""Notifications, as the app's notification centre holds them (server/services/notifications.py),
in the Mastodon types apps know; dismiss, clear, and the unread count."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import entities
from api.http import me, params
from api.pages import paged, read_range
from server.errors import NotFound
from server.models import Notification
from server.services import notifications, timelines
from server.storage.notifications import StoredNotification

TYPES = ("favourite", "mention", "follow", "follow_request", "admin.sign_up")


async def _render(request: Request, stored: list[StoredNotification]) -> list[dict[str, Any]]:
    db, config, viewer = request.app.state.db, request.app.state.config, me(request)
    rendered = []
    for n in stored:
        if n.actor_id is None or n.kind.api_type is None:
            continue
        item = Notification(str(n.id), n.kind.api_type, n.created_at, n.actor_id, n.post_id)
        try:
            actor = entities.account(config, await timelines.get_profile(db, item.actor_id))
            post = (
                entities.status(config, await timelines.get_status(db, viewer, item.post_id))
                if item.post_id is not None
                else None
            )
        except NotFound:  # an actor or a post gone since: its notification goes with it
            continue
        rendered.append(entities.notification(item, actor, post))
    return rendered


async def index(request: Request) -> Response:
    values = await params(request)
    window = read_range(values, default=15, cap=30)
    types = values.get("types") or None
    exclude = values.get("exclude_types") or []
    if isinstance(types, list) or exclude:
        chosen = [t for t in (types or TYPES) if t in TYPES and t not in exclude]
    else:
        chosen = list(TYPES)
    items = await notifications.list_for_api(
        request.app.state.db,
        me(request),
        max_id=window.max_id,
        min_id=window.min_id or window.since_id,
        types=chosen,
        limit=window.limit,
    )
    return paged(request, await _render(request, items))


async def show(request: Request) -> Response:
    wanted = request.path_params["id"]
    values = {"max_id": str(int(wanted) + 1)} if wanted.isdigit() and len(wanted) < 19 else {}
    if not values:
        return JSONResponse({"error": "Record not found"}, status_code=404)
    window = read_range(values, default=1)
    items = await notifications.list_for_api(
        request.app.state.db, me(request), max_id=window.max_id, min_id=None, types=None, limit=1
    )
    rendered = await _render(request, [i for i in items if str(i.id) == wanted])
    if not rendered:
        return JSONResponse({"error": "Record not found"}, status_code=404)
    return JSONResponse(rendered[0])


async def unread_count(request: Request) -> Response:
    count = await notifications.count_unread(request.app.state.db, me(request))
    return JSONResponse({"count": count})


async def clear(request: Request) -> Response:
    await notifications.clear(request.app.state.db, me(request))
    return JSONResponse({})


async def dismiss(request: Request) -> Response:
    await notifications.dismiss(request.app.state.db, me(request), request.path_params["id"])
    return JSONResponse({})
