"""Availability to listen or meet: members of a group say when, the others see who is free.

Only active members of the group read it: it never reaches a public page, a feed, a
collection or a delivery (nothing here queues a job).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server import validation as v
from server.db import Connection, Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import Account, Availability, AvailableMember, ConversationRequest, Group
from server.storage import availability as store
from server.storage import groups as group_store

# "Available now" for one of these durations, in minutes.
DURATIONS = ("30", "60", "120", "240")
WEEKDAYS = ("0", "1", "2", "3", "4", "5", "6")
MAX_NOTE = 280
MAX_MESSAGE = 1000
# "Soon" is a window that starts within this delay.
SOON = timedelta(hours=24)


async def _require_member(conn: Connection, group_id: int, account: Account | None) -> None:
    member = await group_store.get_membership(conn, group_id, account.id) if account else None
    if member is None or member.state != "active":
        raise Forbidden("Only the group's members can do this.")


def _parse_time(value: str) -> int | None:
    """Read HH:MM as minutes since midnight (24:00 ends a day)."""
    hours, _, minutes = value.strip().partition(":")
    if not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit()):
        return None
    total = int(hours) * 60 + int(minutes)
    return total if len(minutes) == 2 and int(minutes) < 60 and 0 <= total <= 1440 else None


async def set_available_now(
    db: Pool, group: Group, account: Account, *, minutes: str, note: str
) -> None:
    """Say one is available now, for a while; it replaces an earlier "now"."""
    note = note.strip()
    errors = v.collect(
        minutes=v.check_choice(minutes, DURATIONS),
        note=v.check_text(note, max_length=MAX_NOTE),
    )
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn, conn.transaction():
        await _require_member(conn, group.id, account)
        await store.delete_available_now(conn, group.id, account.id)
        await store.insert_availability(
            conn, group_id=group.id, actor_id=account.id, kind="now", note=note,
            timezone=account.timezone,
            until=datetime.now(UTC) + timedelta(minutes=int(minutes)),
        )  # fmt: skip


async def add_weekly_window(
    db: Pool, group: Group, account: Account, *, weekday: str, start: str, end: str, note: str
) -> None:
    """Add a weekly window, in the member's time zone."""
    note = note.strip()
    start_minute, end_minute = _parse_time(start), _parse_time(end)
    errors = v.collect(
        weekday=v.check_choice(weekday, WEEKDAYS),
        start=None
        if start_minute is not None and start_minute < 1440
        else "Enter a time like 18:30.",
        end=None if end_minute is not None else "Enter a time like 18:30.",
        note=v.check_text(note, max_length=MAX_NOTE),
    )
    if (
        not errors
        and start_minute is not None
        and end_minute is not None
        and (end_minute <= start_minute)
    ):
        errors["end"] = "The end must come after the start."
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn, conn.transaction():
        await _require_member(conn, group.id, account)
        await store.insert_availability(
            conn, group_id=group.id, actor_id=account.id, kind="weekly", note=note,
            timezone=account.timezone, weekday=int(weekday), start_minute=start_minute,
            end_minute=end_minute,
        )  # fmt: skip


async def remove_availability(
    db: Pool, group: Group, account: Account, availability_id: int
) -> None:
    async with db.acquire() as conn:
        if not await store.delete_availability(conn, availability_id, account.id):
            raise NotFound("This page does not exist.")


def next_window(item: Availability, now: datetime) -> tuple[datetime, datetime] | None:
    """Return the current or next occurrence of a window, or None when it is over."""
    if item.kind == "now":
        return (now, item.until) if item.until and item.until > now else None
    assert item.weekday is not None and item.start_minute is not None
    assert item.end_minute is not None
    zone = ZoneInfo(item.timezone)
    local = now.astimezone(zone)
    for days in range(8):
        day = (local + timedelta(days=days)).date()
        if day.weekday() != item.weekday:
            continue
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        starts = midnight + timedelta(minutes=item.start_minute)
        ends = midnight + timedelta(minutes=item.end_minute)
        if ends > now:
            return starts.astimezone(UTC), ends.astimezone(UTC)
    return None


async def list_available(
    db: Pool, group: Group, viewer: Account | None, *, now: datetime | None = None
) -> list[AvailableMember]:
    """Return who is available now, then who is soon, for the group's members only."""
    now = now or datetime.now(UTC)
    async with db.acquire() as conn:
        await _require_member(conn, group.id, viewer)
        items = await store.list_group_availabilities(conn, group.id)
    found = []
    for item in items:
        window = next_window(item, now)
        if window is not None and window[0] <= now + SOON:
            found.append(AvailableMember(item, window[0], window[1], window[0] <= now))
    found.sort(key=lambda a: (not a.now, a.starts_at))
    return found


async def list_my_availabilities(db: Pool, group: Group, account: Account) -> list[Availability]:
    async with db.acquire() as conn:
        await _require_member(conn, group.id, account)
        items = await store.list_group_availabilities(conn, group.id)
    return [i for i in items if i.actor_id == account.id]


async def ask_for_conversation(
    db: Pool, group: Group, account: Account, to_id: int, *, message: str
) -> None:
    """Send an available member a private message asking for a conversation."""
    message = message.strip()
    errors = v.collect(message=v.check_text(message, max_length=MAX_MESSAGE, required=True))
    if errors:
        raise Invalid(errors)
    if to_id == account.id:
        raise Forbidden("You cannot ask yourself.")
    async with db.acquire() as conn, conn.transaction():
        await _require_member(conn, group.id, account)
        available = {i.actor_id for i in await store.list_group_availabilities(conn, group.id)}
        if to_id not in available:
            raise NotFound("This member is not available.")
        await store.insert_conversation_request(
            conn, group_id=group.id, from_id=account.id, to_id=to_id, message=message
        )


async def list_conversation_requests(
    db: Pool, group: Group, account: Account
) -> list[ConversationRequest]:
    async with db.acquire() as conn:
        await _require_member(conn, group.id, account)
        return await store.list_conversation_requests(conn, group.id, account.id)
