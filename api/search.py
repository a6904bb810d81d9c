"""Search (v2): accounts and groups by name or handle, posts by their words, hashtags."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import entities
from api.http import caller, flag, params, text
from api.pages import read_range
from server.errors import NotFound
from server.models import PostView, Profile
from server.services import search as search_service
from server.services import timelines


async def _resolved(request: Request, words: str) -> tuple[list[Profile], list[PostView]]:
    """Look a handle or URL up on the network, as Mastodon does for `resolve=true`: for a
    signed-in person only (Mastodon refuses it without one; here the local results answer)."""
    viewer = caller(request).account
    if viewer is None:
        return [], []
    db = request.app.state.db
    found = await search_service.resolve(
        request.app.state.resolve_address, words, request.app.state.config.host
    )
    try:
        if found is not None and found.kind == "actor":
            return [await timelines.get_profile(db, found.id)], []
        if found is not None and found.kind == "post":
            return [], [await timelines.get_status(db, viewer, found.id)]
    except NotFound:
        pass
    return [], []


async def search(request: Request) -> Response:
    values = await params(request)
    config = request.app.state.config
    words = text(values, "q")
    kind = text(values, "type")
    limit = read_range(values, default=20, cap=40).limit
    profiles, views = await timelines.search(
        request.app.state.db, config, caller(request).account, words, limit
    )
    if flag(values, "resolve"):
        found_profiles, found_views = await _resolved(request, words)
        if found_profiles or found_views:
            profiles, views = found_profiles, found_views
    tag = words.strip().lstrip("#")
    hashtags = (
        [{"name": tag.lower(), "url": f"{config.base_url}/tags/{tag.lower()}", "history": []}]
        if tag and tag.replace("_", "").isalnum() and len(tag) <= 60
        else []
    )
    return JSONResponse(
        {
            "accounts": [entities.account(config, p) for p in profiles]
            if kind in ("", "accounts")
            else [],
            "statuses": [entities.status(config, v) for v in views]
            if kind in ("", "statuses")
            else [],
            "hashtags": hashtags if kind in ("", "hashtags") else [],
        }
    )
