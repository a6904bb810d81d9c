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

from api import entities
from server.config import Config
from server.models import BoardItem, Event, Mobilization, Petition, ThingView
from server.services.timelines import Status

CARD_TEXT = 200  # Mastodon cuts card descriptions about there


def _when(value: datetime, zone: str, *, dates_only: bool = False) -> str:
    local = value.astimezone(ZoneInfo(zone))
    day = f"{local:%a} {local.day} {local:%b %Y}"
    return day if dates_only else f"{day}, {local:%H:%M}"


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
    url = _page(config, "events", event.id, event.url or event.uri)
    start = _when(event.starts_at, event.timezone, dates_only=event.all_day)
    end = _when(event.ends_at, event.timezone, dates_only=event.all_day)
    place = ", ".join(
        part
        for part in (event.place_name, event.street_address, event.postal_code, event.locality)
        if part
    )
    where = place or ("Online" if event.online_url else "")
    state = {"cancelled": "CANCELLED", "tentative": "To be confirmed"}.get(event.status, "")
    lines = [
        f"📅 {event.title}" + (f" ({state})" if state else ""),
        f"When: {start} to {end} ({event.timezone})",
        f"Where: {where}" if where else "",
        _short(event.description) if event.description else "",
    ]
    return url, lines, event.title


def petition_text(config: Config, petition: Petition) -> tuple[str, list[str], str]:
    url = _page(config, "petitions", petition.id, petition.url or petition.uri)
    state = petition.status.capitalize()
    if petition.status == "open" and not petition.is_open:
        state = "Closed (deadline passed)"
    lines = [
        f"✍️ Petition: {petition.title}",
        f"To: {petition.addressee}",
        f"Signatures: {petition.signature_count} of {petition.goal}",
        f"Status: {state}" + (f" ({petition.status_note})" if petition.status_note else ""),
        f"Until: {_when(petition.deadline, config.timezone)}" if petition.deadline else "",
    ]
    return url, lines, petition.title


def mobilization_text(config: Config, mob: Mobilization) -> tuple[str, list[str], str]:
    url = _page(config, "mobilizations", mob.id, mob.url or mob.uri)
    lines = [
        f"📣 Mobilization{' (URGENT)' if mob.urgency != 'normal' else ''}: {mob.what}",
        f"Where: {mob.place}",
        f"When: {_when(mob.starts_at, config.timezone)} ({config.timezone})",
        f"Why: {_short(mob.why)}" if mob.why else "",
        f"How to help: {_short(mob.how_to_help)}" if mob.how_to_help else "",
    ]
    return url, lines, mob.what


BOARD_KIND = {"need": "Need", "offer": "Offer"}


def board_item_text(config: Config, item: BoardItem) -> tuple[str, list[str], str]:
    url = _page(config, "board", item.id, item.url or item.uri)
    state = (
        "Open"
        if item.is_open
        else {"fulfilled": "Fulfilled", "withdrawn": "Withdrawn"}.get(item.state, "Expired")
    )
    lines = [
        f"🤝 {BOARD_KIND.get(item.kind, item.kind)} · {item.category.capitalize()}: {item.title}",
        f"Area: {item.area}" if item.area else "",
        f"Valid until: {_when(item.valid_until, config.timezone, dates_only=True)}",
        f"Status: {state}",
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
