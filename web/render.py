"""Page rendering: Jinja2 templates with the reader's language, time zone and CSRF token."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.models import Account
from server.services import sessions
from web.i18n import Translator, negotiate_language
from web.security import SESSION_COOKIE, csrf_token, set_cookies

TEMPLATES = Path(__file__).parent / "templates"
env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    enable_async=False,
    # Templates change only with a deploy: no file check on every render.
    auto_reload=False,
)


async def current_account(request: Request) -> Account | None:
    """Return the signed-in account, looked up once per request."""
    if not hasattr(request.state, "account"):
        token = request.cookies.get(SESSION_COOKIE, "")
        request.state.account = (
            await sessions.find_session_account(request.app.state.db, token) if token else None
        )
    account: Account | None = request.state.account
    return account


def translator(request: Request) -> Translator:
    """Choose the language: the account's setting, then Accept-Language, then the instance's."""
    existing: Translator | None = getattr(request.state, "translator", None)
    if existing is not None:
        return existing
    account: Account | None = getattr(request.state, "account", None)
    language = account.language if account and account.language else None
    if language is None:
        language = negotiate_language(
            request.headers.get("accept-language", ""), request.app.state.config.language
        )
    request.state.translator = Translator(language)
    return request.state.translator


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """Render a page for the current reader and attach the cookies the request decided."""
    t = translator(request)
    account: Account | None = getattr(request.state, "account", None)
    timezone = account.timezone if account else "UTC"

    def when(value: datetime) -> str:
        return t.format_datetime(value, timezone)

    html = env.get_template(template).render(
        request=request,
        account=account,
        _=t.gettext,
        ngettext=t.ngettext,
        lang=t.language,
        when=when,
        csrf_token=csrf_token(request),
        config=request.app.state.config,
        **(context or {}),
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["content-security-policy"] = (
        "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
        "script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    )
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["referrer-policy"] = "same-origin"
    set_cookies(request, response)
    return response


def redirect(request: Request, url: str) -> Response:
    """Redirect after a successful POST (303), keeping the cookies decided."""
    response = RedirectResponse(url, status_code=303)
    set_cookies(request, response)
    return response
