"""Page rendering: Jinja2 templates with the reader's language, time zone and CSRF token."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.models import GROUP_LANGUAGES, GROUP_TOPICS, Account
from server.services import notifications, sessions
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
        # The header shows it on every page of a signed-in person.
        request.state.unread_notifications = (
            await notifications.count_unread(request.app.state.db, request.state.account)
            if request.state.account is not None
            else 0
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
    chosen = Translator(language)
    request.state.translator = chosen
    return chosen


FLASH_COOKIE = "entraide_flash"
# What a page says once after a redirect: the cookie names one of these, never free text.
FLASH_MESSAGES = {
    "group_created": "Your group is ready. Invite people, or write its first post.",
    "joined": "Welcome to the group!",
    "join_requested": "Your request to join was sent to the group's moderators.",
    "left": "You left the group.",
    "account_approved": "The account is approved; its owner can log in now.",
    "account_rejected": "The registration was turned down.",
    "post_deleted": "The post was deleted.",
    "member_removed": "The member was removed from the group.",
    "banned": "The person is banned from the group.",
    "anonymous_posted": "Your post is published in the group's name.",
    "anonymous_pending": "Your anonymous post waits for a moderator.",
    "reported": "Thank you: the moderators will look at your report.",
    "moderation_done": "Done. The moderation log keeps a trace of it.",
    "group_deleted": "The group was deleted.",
    "settings_saved": "Saved.",
    "invited": "The invitation was sent.",
    "request_approved": "The request was approved.",
    "welcome": "Welcome! Your account is ready.",
    "password_reset": "Your password is changed: log in with it.",
    "email_changed": "Your e-mail address is changed.",
    "email_confirmed": "Your address is confirmed: log in to your account.",
}


def first_error(errors: dict[str, str]) -> str | None:
    """Name the field whose error is reported first: it gets the focus when the page loads."""
    return next(iter(errors), None)


env.globals["first_error"] = first_error
# What a group may say of itself, for its forms and the directory's filters.
env.globals["group_topics"] = GROUP_TOPICS
env.globals["group_languages"] = GROUP_LANGUAGES


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    *,
    scripts: bool = False,
) -> Response:
    """Render a page for the current reader and attach the cookies the request decided."""
    t = translator(request)
    account: Account | None = getattr(request.state, "account", None)
    timezone = account.timezone if account else request.app.state.config.timezone
    flash = FLASH_MESSAGES.get(request.cookies.get(FLASH_COOKIE, ""))

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
        flash=flash,
        unread_notifications=getattr(request.state, "unread_notifications", 0),
        **(context or {}),
    )
    response = HTMLResponse(html, status_code=status)
    # No script at all, but on the pages that ask for our own static ones (the sign-up reads
    # the browser's time zone); never an inline one.
    script_src = "'self'" if scripts else "'none'"
    response.headers["content-security-policy"] = (
        "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
        f"script-src {script_src}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    )
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["referrer-policy"] = "same-origin"
    set_cookies(request, response)
    if request.cookies.get(FLASH_COOKIE) is not None:
        response.delete_cookie(FLASH_COOKIE, httponly=True, samesite="lax")
    return response


def redirect(request: Request, url: str, flash: str | None = None) -> Response:
    """Redirect after a successful POST (303), keeping the cookies decided.

    `flash` names a message of FLASH_MESSAGES that the next page shows once.
    """
    response = RedirectResponse(url, status_code=303)
    set_cookies(request, response)
    if flash is not None:
        assert flash in FLASH_MESSAGES, flash
        secure = request.app.state.config.secure
        response.set_cookie(
            FLASH_COOKIE, flash, httponly=True, samesite="lax", secure=secure, max_age=120
        )
    return response
