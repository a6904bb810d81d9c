"""The search page: one box for groups, posts, events and people, or an address to follow."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.services import search
from web.render import current_account, render


async def search_page(request: Request) -> Response:
    viewer = await current_account(request)
    query = request.query_params.get("q", "")
    config = request.app.state.config
    results = await search.search(request.app.state.db, viewer, query, config.host)
    return render(request, "search.html", {"results": results})
