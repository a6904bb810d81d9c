"""Events of groups: create, edit, cancel, delete, read; events that peers send.

Every change that peers must hear of queues a job in the same transaction: the event's
Create/Update/Delete (`FEDERATE_EVENT`). Taking part (join, leave, the waiting list, approval)
is in server/services/participation.py, with the job kinds it queues defined here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server import validation as v
from server.config import Config
from server.db import Connection, Pool
from server.errors import Forbidden, Gone, Invalid, NotFound
from server.models import Account, Actor, Event, Group, Member, Participant
from server.sanitize import render_text, sanitize_html
from server.services import avatars, notifications
from server.services.groups import can_read
from server.storage import events as store
from server.storage import follows as follow_store
from server.storage import groups as group_store
from server.storage import jobs as job_store

FEDERATE_EVENT = "federate_event"
SEND_EVENT_RESPONSE = "send_event_response"
SEND_EVENT_JOIN = "send_event_join"

# Mobilizon's category ids (lib/mobilizon/events/categories.ex); the form offers the first ones.
CATEGORIES = (
    "MEETING", "COMMUNITY", "CAUSES", "MOVEMENTS_POLITICS", "LEARNING", "FOOD_DRINK", "GAMES",
    "HEALTH", "ARTS", "SPORTS", "PARTY", "OUTDOORS_ADVENTURE", "MUSIC", "FAMILY_EDUCATION",
    "LANGUAGE_CULTURE", "FILM_MEDIA", "CRAFTS", "THEATRE", "SCIENCE_TECH", "NETWORKING",
    "BOOK_CLUBS", "PHOTOGRAPHY", "SPIRITUALITY_RELIGION_BELIEFS", "LGBTQ", "PETS", "COMEDY",
    "AUTO_BOAT_AIR", "BUSINESS", "FASHION_BEAUTY", "PERFORMING_VISUAL_ARTS",
)  # fmt: skip
STATUSES = ("confirmed", "tentative", "cancelled")
VISIBILITIES = ("public", "members")
JOIN_MODES = ("free", "approval", "external")
MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_FIELD = 200
MAX_URL = 2000
MAX_MESSAGE = 1000
MAX_CAPACITY = 100_000
# Dates outside these years are typing mistakes or hostile (year 9999 overflows time zones).
FIRST_YEAR, LAST_YEAR = 1970, 2100
# A burst of joins is one Update of the counts, sent this long after the first.
COUNTS_DELAY = timedelta(seconds=5)
AGENDA_SIZE = 50


@dataclass(frozen=True)
class EventForm:
    """An event as typed in the form (strings), checked and read by the service."""

    title: str = ""
    description: str = ""
    start_date: str = ""
    start_time: str = ""
    end_date: str = ""
    end_time: str = ""
    timezone: str = "UTC"
    all_day: bool = False
    place_name: str = ""
    street_address: str = ""
    postal_code: str = ""
    locality: str = ""
    country: str = ""
    latitude: str = ""
    longitude: str = ""
    online_url: str = ""
    category: str = "MEETING"
    status: str = "confirmed"
    visibility: str = "public"
    capacity: str = ""
    join_mode: str = "free"
    external_url: str = ""
    question: str = ""
    show_participants: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def of_event(cls, event: Event) -> EventForm:
        """Return the form filled with an event's values, in its own time zone."""
        zone = ZoneInfo(event.timezone)
        start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
        if event.all_day:
            end = end - timedelta(days=1)
        return cls(
            title=event.title,
            description=event.description,
            start_date=start.date().isoformat(),
            start_time="" if event.all_day else start.strftime("%H:%M"),
            end_date=end.date().isoformat(),
            end_time="" if event.all_day else end.strftime("%H:%M"),
            timezone=event.timezone,
            all_day=event.all_day,
            place_name=event.place_name,
            street_address=event.street_address,
            postal_code=event.postal_code,
            locality=event.locality,
            country=event.country,
            latitude="" if event.latitude is None else str(event.latitude),
            longitude="" if event.longitude is None else str(event.longitude),
            online_url=event.online_url,
            category=event.category,
            status=event.status,
            visibility=event.visibility,
            capacity="" if event.capacity is None else str(event.capacity),
            join_mode=event.join_mode,
            external_url=event.external_url,
            question=event.question,
            show_participants=event.show_participants,
        )


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _time(value: str) -> time | None:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        return None


def _coordinate(value: str, limit: float) -> tuple[float | None, str | None]:
    if not value.strip():
        return None, None
    try:
        number = float(value.strip().replace(",", "."))
    except ValueError:
        return None, "Not a coordinate."
    if not -limit <= number <= limit or number != number:
        return None, "Not a coordinate."
    return number, None


def _check_url(value: str) -> str | None:
    if value and not value.startswith(("https://", "http://")):
        return "A web address starts with https://."
    return v.check_text(value, max_length=MAX_URL)


def check_dates(start: datetime, end: datetime) -> dict[str, str]:
    """Return the errors of a start and an end (also for events received from peers)."""
    if not FIRST_YEAR <= start.year <= LAST_YEAR or not FIRST_YEAR <= end.year <= LAST_YEAR:
        return {"start_date": "Dates must fall between 1970 and 2100."}
    if end < start:
        return {"end_date": "The end must come after the start."}
    return {}


def read_form(form: EventForm) -> dict[str, Any]:
    """Check a form and return the values to store; raise Invalid with an error per field."""
    errors = v.collect(
        title=v.check_text(form.title.strip(), max_length=MAX_TITLE, required=True),
        description=v.check_text(form.description, max_length=MAX_DESCRIPTION),
        timezone=v.check_timezone(form.timezone),
        category=v.check_choice(form.category, CATEGORIES),
        status=v.check_choice(form.status, STATUSES),
        visibility=v.check_choice(form.visibility, VISIBILITIES),
        join_mode=v.check_choice(form.join_mode, JOIN_MODES),
        online_url=_check_url(form.online_url.strip()),
        external_url=_check_url(form.external_url.strip()),
        question=v.check_text(form.question, max_length=MAX_FIELD),
        **{
            name: v.check_text(getattr(form, name), max_length=MAX_FIELD)
            for name in ("place_name", "street_address", "postal_code", "locality", "country")
        },
    )
    start_day = _date(form.start_date)
    end_day = _date(form.end_date) if form.end_date.strip() else start_day
    if start_day is None:
        errors["start_date"] = "Give a date (YYYY-MM-DD)."
    if end_day is None:
        errors["end_date"] = "Give a date (YYYY-MM-DD)."
    start_clock = time(0, 0) if form.all_day else _time(form.start_time)
    end_clock = time(0, 0) if form.all_day else _time(form.end_time)
    if start_clock is None:
        errors["start_time"] = "Give a time (HH:MM)."
    if end_clock is None:
        errors["end_time"] = "Give a time (HH:MM)."
    latitude, error = _coordinate(form.latitude, 90)
    if error:
        errors["latitude"] = error
    longitude, error = _coordinate(form.longitude, 180)
    if error:
        errors["longitude"] = error
    capacity: int | None = None
    if form.capacity.strip():
        text = form.capacity.strip()
        number = int(text) if text.isascii() and text.lstrip("-").isdigit() else None
        if number is None or not 1 <= number <= MAX_CAPACITY:
            errors["capacity"] = "Capacity: a whole number, at least 1."
        else:
            capacity = number
    if form.join_mode == "external" and not form.external_url.strip():
        errors["external_url"] = "Give the address where people register."
    starts_at = ends_at = None
    if start_day and end_day and start_clock and end_clock:
        # With an unknown zone, UTC still tells whether the end comes after the start.
        zone = UTC if "timezone" in errors else ZoneInfo(form.timezone)
        if form.all_day:
            end_day = end_day + timedelta(days=1)  # the end of an all-day event is exclusive
        try:
            starts_at = datetime.combine(start_day, start_clock, zone)
            ends_at = datetime.combine(end_day, end_clock, zone)
        except OverflowError:
            errors["end_date"] = "Give a date (YYYY-MM-DD)."
        else:
            errors.update(check_dates(starts_at, ends_at))
    if errors:
        raise Invalid(errors)
    assert starts_at is not None and ends_at is not None
    return {
        "title": form.title.strip(),
        "description": form.description,
        "description_html": render_text(form.description),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": form.timezone,
        "all_day": form.all_day,
        "place_name": form.place_name.strip(),
        "street_address": form.street_address.strip(),
        "postal_code": form.postal_code.strip(),
        "locality": form.locality.strip(),
        "country": form.country.strip(),
        "latitude": latitude,
        "longitude": longitude,
        "online_url": form.online_url.strip(),
        "category": form.category,
        "status": form.status,
        "visibility": form.visibility,
        "capacity": capacity,
        "join_mode": form.join_mode,
        "external_url": form.external_url.strip(),
        "question": form.question.strip(),
        "show_participants": form.show_participants,
    }


@dataclass(frozen=True)
class Picture:
    """An image sent with the form, and the words that describe it to those who cannot see it."""

    data: bytes
    alt: str


MAX_ALT = 1500  # Mastodon's limit for a media description


def _check_picture(picture: Picture | None) -> dict[str, str]:
    if picture is None or not picture.data:
        return {}
    alt = picture.alt.strip()
    if not alt:
        return {"picture_alt": "Describe the picture for those who cannot see it."}
    error = v.check_text(alt, max_length=MAX_ALT)
    return {"picture_alt": error} if error else {}


async def _store_picture(config: Config, picture: Picture | None) -> tuple[str, str] | None:
    """Re-encode and keep the picture as avatars are; None when none was sent."""
    if picture is None or not picture.data:
        return None
    try:
        name = await avatars.store_picture(config, picture.data)
    except Invalid as exc:
        message = next(iter(exc.fields.values()), "Send a PNG, JPEG, GIF or WebP image.")
        raise Invalid({"picture": message}) from None
    return name, picture.alt.strip()


def _read_with_picture(form: EventForm, picture: Picture | None) -> dict[str, Any]:
    """Check the form and the picture's description together: every error at once."""
    errors = _check_picture(picture)
    try:
        values = read_form(form)
    except Invalid as exc:
        raise Invalid({**exc.fields, **errors}) from None
    if errors:
        raise Invalid(errors)
    return values


async def _federate(conn: Connection, event: Event | int, action: str) -> None:
    event_id = event if isinstance(event, int) else event.id
    await job_store.insert_job(conn, FEDERATE_EVENT, {"event_id": event_id, "action": action})


async def _counts_changed(conn: Connection, event: Event) -> None:
    """Queue one Update of the counts for a burst of joins and leaves of a local event."""
    if event.is_local:
        await job_store.insert_job_unless_queued(
            conn,
            FEDERATE_EVENT,
            {"event_id": event.id, "action": "update"},
            datetime.now(UTC) + COUNTS_DELAY,
        )


def is_organizer(event: Event, membership: Member | None) -> bool:
    """Organizers: the person who created the event and the group's moderators."""
    if membership is None or membership.state != "active":
        return False
    return membership.actor_id == event.organizer_id or membership.is_moderator


def may_read(event: Event, group: Group | None, membership: Member | None) -> bool:
    if group is None:  # a remote event: its origin published it to us
        return event.visibility == "public" or membership is not None
    if not can_read(group, membership):
        return False
    return event.visibility == "public" or (membership is not None and membership.state == "active")


async def create_event(
    db: Pool,
    group: Group,
    organizer: Account,
    form: EventForm,
    *,
    picture: Picture | None = None,
    config: Config | None = None,
) -> Event:
    """Create an event in a group the organizer is an active member of."""
    values = _read_with_picture(form, picture)
    async with db.acquire() as conn:  # before a stranger's picture is written to disk
        member = await group_store.get_membership(conn, group.id, organizer.id)
    if member is None or member.state != "active":
        raise Forbidden("Only members of the group can create its events.")
    stored = await _store_picture(config, picture) if config is not None else None
    if group.visibility == "members":
        values["visibility"] = "members"  # a members-only group's events stay among members
    async with db.acquire() as conn, conn.transaction():
        member = await group_store.get_membership(conn, group.id, organizer.id)
        if member is None or member.state != "active":
            raise Forbidden("Only members of the group can create its events.")
        event_id = await store.insert_event(
            conn, group_id=group.id, organizer_id=organizer.id, values=values
        )
        if stored is not None:
            await store.update_event_picture(conn, event_id, *stored)
        await _federate(conn, event_id, "create")
        event = await store.get_event(conn, event_id)
    assert event is not None
    return event


async def _require_organizer(conn: Connection, event: Event, account: Account) -> Member:
    if not event.is_local:
        raise Forbidden("This event is organized on another server.")
    member = await group_store.get_membership(conn, event.group_id, account.id)
    if member is None or not is_organizer(event, member):
        raise Forbidden("Only the event's organizers can do this.")
    return member


async def update_event(
    db: Pool,
    event: Event,
    editor: Account,
    form: EventForm,
    *,
    picture: Picture | None = None,
    config: Config | None = None,
) -> Event:
    """Change an event; a larger capacity moves people up from the waiting list."""
    async with db.acquire() as conn:
        await _require_organizer(conn, event, editor)
    values = _read_with_picture(form, picture)
    stored = await _store_picture(config, picture) if config is not None else None
    if event.visibility == "members" and values["visibility"] == "public":
        group = await _get_group(db, event.group_id)
        if group is not None and group.visibility == "members":
            values["visibility"] = "members"
    async with db.acquire() as conn, conn.transaction():
        await store.get_event(conn, event.id, lock=True)
        await store.update_event(conn, event.id, values)
        if stored is not None:
            await store.update_event_picture(conn, event.id, *stored)
        await _fill_places(conn, event.id)
        await _federate(conn, event.id, "update")
        updated = await store.get_event(conn, event.id)
        assert updated is not None
        await notifications.notify_participants(
            conn, event.id, updated.title, "event_changed", actor_id=editor.id
        )
    return updated


async def _get_group(db: Pool, group_id: int) -> Group | None:
    async with db.acquire() as conn:
        return await group_store.get_group(conn, group_id)


async def cancel_event(db: Pool, event: Event, editor: Account) -> Event:
    """Mark an event cancelled: it stays visible, calendars show it struck out."""
    async with db.acquire() as conn, conn.transaction():
        await _require_organizer(conn, event, editor)
        await store.update_event_status(conn, event.id, "cancelled")
        await _federate(conn, event.id, "update")
        updated = await store.get_event(conn, event.id)
        assert updated is not None
        await notifications.notify_participants(
            conn, event.id, updated.title, "event_cancelled", actor_id=editor.id
        )
    return updated


async def delete_event(db: Pool, event: Event, editor: Account) -> None:
    """Delete an event: peers are told, its address answers 410 Gone."""
    async with db.acquire() as conn, conn.transaction():
        await _require_organizer(conn, event, editor)
        await store.delete_event(conn, event.id)
        await _federate(conn, event.id, "delete")


@dataclass(frozen=True)
class EventView:
    """An event with what the viewer may see and do about it."""

    event: Event
    group: Group | None  # None for a remote event
    membership: Member | None
    participation: Participant | None
    can_manage: bool


async def get_event(db: Pool, event_id: int, viewer: Account | None) -> EventView:
    """Return an event the viewer may read, with their participation and rights."""
    async with db.acquire() as conn:
        event = await store.get_event(conn, event_id, include_deleted=True)
        if event is None:
            raise NotFound("This event does not exist.")
        if event.deleted_at is not None:
            raise Gone("This event was deleted.")
        group = await group_store.get_group(conn, event.group_id)
        membership = (
            await group_store.get_membership(conn, event.group_id, viewer.id) if viewer else None
        )
        participation = await store.find_participant(conn, event.id, viewer.id) if viewer else None
    if group is not None and not may_read(event, group, membership):
        raise Forbidden("This event is for the group's members only.")
    manage = event.is_local and is_organizer(event, membership)
    return EventView(event, group, membership, participation, manage)


async def get_event_for_federation(db: Pool, event_id: int) -> Event:
    """Return a local event (a tombstone too); LookupError when there is none."""
    async with db.acquire() as conn:
        event = await store.get_event(conn, event_id, include_deleted=True)
    if event is None or not event.is_local:
        raise LookupError(event_id)
    return event


async def list_group_events(
    db: Pool,
    group: Group,
    viewer: Account | None,
    *,
    upcoming_limit: int = 20,
    past_limit: int = 10,
) -> tuple[list[Event], list[Event]]:
    """Return a group's next events (soonest first) and its last ones (latest first)."""
    now = datetime.now(UTC)
    async with db.acquire() as conn:
        membership = await group_store.get_membership(conn, group.id, viewer.id) if viewer else None
        if not can_read(group, membership):
            raise Forbidden("This group shares its posts with members only.")
        upcoming = await store.list_group_events(
            conn, group.id, upcoming=True, now=now, limit=upcoming_limit
        )
        past = await store.list_group_events(
            conn, group.id, upcoming=False, now=now, limit=past_limit
        )
    member = membership is not None and membership.state == "active"
    keep = [e for e in upcoming if member or e.visibility == "public"]
    return keep, [e for e in past if member or e.visibility == "public"]


async def list_calendar_events(db: Pool, group: Group) -> list[Event]:
    """Return the public events of a public group, for its subscribable calendar."""
    if group.visibility != "public":
        raise Forbidden("This group shares its posts with members only.")
    async with db.acquire() as conn:
        events = await store.list_calendar_events(conn, group.id, limit=1000)
    return [e for e in events if e.visibility == "public"]


async def get_calendar_version(db: Pool, group: Group) -> tuple[object, ...]:
    """Return a value that changes whenever the group's calendar feed would."""
    if group.visibility != "public":
        raise Forbidden("This group shares its posts with members only.")
    async with db.acquire() as conn:
        return await store.get_calendar_version(conn, group.id)


async def list_public_events(db: Pool, *, limit: int = AGENDA_SIZE) -> list[Event]:
    """Return the instance's public agenda: upcoming public events of its public groups."""
    async with db.acquire() as conn:
        return await store.list_public_events(conn, now=datetime.now(UTC), limit=limit)


async def list_agenda(db: Pool, account: Account) -> list[Event]:
    """Return upcoming events of the groups a person belongs to or follows, or takes part in."""
    async with db.acquire() as conn:
        return await store.list_account_agenda(
            conn, account.id, now=datetime.now(UTC), limit=AGENDA_SIZE
        )


async def _fill_places(conn: Connection, event_id: int) -> list[Participant]:
    """Move people up from the waiting list while places are free; tell the remote ones."""
    event = await store.get_event(conn, event_id)
    if event is None or event.status == "cancelled":
        return []
    places = (
        event.waiting_count
        if event.capacity is None
        else min(event.capacity - event.going_count, event.waiting_count)
    )
    if places <= 0:
        return []
    promoted = await store.promote_waiting(conn, event_id, places)
    await notifications.notify(
        conn,
        [person.actor_id for person in promoted],
        "waiting_list_place",
        event_id=event_id,
        subject=event.title,
    )
    for person in promoted:
        if person.domain is not None:
            await job_store.insert_job(
                conn, SEND_EVENT_RESPONSE, {"participant_id": person.id, "accept": True}
            )
    return promoted


# What peers send: events of followed groups, and Joins, Leaves and answers about participation.

MAX_REMOTE_DESCRIPTION = 100_000


async def _is_followed(conn: Connection, *actor_ids: int) -> bool:
    for actor_id in actor_ids:
        if await follow_store.has_local_follower(conn, actor_id):
            return True
    return False


def check_remote_values(values: dict[str, Any]) -> None:
    """Refuse a remote event we could not show honestly: bad dates, no title, too long."""
    errors = check_dates(values["starts_at"], values["ends_at"])
    if not values["title"]:
        errors["title"] = "This field is required."
    if len(values["description_html"]) > MAX_REMOTE_DESCRIPTION:
        errors["description"] = "This text is too long."
    if errors:
        raise Invalid(errors, next(iter(errors.values())))


async def receive_event(
    db: Pool,
    sender: Actor,
    *,
    uri: str,
    url: str | None,
    group: Actor,
    organizer: Actor,
    values: dict[str, Any],
    participant_count: int | None,
) -> tuple[int, bool] | None:
    """Keep (or refresh) an event a peer published; None when no one here follows its group.

    `values` holds the fields of `store.FIELDS`, the description as received: it is sanitized
    here. The sender must be the event's group or organizer (federation checked the hosts).
    """
    if sender.id not in (group.id, organizer.id):
        raise Forbidden("Only the event's group or organizer can publish it.")
    check_remote_values(values)  # before the sanitizer: a huge description costs it seconds
    values = {**values, "description_html": sanitize_html(values["description_html"])}
    async with db.acquire() as conn, conn.transaction():
        existing = await store.find_event_by_uri(conn, uri)
        if existing is None and not await _is_followed(conn, group.id, organizer.id):
            return None
        if existing is not None and existing.deleted_at is not None:
            raise Gone("This event was deleted.")
        if existing is not None and existing.group_id not in (sender.id, group.id):
            raise Forbidden("Only the event's group or organizer can change it.")
        if values.get("visibility") != "public" and not group.is_local:
            # A members-only group's event, sent to its members: kept for them alone, the
            # group kept here as members-only (as its posts are).
            await group_store.insert_mirror_group(conn, group.id)
            await group_store.insert_mirror_memberships(conn, group.id)
        try:
            return await store.upsert_remote_event(
                conn,
                uri=uri,
                url=url,
                group_id=group.id,
                organizer_id=organizer.id,
                values=values,
                participant_count=participant_count,
            )
        except LookupError:
            raise Gone("This event was deleted.") from None


async def find_event_by_id(db: Pool, event_id: int) -> Event | None:
    async with db.acquire() as conn:
        return await store.get_event(conn, event_id)


async def find_event_by_uri(db: Pool, uri: str) -> Event | None:
    async with db.acquire() as conn:
        return await store.find_event_by_uri(conn, uri)


async def receive_event_delete(db: Pool, sender: Actor, uri: str) -> int:
    """Apply a peer's deletion of its event: only its group or organizer may."""
    async with db.acquire() as conn, conn.transaction():
        event = await store.find_event_by_uri(conn, uri)
        if event is None or event.deleted_at is not None:
            raise NotFound("No such event here.")
        if sender.id not in (event.group_id, event.organizer_id):
            raise Forbidden("Only the event's group or organizer can delete it.")
        await store.delete_event(conn, event.id)
    return event.id
