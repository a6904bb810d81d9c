"""Events as iCalendar (RFC 5545): one event, a group's feed, the instance's public agenda.

Built with the `icalendar` package: its VTIMEZONEs come from the same zoneinfo database the
events are typed in, so a calendar shows 19:00 in Paris on both sides of a daylight-saving
change. A UID never changes; SEQUENCE counts the changes (RFC 5545 §3.8.7.4).
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, vGeo
from icalendar import Event as CalendarEvent

from server.config import Config
from server.models import Event

MEDIA_TYPE = "text/calendar; charset=utf-8"
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"</p>|<br\s*/?>", re.IGNORECASE)


def plain_text(fragment: str) -> str:
    """Return the text of sanitized HTML, paragraphs as line breaks."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", fragment))).strip()


def event_url(config: Config, event: Event) -> str:
    return f"{config.base_url}/events/{event.id}"


def _component(config: Config, event: Event) -> CalendarEvent:
    item = CalendarEvent()
    # Remote events keep their origin's id: the same event seen from two servers is one.
    item.add("uid", event.uri or f"event-{event.id}@{config.host}")
    item.add("sequence", event.sequence)
    item.add("dtstamp", (event.updated_at or event.created_at).astimezone(UTC))
    item.add("created", event.created_at.astimezone(UTC))
    zone = UTC if event.timezone == "UTC" else ZoneInfo(event.timezone)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    if event.all_day:
        # DATE values; DTEND is the day after the last one (exclusive, §3.6.1).
        item.add("dtstart", start.date())
        item.add("dtend", max(end.date(), start.date() + timedelta(days=1)))
    else:
        item.add("dtstart", start)
        item.add("dtend", end)
    item.add("summary", event.title)
    description = event.description or plain_text(event.description_html)
    if description:
        item.add("description", description)
    place = ", ".join(
        p for p in (event.place_name, event.street_address, event.postal_code, event.locality) if p
    )
    if place or event.online_url:
        item.add("location", place or event.online_url)
    if event.latitude is not None and event.longitude is not None:
        item.add("geo", vGeo((event.latitude, event.longitude)))
    item.add("url", event_url(config, event))
    item.add("status", event.status.upper())
    item.add("categories", [event.category])
    return item


class _Recent:
    """A bounded memory of rendered pieces, the least recently used forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple[object, ...], bytes] = OrderedDict()

    def find(self, key: tuple[object, ...]) -> bytes | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: tuple[object, ...], value: bytes) -> bytes:
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value

    def get(self, key: tuple[object, ...], make: Callable[[], bytes]) -> bytes:
        found = self.find(key)
        return found if found is not None else self.put(key, make())


# Rendering a VEVENT costs about a millisecond: a feed of 1,000 events would take a second.
# Each is kept by (id, creation, SEQUENCE): every change of an event raises its SEQUENCE, so a kept
# rendering is never stale. VTIMEZONEs are kept by zone and years.
_EVENTS = _Recent(20_000)
_ZONES = _Recent(200)
# Whole feeds, by the version of their group's calendar (a subscribed calendar asks often and
# rarely finds a change; reading 1,000 rows for it would cost more than the rest).
FEEDS = _Recent(500)


def _event_bytes(config: Config, event: Event) -> bytes:
    # The creation time to the microsecond tells apart events of two databases with one id.
    key = (config.base_url, event.id, event.created_at, event.sequence, event.updated_at)
    return _EVENTS.get(key, lambda: bytes(_component(config, event).to_ical()))


def _zone_bytes(name: str, first_year: int, last_year: int) -> bytes:
    def make() -> bytes:
        zone = Timezone.from_tzid(
            name, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
        )
        return bytes(zone.to_ical())

    return _ZONES.get((name, first_year, last_year), make)


def build_calendar(config: Config, events: Iterable[Event], name: str) -> bytes:
    """Return a VCALENDAR holding these events and the VTIMEZONEs they use."""
    header = Calendar()
    header.add("prodid", "-//Entraide//Events//EN")
    header.add("version", "2.0")
    header.add("calscale", "GREGORIAN")
    header.add("x-wr-calname", name)
    opening = bytes(header.to_ical()).removesuffix(b"END:VCALENDAR\r\n")
    parts: list[bytes] = []
    years: dict[str, tuple[int, int]] = {}
    for event in events:
        parts.append(_event_bytes(config, event))
        if event.timezone != "UTC" and not event.all_day:
            first, last = years.get(event.timezone, (event.starts_at.year, event.ends_at.year))
            # Only the transitions the events need: a VTIMEZONE since 1970 is most of a file.
            years[event.timezone] = (
                min(first, event.starts_at.year - 1),
                max(last, event.ends_at.year + 1),
            )
    zones = [_zone_bytes(zone, *span) for zone, span in sorted(years.items())]
    return b"".join([opening, *zones, *parts, b"END:VCALENDAR\r\n"])
