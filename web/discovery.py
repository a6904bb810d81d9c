"""What other servers, robots and browsers ask of any site: the interaction URL WebFinger
advertises, robots.txt and the favicon."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

FAVICON = Path(__file__).parent / "static" / "favicon.svg"
# Pages of a person (their settings, notifications, searches) are nobody's index.
ROBOTS = """User-agent: *
Disallow: /admin
Disallow: /settings
Disallow: /notifications
Disallow: /search
Disallow: /password
Disallow: /unsubscribe
Disallow: /oauth
"""


async def authorize_interaction(request: Request) -> Response:
    """Land a person who clicked "follow" or "reply" elsewhere on the thing, from here.

    Mastodon's remote-interaction template (advertised by our WebFinger): `uri` is an actor or
    an object, as a URL or an acct: handle. One of ours opens its page; another server's is
    looked up from the search page, which offers to follow it.
    """
    uri = request.query_params.get("uri", "").strip()[:500]
    base = request.app.state.config.base_url
    if uri.startswith(base + "/"):
        path = urlsplit(uri).path
        if path.startswith("/") and not path.startswith("//"):
            return RedirectResponse(path, status_code=302)
    uri = uri.removeprefix("acct:")
    return RedirectResponse(f"/search?q={quote(uri, safe='')}", status_code=302)


async def robots(request: Request) -> Response:
    return PlainTextResponse(ROBOTS)


async def favicon(request: Request) -> Response:
    return FileResponse(
        FAVICON, media_type="image/svg+xml", headers={"cache-control": "public, max-age=86400"}
    )
