"""Storage of notifications: their kinds, the rows services write, the reader's preferences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.db import Connection
from server.storage.muting import hidden_from

# The job that e-mails one notification at once (server/services/mail.py runs it).
SEND_NOTIFICATION_EMAIL = "send_notification_email"


@dataclass(frozen=True)
class NotificationKind:
    kind: str
    label_en: str
    label_fr: str
    grouped_en: str | None
    grouped_fr: str | None
    default_delivery: str
    api_type: str | None


@dataclass(frozen=True)
class StoredNotification:
    """A notification row with the names it speaks of, read in one query."""

    id: int
    account_id: int
    kind: NotificationKind
    actor_id: int | None
    actor_name: str  # display name, or @name@domain when it has none
    post_id: int | None
    group_slug: str | None
    group_name: str
    event_id: int | None
    petition_id: int | None
    subject: str
    count: int
    created_at: datetime
    read_at: datetime | None
    board_item_id: int | None = None


async def insert_notifications(
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
    """Notify local accounts (others are skipped, and so is the actor themself); return how many.

    One statement: the rows, their grouping with an unread one of the same key (which moves to
    the top with a new id), and the e-mail job of those who want this kind at once.
    """
    value: int = await conn.fetchval(
        """
        WITH recipient AS (
            SELECT a.actor_id, coalesce(p.delivery, k.default_delivery) AS delivery,
                   CASE WHEN k.grouped_en IS NOT NULL
                        THEN k.kind || ':' || coalesce($4::bigint, $5::bigint, 0)::text END
                       AS group_key
            FROM accounts a
            JOIN notification_kinds k ON k.kind = $2
            LEFT JOIN notification_preferences p ON p.account_id = a.actor_id AND p.kind = $2
            WHERE a.actor_id = ANY($1::bigint[]) AND a.status = 'active'
              AND a.actor_id IS DISTINCT FROM $3
              -- nothing from someone the recipient muted or blocked, or who blocked them
              AND ($3::bigint IS NULL OR """
        + hidden_from("a.actor_id", "$3::bigint")
        + """)
        ), written AS (
            INSERT INTO notifications AS n (account_id, kind, actor_id, post_id, group_id,
                                            event_id, petition_id, subject, group_key,
                                            board_item_id)
            SELECT actor_id, $2, $3, $4, $5, $6, $7, $8, group_key, $10 FROM recipient
            ON CONFLICT (account_id, group_key) WHERE read_at IS NULL AND group_key IS NOT NULL
            DO UPDATE SET count = n.count + 1, actor_id = EXCLUDED.actor_id,
                          created_at = now(), id = nextval('notifications_id_seq')
            RETURNING n.id, n.account_id, n.count
        ), mailed AS (
            INSERT INTO jobs (kind, payload)
            SELECT $9, jsonb_build_object('notification_id', w.id)
            FROM written w JOIN recipient r ON r.actor_id = w.account_id
            WHERE r.delivery = 'email' AND w.count = 1
        )
        SELECT count(*) FROM written
        """,
        list(recipient_ids),
        kind,
        actor_id,
        post_id,
        group_id,
        event_id,
        petition_id,
        subject,
        SEND_NOTIFICATION_EMAIL,
        board_item_id,
    )
    return value


_SELECT = """
    SELECT n.id, n.account_id, n.actor_id, n.post_id, n.event_id, n.petition_id, n.subject,
           n.count, n.created_at, n.read_at, n.board_item_id,
           k.kind, k.label_en, k.label_fr, k.grouped_en, k.grouped_fr, k.default_delivery,
           k.api_type,
           coalesce(nullif(a.display_name, ''),
                    '@' || a.name || coalesce('@' || a.domain, ''), '') AS actor_name,
           g.name AS group_slug, coalesce(nullif(g.display_name, ''), g.name, '') AS group_name
    FROM notifications n
    JOIN notification_kinds k ON k.kind = n.kind
    LEFT JOIN actors a ON a.id = n.actor_id
    LEFT JOIN actors g ON g.id = n.group_id
"""


# Notifications written before a mute or a block are hidden from then on (kept, not shown).
_NOT_SILENCED = f"(n.actor_id IS NULL OR {hidden_from('n.account_id', 'n.actor_id')})"


def _kind(row: Any) -> NotificationKind:
    return NotificationKind(
        kind=row["kind"],
        label_en=row["label_en"],
        label_fr=row["label_fr"],
        grouped_en=row["grouped_en"],
        grouped_fr=row["grouped_fr"],
        default_delivery=row["default_delivery"],
        api_type=row["api_type"],
    )


def _notification(row: Any) -> StoredNotification:
    return StoredNotification(
        id=row["id"],
        account_id=row["account_id"],
        kind=_kind(row),
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        post_id=row["post_id"],
        group_slug=row["group_slug"],
        group_name=row["group_name"],
        event_id=row["event_id"],
        petition_id=row["petition_id"],
        subject=row["subject"],
        count=row["count"],
        created_at=row["created_at"],
        read_at=row["read_at"],
        board_item_id=row["board_item_id"],
    )


async def list_notifications(
    conn: Connection,
    account_id: int,
    *,
    max_id: int | None = None,
    min_id: int | None = None,
    api_types: list[str] | None = None,
    limit: int = 50,
) -> list[StoredNotification]:
    """List an account's notifications, newest first; `api_types` keeps those apps see."""
    rows = await conn.fetch(
        f"""
        {_SELECT}
        WHERE n.account_id = $1 AND {_NOT_SILENCED}
          AND n.id < coalesce($2::bigint, 9223372036854775807) AND n.id > coalesce($3::bigint, 0)
          AND ($4::text[] IS NULL OR k.api_type = ANY($4::text[]))
        ORDER BY n.id DESC
        LIMIT $5
        """,
        account_id,
        max_id,
        min_id,
        api_types,
        limit,
    )
    return [_notification(r) for r in rows]


async def get_notification(conn: Connection, notification_id: int) -> StoredNotification | None:
    row = await conn.fetchrow(f"{_SELECT} WHERE n.id = $1", notification_id)
    return _notification(row) if row is not None else None


async def count_unread(conn: Connection, account_id: int) -> int:
    value: int = await conn.fetchval(
        f"""
        SELECT count(*) FROM notifications n
        WHERE n.account_id = $1 AND n.read_at IS NULL AND {_NOT_SILENCED}
        """,
        account_id,
    )
    return value


async def update_read(conn: Connection, account_id: int, notification_id: int | None) -> int:
    """Mark one notification (or, with None, all) of the account read; return how many."""
    result: str = await conn.execute(
        """
        UPDATE notifications SET read_at = now()
        WHERE account_id = $1 AND read_at IS NULL AND ($2::bigint IS NULL OR id = $2)
        """,
        account_id,
        notification_id,
    )
    return int(result.split()[-1])


async def delete_notification(conn: Connection, account_id: int, notification_id: int) -> bool:
    result: str = await conn.execute(
        "DELETE FROM notifications WHERE account_id = $1 AND id = $2", account_id, notification_id
    )
    return result.endswith(" 1")


async def delete_notifications(conn: Connection, account_id: int) -> None:
    await conn.execute("DELETE FROM notifications WHERE account_id = $1", account_id)


async def update_emailed(conn: Connection, notification_ids: list[int]) -> None:
    await conn.execute(
        "UPDATE notifications SET emailed_at = now() WHERE id = ANY($1::bigint[])",
        notification_ids,
    )


async def list_kinds(conn: Connection) -> list[NotificationKind]:
    rows = await conn.fetch("SELECT * FROM notification_kinds ORDER BY kind")
    return [_kind(r) for r in rows]


async def list_preferences(conn: Connection, account_id: int) -> dict[str, str]:
    """Return the delivery of each kind for the account: its choice, else the kind's default."""
    rows = await conn.fetch(
        """
        SELECT k.kind, coalesce(p.delivery, k.default_delivery) AS delivery
        FROM notification_kinds k
        LEFT JOIN notification_preferences p ON p.kind = k.kind AND p.account_id = $1
        """,
        account_id,
    )
    return {r["kind"]: r["delivery"] for r in rows}


async def upsert_preferences(conn: Connection, account_id: int, chosen: dict[str, str]) -> None:
    await conn.execute(
        """
        INSERT INTO notification_preferences (account_id, kind, delivery)
        SELECT $1, c.kind, c.delivery FROM unnest($2::text[], $3::text[]) AS c(kind, delivery)
        ON CONFLICT (account_id, kind) DO UPDATE SET delivery = EXCLUDED.delivery
        """,
        account_id,
        list(chosen),
        list(chosen.values()),
    )


async def list_moderator_ids(conn: Connection, group_id: int) -> list[int]:
    """Return the owners and moderators of a group."""
    rows = await conn.fetch(
        """
        SELECT actor_id FROM memberships
        WHERE group_id = $1 AND state = 'active' AND role IN ('owner', 'moderator')
        """,
        group_id,
    )
    return [r["actor_id"] for r in rows]


async def list_admin_ids(conn: Connection) -> list[int]:
    rows = await conn.fetch("SELECT actor_id FROM accounts WHERE is_admin AND status = 'active'")
    return [r["actor_id"] for r in rows]


async def list_participant_ids(conn: Connection, event_id: int) -> list[int]:
    """Return who takes part in an event or waits for a place."""
    rows = await conn.fetch(
        """
        SELECT actor_id FROM event_participants
        WHERE event_id = $1 AND state IN ('going', 'waiting')
        """,
        event_id,
    )
    return [r["actor_id"] for r in rows]


async def list_due_reminders(conn: Connection) -> list[tuple[int, str]]:
    """Claim the events starting within a day not yet reminded (at this start time)."""
    rows = await conn.fetch(
        """
        UPDATE events SET reminded_for = starts_at
        WHERE reminded_for IS DISTINCT FROM starts_at AND status <> 'cancelled'
          AND deleted_at IS NULL
          AND starts_at > now() AND starts_at <= now() + interval '1 day'
        RETURNING id, title
        """
    )
    return [(r["id"], r["title"]) for r in rows]


async def list_local_ids_by_name(conn: Connection, names: list[str]) -> list[int]:
    rows = await conn.fetch(
        """
        SELECT a.id FROM actors a JOIN accounts ac ON ac.actor_id = a.id
        WHERE lower(a.name) = ANY($1::text[]) AND a.domain IS NULL
        """,
        [n.lower() for n in names],
    )
    return [r["id"] for r in rows]


async def find_petition_at_goal(conn: Connection, petition_id: int) -> tuple[str, int] | None:
    """Return the title and group of a petition whose signatures equal its goal, exactly."""
    row = await conn.fetchrow(
        """
        SELECT p.title, p.group_id FROM petitions p
        WHERE p.id = $1
          AND p.goal = (SELECT count(*) FROM petition_signatures s WHERE s.petition_id = p.id)
        """,
        petition_id,
    )
    return (row["title"], row["group_id"]) if row is not None else None
