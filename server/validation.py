"""Rules for what people type: names, lengths, choices. Each check returns a field error."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

from server.errors import Phrase

# Mastodon's username rule (app/models/account.rb: /[a-z0-9_]+/i, 30 characters).
NAME_RE = re.compile(r"^[a-z0-9_]{1,30}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']+\.[^@\s<>\"']{2,}$")
REQUIRED = "This field is required."
# Names that would shadow a route or an instance role.
RESERVED_NAMES = frozenset(
    {"admin", "administrator", "root", "entraide", "instance", "actor", "inbox", "outbox",
     "login", "logout", "signup", "settings", "groups", "users", "posts", "static", "media",
     "api", "well_known", "nodeinfo", "moderator", "support", "abuse", "postmaster"}
)  # fmt: skip

MAX_DISPLAY_NAME = 80
MAX_SUMMARY = 2000
MAX_POST = 5000
MAX_CONTENT_WARNING = 200
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_TIMEZONES = frozenset(available_timezones()) | {"UTC"}


def check_name(value: str) -> str | None:
    """Return why a username or group slug is not acceptable, or None."""
    if not value:
        return REQUIRED
    if not NAME_RE.match(value):
        return "1 to 30 characters among lower-case letters, digits and _."
    if value in RESERVED_NAMES:
        return "This name is reserved."
    return None


def check_email(value: str) -> str | None:
    if not value:
        return REQUIRED
    if len(value) > 254 or not EMAIL_RE.match(value):
        return "This is not an e-mail address."
    return None


def check_password(value: str) -> str | None:
    # Messages are fixed sentences so that they translate; the limits are in the forms too.
    if not value:
        return REQUIRED
    if len(value) < MIN_PASSWORD:
        return Phrase("At least {n} characters.", n=MIN_PASSWORD)
    if len(value) > MAX_PASSWORD:
        return Phrase("{n} characters at most.", n=MAX_PASSWORD)
    return None


def check_text(value: str, *, max_length: int, required: bool = False) -> str | None:
    if required and not value.strip():
        return REQUIRED
    if len(value) > max_length:
        return Phrase("{n} characters at most.", n=max_length)
    if "\x00" in value:
        return "This text contains a forbidden character."
    return None


def check_choice(value: str, choices: tuple[str, ...]) -> str | None:
    return None if value in choices else "Choose one of the options."


def check_timezone(value: str) -> str | None:
    return None if value in _TIMEZONES else "Unknown time zone."


def collect(**checks: str | None) -> dict[str, str]:
    """Keep the failed checks, keyed by field name."""
    return {field: error for field, error in checks.items() if error is not None}
