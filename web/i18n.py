"""French and English: catalogs read from web/locales/*.po, language negotiation, dates."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from server.errors import Phrase

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("en", "fr")


@cache
def _catalog(language: str) -> dict[str, str]:
    path = LOCALES_DIR / f"{language}.po"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        catalog = read_po(f, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class Translator:
    """Translate English message ids into one language; unknown ids stay in English."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = _catalog(language)
        # Parsing the locale is most of format_datetime's cost: do it once per language.
        self._locale = _locale(language)

    def gettext(self, message: str, **params: object) -> str:
        if isinstance(message, Phrase):
            # Numbers in the reader's way: "5,000" in English, "5 000" in French.
            numbers = {k: format_decimal(v, locale=self._locale) for k, v in message.params.items()}
            return self._messages.get(message.template, message.template).format(**numbers)
        text = self._messages.get(message, message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        """Translate a message that depends on a count ({n} is filled in)."""
        # French treats 0 and 1 as singular, English only 1 (CLDR plural rules).
        one = n in (0, 1) if self.language == "fr" else n == 1
        return self.gettext(singular if one else plural, n=n, **params)

    def format_datetime(self, value: datetime, timezone: str) -> str:
        """Return the date and time to the minute (no seconds) in the reader's zone."""
        local = value.astimezone(_zone(timezone))
        date = format_date(local, format="medium", locale=self._locale)
        time = format_time(local, format="short", locale=self._locale)
        pattern = str(get_datetime_format("medium", locale=self._locale))
        return pattern.replace("{1}", date).replace("{0}", time)


def negotiate_language(accept_language: str, default: str) -> str:
    """Pick fr or en from an Accept-Language header by quality, else the default."""
    best, best_q = default, 0.0
    for part in accept_language.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best
