"""Mastodon's pagination: `max_id`, `since_id`, `min_id` and `limit` in, a `Link` header out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse

from api.http import optional_id, text
from server.models import TimelineRange

PAGE_PARAMS = ("max_id", "since_id", "min_id")


def read_range(values: dict[str, Any], *, default: int = 20, cap: int = 40) -> TimelineRange:
    raw = text(values, "limit", str(default))
    limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else default
    return TimelineRange(
        max_id=optional_id(values, "max_id"),
        since_id=optional_id(values, "since_id"),
        min_id=optional_id(values, "min_id"),
        limit=min(max(limit, 1), cap),
    )


def paged(request: Request, items: list[dict[str, Any]]) -> JSONResponse:
    """Answer a page, with links to the older (next) and newer (prev) pages, as Mastodon does."""
    response = JSONResponse(items)
    if items:
        base = request.app.state.config.base_url + request.url.path
        kept = [(k, v) for k, v in request.query_params.multi_items() if k not in PAGE_PARAMS]

        def link(key: str, value: str, rel: str) -> str:
            return f'<{base}?{urlencode([*kept, (key, value)])}>; rel="{rel}"'

        response.headers["link"] = ", ".join(
            [link("max_id", items[-1]["id"], "next"), link("min_id", items[0]["id"], "prev")]
        )
    return response
