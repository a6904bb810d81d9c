"""Reading form fields and requiring a signed-in person."""

from __future__ import annotations

from zoneinfo import available_timezones

from starlette.datastructures import FormData
from starlette.requests import Request

from server.errors import NotFound
from server.models import Account
from web.render import current_account

TIMEZONES = sorted(available_timezones() | {"UTC"})


class LoginRequired(Exception):
    """The page needs a signed-in person: the error handler sends them to the login page."""


def field(form: FormData, name: str) -> str:
    """Return a text field, '' when missing or not text (a file where text was expected)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_values(form: FormData, *secret: str) -> dict[str, str]:
    """Return the text fields to show the form again, without passwords and the token."""
    return {
        k: v
        for k, v in form.items()
        if isinstance(v, str) and k not in secret and k != "csrf_token"
    }


async def require_account(request: Request) -> Account:
    account = await current_account(request)
    if account is None:
        raise LoginRequired
    return account


def parse_id(value: str) -> int:
    """Parse a numeric id from a URL or form; anything else is not found."""
    # isascii: str.isdigit() also says yes to "²", which int() refuses.
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise NotFound("This page does not exist.")
    return int(value)


def confirmed(form: FormData) -> bool:
    """Tell whether the person confirmed a step that cannot be undone (the confirmation page)."""
    return field(form, "confirm") == "yes"
