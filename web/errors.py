"""Domain errors and failures turned into pages, in the reader's language, in one place."""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from server.errors import DomainError
from web.forms import LoginRequired
from web.render import current_account, redirect, render
from web.security import CsrfError

log = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    404: "This page does not exist.",
    405: "This page does not accept this kind of request.",
    413: "What you sent is too large.",
}


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    await current_account(request)
    return render(request, "error.html", {"status": exc.status, "message": exc.message}, exc.status)


async def csrf_error(request: Request, exc: Exception) -> Response:
    # Raised before the handler ran: load the reader for their language and navigation.
    await current_account(request)
    message = "This form has expired. Go back, reload the page and try again."
    return render(request, "error.html", {"status": 403, "message": message}, 403)


async def login_required(request: Request, exc: Exception) -> Response:
    if request.method == "GET":
        return redirect(request, "/login?next=" + quote(request.url.path, safe="/"))
    message = "You need to be signed in to do this."
    return render(request, "error.html", {"status": 403, "message": message}, 403)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    await current_account(request)
    message = _HTTP_MESSAGES.get(exc.status_code, "Something went wrong.")
    return render(
        request, "error.html", {"status": exc.status_code, "message": message}, exc.status_code
    )


async def server_error(request: Request, exc: Exception) -> Response:
    # The detail goes to the log; the reader gets a page that says what happened to them.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    message = "Something went wrong on our side. Nothing you did was lost; try again later."
    return render(request, "error.html", {"status": 500, "message": message}, 500)


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    CsrfError: csrf_error,
    LoginRequired: login_required,
    HTTPException: http_error,
    500: server_error,
}
