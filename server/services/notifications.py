"""Notifications: what services tell people, read in the app, chosen by kind, sent by e-mail.

A kind is a row of `notification_kinds` (migrations/0012_reach.sql): its words in French and
English, its grouping and its default delivery. Services write notifications with `notify`,
on the connection of the transaction that caused them, so a rolled-back cause tells nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from server.config import Config
from server.db import Connection, Pool
from server.errors import Invalid, NotFound
from server.models import Account
from server.sanitize import find_mentions
from server.storage import notifications as store
from server.storage.notifications import NotificationKind, StoredNotification

log = logging.getLogger(__name__)

DELIVERIES = ("app", "email", "digest")
# Failed remote follows, by the reason server/services/follows.py records.
FOLLOW_FAILURE_KINDS = {
    "unreachable": "follow_unreachable",
    "not_found": "follow_not_found",
    "refused": "follow_refused",
}
MAX_LISTED = 50


async def notify(
    conn: Connection,
    recipient_ids: list[int],
    kind: str,
    *,
    actor_id: int | None = None,
    post_id: int | None = None,
    group_id: int | None = None,
    event_id: int | None = None,
    petition_id: int | None = None,
    board_item_id: int | None = None,
    subject: str = "",
) -> int:
    """Write a notification of `kind` for each local account among `recipient_ids`."""
    if not recipient_ids:
        return 0
    return await store.insert_notifications(
        conn,
        recipient_ids,
        kind,
        actor_id=actor_id,
        post_id=post_id,
        group_id=group_id,
        event_id=event_id,
        petition_id=petition_id,
        board_item_id=board_item_id,
        subject=subject[:200],
    )


async def notify_mentioned(
    conn: Connection, config: Config, content: str, author_id: int, post_id: int
) -> None:
    """Tell the local people a post names with @name (or @name@this-host)."""
    names = [n for n, host in find_mentions(content) if host in (None, config.host.lower())]
    if names:
        people = await store.list_local_ids_by_name(conn, names)
        await notify(conn, people, "mention", actor_id=author_id, post_id=post_id)


async def notify_moderators(
    conn: Connection, group_id: int, kind: str, *, actor_id: int | None = None
) -> None:
    """Tell the owners and moderators of a group."""
    moderators = await store.list_moderator_ids(conn, group_id)
    await notify(conn, moderators, kind, actor_id=actor_id, group_id=group_id)


async def notify_admins(conn: Connection, kind: str, *, actor_id: int) -> None:
    await notify(conn, await store.list_admin_ids(conn), kind, actor_id=actor_id)


async def notify_report(
    conn: Connection, group_id: int | None, target: str, *, reporter_id: int | None = None
) -> None:
    """Tell the moderators of the group concerned, and the administrators, of a new report.

    The reporter is never named (a report forwarded elsewhere does not name them either), and
    is not told of their own report if they moderate.
    """
    moderators = await store.list_moderator_ids(conn, group_id) if group_id is not None else []
    moderators = [m for m in moderators if m != reporter_id]
    await notify(conn, moderators, "report", group_id=group_id, subject=target)
    admins = [a for a in await store.list_admin_ids(conn) if a not in moderators]
    await notify(conn, [a for a in admins if a != reporter_id], "report", subject=target)


async def notify_board_match(
    conn: Connection, item_id: int, title: str, author_id: int, authors: list[int]
) -> None:
    """Tell the authors of open items that a new need or offer matches theirs."""
    await notify(
        conn, authors, "board_match", actor_id=author_id, board_item_id=item_id, subject=title
    )


async def notify_participants(
    conn: Connection, event_id: int, title: str, kind: str, *, actor_id: int | None = None
) -> None:
    """Tell the people who take part in an event (or wait for a place) about it."""
    people = await store.list_participant_ids(conn, event_id)
    await notify(conn, people, kind, actor_id=actor_id, event_id=event_id, subject=title)


async def notify_if_goal_reached(conn: Connection, petition_id: int) -> None:
    """Tell a petition's organizers when the signature just counted is the goal's."""
    reached = await store.find_petition_at_goal(conn, petition_id)
    if reached is not None:
        title, group_id = reached
        organizers = await store.list_moderator_ids(conn, group_id)
        await notify(conn, organizers, "petition_goal", petition_id=petition_id, subject=title)


@dataclass(frozen=True)
class NotificationView:
    """A notification as a person reads it: its sentence, where it leads, whether it is new."""

    id: int
    kind: str
    text: str
    link: str
    created_at: datetime
    unread: bool
    actor_id: int | None
    post_id: int | None


def label(kind: NotificationKind, language: str) -> str:
    """Return the words of a kind in a language (English unless French)."""
    return kind.label_fr if language == "fr" else kind.label_en


def describe(item: StoredNotification, language: str) -> str:
    """Return the sentence of a notification in the reader's language."""
    grouped = item.kind.grouped_fr if language == "fr" else item.kind.grouped_en
    template = grouped if grouped is not None and item.count > 1 else label(item.kind, language)
    return template.format(
        actor=item.actor_name or "?",
        group=item.group_name,
        subject=item.subject,
        count=item.count,
    )


def link(item: StoredNotification) -> str:
    """Return the page a notification leads to."""
    if item.post_id is not None:
        return f"/posts/{item.post_id}"
    if item.event_id is not None:
        return f"/events/{item.event_id}"
    if item.petition_id is not None:
        return f"/petitions/{item.petition_id}"
    if item.board_item_id is not None:
        return f"/board/{item.board_item_id}"
    if item.kind.kind == "report":
        # Moderators are told with the group, administrators without (server/services/
        # moderation.py): each lands on the list of reports they may act on.
        if item.group_slug is not None:
            return f"/groups/{item.group_slug}/moderation"
        return "/admin/moderation"
    if item.kind.kind.startswith("follow_") and item.group_slug is None:
        # A remote follow: the page of what one follows, and of why a follow failed.
        return "/following"
    if item.kind.kind == "account_pending":
        return "/admin"
    if item.group_slug is not None:
        if item.kind.kind in ("join_request", "follow_request", "follow"):
            return f"/groups/{item.group_slug}/members"
        return f"/groups/{item.group_slug}"
    return "/notifications"


def view(item: StoredNotification, language: str) -> NotificationView:
    return NotificationView(
        id=item.id,
        kind=item.kind.kind,
        text=describe(item, language),
        link=link(item),
        created_at=item.created_at,
        unread=item.read_at is None,
        actor_id=item.actor_id,
        post_id=item.post_id,
    )


async def list_notifications(db: Pool, account: Account, language: str) -> list[NotificationView]:
    """Return the latest notifications of a person, newest first."""
    async with db.acquire() as conn:
        items = await store.list_notifications(conn, account.id, limit=MAX_LISTED)
    return [view(item, language) for item in items]


async def list_for_api(
    db: Pool,
    account: Account,
    *,
    max_id: int | None,
    min_id: int | None,
    types: list[str] | None,
    limit: int,
) -> list[StoredNotification]:
    """Return the notifications client apps show (those with a Mastodon type)."""
    async with db.acquire() as conn:
        return await store.list_notifications(
            conn,
            account.id,
            max_id=max_id,
            min_id=min_id,
            api_types=types,
            limit=limit,
        )


async def count_unread(db: Pool, account: Account) -> int:
    async with db.acquire() as conn:
        return await store.count_unread(conn, account.id)


def _parse_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise NotFound("Record not found")
    return int(value)


async def mark_read(db: Pool, account: Account, notification_id: str | None = None) -> int:
    """Mark one notification of the person (or all of them) read; return how many changed."""
    wanted = _parse_id(notification_id) if notification_id is not None else None
    async with db.acquire() as conn:
        return await store.update_read(conn, account.id, wanted)


async def dismiss(db: Pool, account: Account, notification_id: str) -> None:
    """Delete one notification of the person (a client app's dismiss)."""
    wanted = _parse_id(notification_id)
    async with db.acquire() as conn:
        await store.delete_notification(conn, account.id, wanted)


async def clear(db: Pool, account: Account) -> None:
    async with db.acquire() as conn:
        await store.delete_notifications(conn, account.id)


@dataclass(frozen=True)
class Preference:
    kind: str
    label: str
    delivery: str


async def list_preferences(db: Pool, account: Account, language: str) -> list[Preference]:
    """Return each kind with its words and how the person receives it."""
    async with db.acquire() as conn:
        kinds = await store.list_kinds(conn)
        chosen = await store.list_preferences(conn, account.id)
    # The sentence with its blanks left blank: "… replied to your post".
    blanks = {"actor": "…", "group": "…", "subject": "…", "count": "…"}
    return [Preference(k.kind, label(k, language).format(**blanks), chosen[k.kind]) for k in kinds]


async def save_preferences(db: Pool, account: Account, chosen: dict[str, str]) -> None:
    """Record how the person wants each kind: in the app, by e-mail at once, or in a digest."""
    async with db.acquire() as conn, conn.transaction():
        kinds = {k.kind for k in await store.list_kinds(conn)}
        wanted = {k: v for k, v in chosen.items() if k in kinds}
        if any(v not in DELIVERIES for v in wanted.values()):
            raise Invalid({"delivery": "Choose in the app, by e-mail at once, or a daily e-mail."})
        await store.upsert_preferences(conn, account.id, wanted)


async def send_event_reminders(db: Pool) -> int:
    """Remind the participants of the events that start within a day; return how many events.

    Any number of workers may run this: the update that picks the events claims them.
    """
    async with db.acquire() as conn, conn.transaction():
        due = await store.list_due_reminders(conn)
        for event_id, title in due:
            await notify_participants(conn, event_id, title, "event_reminder")
    return len(due)


# How often the worker looks for events to remind of (and, with e-mail, digests to send).
SCHEDULE_SECONDS = 300.0


async def run_schedule(
    stop: asyncio.Event,
    tasks: list[Callable[[], Awaitable[int]]],
    *,
    every: float = SCHEDULE_SECONDS,
) -> None:
    """Until `stop` is set, run what is due by the clock rather than by an action."""
    while not stop.is_set():
        for task in tasks:
            try:
                await task()
            except Exception:  # PostgreSQL restarting, say: the next round tries again
                log.exception("scheduled task failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
