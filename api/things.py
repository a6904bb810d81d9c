"""Entraide's own things as Mastodon statuses: events, petitions, mobilizations, needs and offers.

Apps know only statuses. Each thing reads as a status of its group whose text says what an app
needs to show it well (what, where, when; to whom, how many, how it stands), with a link card
to its page, where the rest is done. One mapping per kind; the texts are plain, escaped here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from api import entities
from server.config import Config
from server.models import BoardItem, Event, Mobilization, Petition, ThingView
from server.services.timelines import Status

CARD_TEXT = 200  # Mastodon cuts card descriptions about there
NBSP = "\u00a0"  # French puts one before a colon

# The texts are in the instance's language: apps show a status as it comes.
LABELS = {
    "en": {
        "when": "When", "where": "Where", "online": "Online", "cancelled": "CANCELLED",
        "tentative": "To be confirmed", "petition": "Petition", "to": "To",
        "signatures": "Signatures", "of": "of", "status": "Status", "until": "Until",
        "open": "Open", "closed": "Closed", "delivered": "Delivered", "won": "Won",
        "lost": "Lost", "deadline_passed": "Closed (deadline passed)",
        "mobilization": "Mobilization", "urgent": "URGENT", "why": "Why",
        "how_to_help": "How to help", "need": "Need", "offer": "Offer", "area": "Area",
        "valid_until": "Valid until", "fulfilled": "Fulfilled", "withdrawn": "Withdrawn",
        "expired": "Expired", "goods": "Goods", "food": "Food", "services": "Services",
        "transport": "Transport", "housing": "Housing", "money": "Money",
        "listening": "Listening", "other": "Other", "item_open": "Open",
    },
    "fr": {
        "when": "Quand", "where": "Où", "online": "En ligne", "cancelled": "ANNULÉ",
        "tentative": "À confirmer", "petition": "Pétition", "to": "À",
        "signatures": "Signatures", "of": "sur", "status": "État", "until": "Jusqu'au",
        "open": "Ouverte", "closed": "Close", "delivered": "Remise", "won": "Gagnée",
        "lost": "Perdue", "deadline_passed": "Close (date limite passée)",
        "mobilization": "Mobilisation", "urgent": "URGENT", "why": "Pourquoi",
        "how_to_help": "Comment aider", "need": "Besoin", "offer": "Offre", "area": "Secteur",
        "valid_until": "Valable jusqu'au", "fulfilled": "Satisfait", "withdrawn": "Retiré",
        "expired": "Expiré", "goods": "Objets", "food": "Alimentation", "services": "Services",
        "transport": "Transport", "housing": "Logement", "money": "Argent",
        "listening": "Écoute", "other": "Autre", "item_open": "Ouvert",
    },
}  # fmt: skip


class _Words:
    """The labels and dates of one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LABELS else "en"
        self.labels = LABELS[self.language]

    def __getitem__(self, key: str) -> str:
        return self.labels.get(key, key)

    def field(self, key: str, value: str) -> str:
        """`When: value` (`Quand : value` in French); a key without a label is the label."""
        colon = f"{NBSP}:" if self.language == "fr" else ":"
        return f"{self[key]}{colon} {value}"

    def when(self, value: datetime, zone: str, *, dates_only: bool = False) -> str:
        local = value.astimezone(ZoneInfo(zone))
        pattern = "EEE d MMM y" if dates_only else "EEE d MMM y, HH:mm"
        return str(format_datetime(local, pattern, locale=self.language))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CARD_TEXT else text[: CARD_TEXT - 1].rstrip() + "…"


def _html(lines: list[str], url: str) -> str:
    """Paragraphs of escaped lines (empty ones dropped), then the link to the page."""
    shown = "<br>".join(escape(line) for line in lines if line)
    link = escape(url, quote=True)
    return f'<p>{shown}</p><p><a href="{link}" rel="nofollow noopener">{escape(url)}</a></p>'


def _card(url: str, title: str, description: str) -> dict[str, Any]:
    return {
        "url": url,
        "title": title,
        "description": _short(description),
        "type": "link",
        "author_name": "",
        "author_url": "",
        "provider_name": "",
        "provider_url": "",
        "html": "",
        "width": 0,
        "height": 0,
        "image": None,
        "embed_url": "",
        "blurhash": None,
        "language": None,
        "published_at": None,
        "authors": [],
    }


def _page(config: Config, section: str, item_id: int, remote: str | None) -> str:
    return remote or f"{config.base_url}/{section}/{item_id}"


def event_text(config: Config, event: Event) -> tuple[str, list[str], str]:
    words = _Words(config.language)
    url = _page(config, "events", event.id, event.url or event.uri)
    start = words.when(event.starts_at, event.timezone, dates_only=event.all_day)
    end = words.when(event.ends_at, event.timezone, dates_only=event.all_day)
    place = ", ".join(
        part
        for part in (event.place_name, event.street_address, event.postal_code, event.locality)
        if part
    )
    where = place or (words["online"] if event.online_url else "")
    state = words[event.status] if event.status in ("cancelled", "tentative") else ""
    lines = [
        f"📅 {event.title}" + (f" ({state})" if state else ""),
        words.field("when", f"{start} → {end} ({event.timezone})"),
        words.field("where", where) if where else "",
        _short(event.description) if event.description else "",
    ]
    return url, lines, event.title


def petition_text(config: Config, petition: Petition) -> tuple[str, list[str], str]:
    words = _Words(config.language)
    url = _page(config, "petitions", petition.id, petition.url or petition.uri)
    state = words[petition.status]
    if petition.status == "open" and not petition.is_open:
        state = words["deadline_passed"]
    note = f" ({petition.status_note})" if petition.status_note else ""
    deadline = petition.deadline
    lines = [
        "✍️ " + words.field("petition", petition.title),
        words.field("to", petition.addressee),
        words.field("signatures", f"{petition.signature_count} {words['of']} {petition.goal}"),
        words.field("status", state + note),
        words.field("until", words.when(deadline, config.timezone)) if deadline else "",
    ]
    return url, lines, petition.title


def mobilization_text(config: Config, mob: Mobilization) -> tuple[str, list[str], str]:
    words = _Words(config.language)
    url = _page(config, "mobilizations", mob.id, mob.url or mob.uri)
    urgent = f" ({words['urgent']})" if mob.urgency != "normal" else ""
    lines = [
        "📣 " + words.field(words["mobilization"] + urgent, mob.what),
        words.field("where", mob.place),
        words.field("when", f"{words.when(mob.starts_at, config.timezone)} ({config.timezone})"),
        words.field("why", _short(mob.why)) if mob.why else "",
        words.field("how_to_help", _short(mob.how_to_help)) if mob.how_to_help else "",
    ]
    return url, lines, mob.what


def board_item_text(config: Config, item: BoardItem) -> tuple[str, list[str], str]:
    words = _Words(config.language)
    url = _page(config, "board", item.id, item.url or item.uri)
    state = "item_open" if item.is_open else item.state if item.state != "open" else "expired"
    valid = words.when(item.valid_until, config.timezone, dates_only=True)
    lines = [
        "🤝 " + words.field(f"{words[item.kind]} · {words[item.category]}", item.title),
        words.field("area", item.area) if item.area else "",
        words.field("valid_until", valid),
        words.field("status", words[state]),
        _short(item.details) if item.details else "",
    ]
    return url, lines, item.title


MAPPINGS: dict[type, Callable[[Config, Any], tuple[str, list[str], str]]] = {
    Event: event_text,
    Petition: petition_text,
    Mobilization: mobilization_text,
    BoardItem: board_item_text,
}


def thing_status(config: Config, view: ThingView) -> dict[str, Any]:
    """Return a thing as a status of its group, with a card linking to its page."""
    item = view.item
    url, lines, title = MAPPINGS[type(item)](config, item)
    description = " · ".join(line for line in lines[1:] if line)
    return {
        "id": str(view.status_id),
        "uri": item.uri or url,
        "url": url,
        "created_at": entities.iso(item.created_at),
        "edited_at": None,
        "account": entities.account(config, view.group),
        "content": _html(lines, url),
        "visibility": "private" if view.members_only else "public",
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": [],
        "application": None,
        "mentions": [],
        "tags": [],
        "emojis": [],
        "reblogs_count": 0,
        "favourites_count": 0,
        "replies_count": 0,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": None,
        "poll": None,
        "card": _card(url, title, description),
        "language": None,
        "text": None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "filtered": [],
    }


def status(config: Config, item: Status) -> dict[str, Any]:
    """Return a post or a thing as a status."""
    if isinstance(item, ThingView):
        return thing_status(config, item)
    return entities.status(config, item)
