"""Search (v2): accounts and groups by name or handle, posts by their words, hashtags."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import entities
from api.http import caller, params, text
from api.pages import read_range
from server.services import timelines


async def search(request: Request) -> Response:
    values = await params(request)
    config = request.app.state.config
    words = text(values, "q")
    kind = text(values, "type")
    limit = read_range(values, default=20, cap=40).limit
    profiles, views = await timelines.search(
        request.app.state.db, config, caller(request).account, words, limit
    )
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
