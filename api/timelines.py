"""Timelines: home (the person's groups and follows), public and local, a hashtag's."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from api import things
from api.http import caller, flag, me, params
from api.pages import paged, read_range
from server.services import timelines


async def home(request: Request) -> Response:
    values = await params(request)
    views = await timelines.home_timeline(request.app.state.db, me(request), read_range(values))
    config = request.app.state.config
    return paged(request, [things.status(config, v) for v in views])


async def public(request: Request) -> Response:
    values = await params(request)
    # Entraide's public timeline is its own groups': `remote=true` asks for nothing more.
    views = await timelines.public_timeline(
        request.app.state.db,
        caller(request).account,
        read_range(values),
        local_only=flag(values, "local"),
    )
    config = request.app.state.config
    return paged(request, [things.status(config, v) for v in views])


async def tag(request: Request) -> Response:
    values = await params(request)
    config = request.app.state.config
    views = await timelines.tag_timeline(
        request.app.state.db,
        config,
        caller(request).account,
        request.path_params["hashtag"],
        read_range(values),
    )
    return paged(request, [things.status(config, v) for v in views])
