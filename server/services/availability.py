"""Availability to listen or meet: members of a group say when, the others see who is free.

Only active members of the group read it: it never reaches a public page, a feed, a
collection or a delivery. Availability is kept for the members of this instance only; a member
on another instance is asked for a conversation by a private message to their own inbox (the
one job queued here), and such a message from another instance is a request for a member here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server import validation as v
from server.db import Connection, Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import (
    Account,
    Actor,
    Availability,
    AvailableMember,
    ConversationRequest,
    Group,
    Member,
)
from server.services import notifications
from server.storage import availability as store
from server.storage import groups as group_store
from server.storage import jobs as job_store

# The job that delivers a request to a member on another instance.
SEND_CONVERSATION_REQUEST = "send_conversation_request"

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


async def list_remote_members(db: Pool, group: Group, viewer: Account) -> list[Member]:
    """Return the group's members on other instances (their availability is not kept here)."""
    async with db.acquire() as conn:
        await _require_member(conn, group.id, viewer)
        return await store.list_remote_members(conn, group.id)


async def ask_for_conversation(
    db: Pool, group: Group, account: Account, to_id: int, *, message: str
) -> None:
    """Send a member a private message asking for a conversation: one available here, or one
    on another instance (delivered to their own inbox)."""
    message = message.strip()
    errors = v.collect(message=v.check_text(message, max_length=MAX_MESSAGE, required=True))
    if errors:
        raise Invalid(errors)
    if to_id == account.id:
        raise Forbidden("You cannot ask yourself.")
    async with db.acquire() as conn, conn.transaction():
        await _require_member(conn, group.id, account)
        available = {i.actor_id for i in await store.list_group_availabilities(conn, group.id)}
        remote = {m.actor_id for m in await store.list_remote_members(conn, group.id)}
        if to_id not in available | remote:
            raise NotFound("This member is not available.")
        request_id = await store.insert_conversation_request(
            conn, group_id=group.id, from_id=account.id, to_id=to_id, message=message
        )
        if to_id in remote:
            await job_store.insert_job(conn, SEND_CONVERSATION_REQUEST, {"request_id": request_id})
        else:
            await notifications.notify(
                conn, [to_id], "conversation_request", actor_id=account.id,
                group_id=group.id, subject=message,
            )  # fmt: skip


async def receive_conversation_request(
    db: Pool, group: Actor, sender: Actor, recipient: Actor, *, message: str, uri: str
) -> str:
    """Keep a request from a person of another instance for a member here, and tell them.

    For a group of ours, the sender must be one of its active members (and so must the
    recipient); for a group of another instance, the sender must live where the group lives
    (that instance vouches for its members) and the recipient must follow or belong to it.
    """
    message = " ".join(message.split())[:MAX_MESSAGE]
    if sender.is_local or sender.kind != "person":
        raise Forbidden("Only people ask for a conversation.")
    if not recipient.is_local or recipient.kind != "person" or group.kind != "group":
        raise NotFound("No such member here.")
    if not message:
        raise Invalid({"message": v.REQUIRED})
    async with db.acquire() as conn, conn.transaction():
        if group.is_local:
            for person in (sender, recipient):
                member = await group_store.get_membership(conn, group.id, person.id)
                if member is None or member.state != "active":
                    raise Forbidden("Only the group's members can do this.")
        elif sender.domain != group.domain or not await store.is_follower_or_member(
            conn, group.id, recipient.id
        ):
            raise Forbidden("Only the group's members can do this.")
        request_id = await store.insert_conversation_request(
            conn, group_id=group.id, from_id=sender.id, to_id=recipient.id, message=message,
            uri=uri,
        )  # fmt: skip
        if request_id is None:
            return "already received"
        await notifications.notify(
            conn, [recipient.id], "conversation_request", actor_id=sender.id,
            group_id=group.id, subject=message,
        )  # fmt: skip
    return f"conversation request {request_id}"


async def get_conversation_request_any(db: Pool, request_id: int) -> ConversationRequest:
    """Return a request whoever asks (the federation worker delivers it)."""
    async with db.acquire() as conn:
        found = await store.get_conversation_request(conn, request_id)
    if found is None:
        raise NotFound("This request does not exist.")
    return found


async def list_conversation_requests(
    db: Pool, group: Group, account: Account
) -> list[ConversationRequest]:
    async with db.acquire() as conn:
        await _require_member(conn, group.id, account)
        return await store.list_conversation_requests(conn, group.id, account.id)
