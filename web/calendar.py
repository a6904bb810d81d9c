"""Events as iCalendar (RFC 5545): one event, a group's feed, the instance's public agenda.

Built with the `icalendar` package: its VTIMEZONEs come from the same zoneinfo database the
events are typed in, so a calendar shows 19:00 in Paris on both sides of a daylight-saving
change. A UID never changes; SEQUENCE counts the changes (RFC 5545 §3.8.7.4).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, vGeo
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


def build_calendar(config: Config, events: Iterable[Event], name: str) -> bytes:
    """Return a VCALENDAR holding these events and the VTIMEZONEs they use."""
    calendar = Calendar()
    calendar.add("prodid", "-//Entraide//Events//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    first = last = None
    for event in events:
        calendar.add_component(_component(config, event))
        first = event.starts_at if first is None else min(first, event.starts_at)
        last = event.ends_at if last is None else max(last, event.ends_at)
    if first is not None and last is not None:
        # Only the transitions the events need: a VTIMEZONE since 1970 is most of the file.
        calendar.add_missing_timezones(
            first_date=(first - timedelta(days=1)).date(),
            last_date=(last + timedelta(days=366)).date(),
        )
    data: bytes = calendar.to_ical()
    return data
