"""Storage of events and of the people who take part in them (going, waiting, pending)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.db import Connection
from server.models import Event, Participant

_COLUMNS = """
    SELECT e.id, e.uri, e.url, e.group_id, g.name AS group_name, g.domain AS group_domain,
           g.display_name AS group_display_name, e.organizer_id, o.name AS organizer_name,
           o.domain AS organizer_domain, e.title, e.description, e.description_html,
           e.starts_at, e.ends_at, e.timezone, e.all_day, e.place_name, e.street_address,
           e.postal_code, e.locality, e.country, e.latitude, e.longitude, e.online_url,
           e.category, e.status, e.visibility, e.capacity, e.join_mode, e.external_url,
           e.question, e.show_participants, e.picture, e.picture_alt,
           e.remote_participant_count, e.sequence,
           e.created_at, e.updated_at, e.deleted_at,
"""
_FROM = """
    FROM events e
    JOIN actors g ON g.id = e.group_id
    JOIN actors o ON o.id = e.organizer_id
"""
_SELECT = (
    _COLUMNS
    + """
           (SELECT count(*) FROM event_participants p
            WHERE p.event_id = e.id AND p.state = 'going') AS going_count,
           (SELECT count(*) FROM event_participants p
            WHERE p.event_id = e.id AND p.state = 'waiting') AS waiting_count,
           (SELECT count(*) FROM event_participants p
            WHERE p.event_id = e.id AND p.state = 'pending') AS pending_count
"""
    + _FROM
)
# Calendars show no counts: 1,000 events need not 3,000 subqueries.
_SELECT_WITHOUT_COUNTS = (
    _COLUMNS
    + " 0::bigint AS going_count, 0::bigint AS waiting_count, 0::bigint AS pending_count"
    + _FROM
)

# The columns a service writes, in this order, from a dict of the same keys.
FIELDS = (
    "title", "description", "description_html", "starts_at", "ends_at", "timezone", "all_day",
    "place_name", "street_address", "postal_code", "locality", "country", "latitude",
    "longitude", "online_url", "category", "status", "visibility", "capacity", "join_mode",
    "external_url", "question", "show_participants",
)  # fmt: skip


def _event(row: Any) -> Event:
    return Event(**dict(row))


def _participant(row: Any) -> Participant:
    return Participant(**dict(row))


async def insert_event(
    conn: Connection, *, group_id: int, organizer_id: int, values: dict[str, Any]
) -> int:
    columns = ", ".join(FIELDS)
    params = ", ".join(f"${i}" for i in range(3, len(FIELDS) + 3))
    event_id: int = await conn.fetchval(
        f"""
        INSERT INTO events (group_id, organizer_id, {columns})
        VALUES ($1, $2, {params})
        RETURNING id
        """,
        group_id,
        organizer_id,
        *(values[f] for f in FIELDS),
    )
    return event_id


async def update_event(conn: Connection, event_id: int, values: dict[str, Any]) -> None:
    """Write an event's fields and count one more change (iCalendar SEQUENCE)."""
    assignments = ", ".join(f"{f} = ${i}" for i, f in enumerate(FIELDS, start=2))
    await conn.execute(
        f"""
        UPDATE events SET {assignments}, sequence = sequence + 1, updated_at = now()
        WHERE id = $1
        """,
        event_id,
        *(values[f] for f in FIELDS),
    )


async def update_event_picture(conn: Connection, event_id: int, name: str, alt: str) -> None:
    await conn.execute(
        "UPDATE events SET picture = $2, picture_alt = $3 WHERE id = $1", event_id, name, alt
    )


async def update_event_status(conn: Connection, event_id: int, status: str) -> None:
    await conn.execute(
        """
        UPDATE events SET status = $2, sequence = sequence + 1, updated_at = now()
        WHERE id = $1
        """,
        event_id,
        status,
    )


async def delete_event(conn: Connection, event_id: int) -> None:
    """Turn an event into a tombstone: its id stays known (410), its content is erased."""
    await conn.execute(
        """
        UPDATE events SET description = '', description_html = '', street_address = '',
                          online_url = '', question = '', deleted_at = now(),
                          sequence = sequence + 1
        WHERE id = $1
        """,
        event_id,
    )
    await conn.execute("DELETE FROM event_participants WHERE event_id = $1", event_id)


async def get_event(
    conn: Connection, event_id: int, *, include_deleted: bool = False, lock: bool = False
) -> Event | None:
    """Return an event (a tombstone too when asked); `lock` holds its row till the commit."""
    if lock:
        # Joins and leaves of one event wait for each other: capacity is never overshot.
        await conn.execute("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", event_id)
    row = await conn.fetchrow(
        _SELECT + " WHERE e.id = $1 AND ($2 OR e.deleted_at IS NULL)", event_id, include_deleted
    )
    return _event(row) if row else None


async def find_event_by_uri(conn: Connection, uri: str) -> Event | None:
    row = await conn.fetchrow(_SELECT + " WHERE e.uri = $1", uri)
    return _event(row) if row else None


async def list_group_events(
    conn: Connection, group_id: int, *, upcoming: bool, now: datetime, limit: int
) -> list[Event]:
    """Return a group's upcoming events (soonest first) or past ones (latest first)."""
    order = "ASC" if upcoming else "DESC"
    condition = "e.ends_at >= $2" if upcoming else "e.ends_at < $2"
    rows = await conn.fetch(
        _SELECT
        + f"""
        WHERE e.group_id = $1 AND e.deleted_at IS NULL AND {condition}
        ORDER BY e.starts_at {order}, e.id LIMIT $3
        """,
        group_id,
        now,
        limit,
    )
    return [_event(r) for r in rows]


async def list_public_events(conn: Connection, *, now: datetime, limit: int) -> list[Event]:
    """Return upcoming public events of the instance's public groups, soonest first."""
    rows = await conn.fetch(
        _SELECT
        + """
        JOIN groups gr ON gr.actor_id = e.group_id
        WHERE e.deleted_at IS NULL AND e.ends_at >= $1 AND e.visibility = 'public'
          AND gr.visibility = 'public' AND e.uri IS NULL
        ORDER BY e.starts_at, e.id LIMIT $2
        """,
        now,
        limit,
    )
    return [_event(r) for r in rows]


async def list_account_agenda(
    conn: Connection, actor_id: int, *, now: datetime, limit: int
) -> list[Event]:
    """Return upcoming events of the groups an account belongs to or follows, or takes part in."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE e.deleted_at IS NULL AND e.ends_at >= $2 AND (
            e.group_id IN (SELECT group_id FROM memberships
                           WHERE actor_id = $1 AND state = 'active')
            OR (e.visibility = 'public' AND e.group_id IN (
                SELECT target_id FROM follows WHERE follower_id = $1 AND state = 'accepted'))
            OR e.id IN (SELECT event_id FROM event_participants WHERE actor_id = $1))
        ORDER BY e.starts_at, e.id LIMIT $3
        """,
        actor_id,
        now,
        limit,
    )
    return [_event(r) for r in rows]


async def list_calendar_events(conn: Connection, group_id: int, *, limit: int) -> list[Event]:
    """Return a group's events for its calendar feed, cancelled ones included, newest first.

    Their participation counts are left at 0: calendars do not show them.
    """
    rows = await conn.fetch(
        _SELECT_WITHOUT_COUNTS
        + """
        WHERE e.group_id = $1 AND e.deleted_at IS NULL
        ORDER BY e.starts_at DESC, e.id LIMIT $2
        """,
        group_id,
        limit,
    )
    return [_event(r) for r in rows]


async def get_calendar_version(conn: Connection, group_id: int) -> tuple[object, ...]:
    """Return what changes whenever a group's calendar does: every change raises a SEQUENCE."""
    row = await conn.fetchrow(
        """
        SELECT count(*) AS n, max(id) AS last_id, sum(sequence) AS changes,
               max(coalesce(updated_at, created_at)) AS last_change
        FROM events WHERE group_id = $1 AND deleted_at IS NULL
        """,
        group_id,
    )
    return (row["n"], row["last_id"], row["changes"], row["last_change"])


async def upsert_remote_event(
    conn: Connection,
    *,
    uri: str,
    url: str | None,
    group_id: int,
    organizer_id: int,
    values: dict[str, Any],
    participant_count: int | None,
) -> tuple[int, bool]:
    """Insert or refresh an event received from a peer; return (id, inserted)."""
    columns = ", ".join(FIELDS)
    params = ", ".join(f"${i}" for i in range(6, len(FIELDS) + 6))
    updates = ", ".join(f"{f} = EXCLUDED.{f}" for f in FIELDS)
    row = await conn.fetchrow(
        f"""
        INSERT INTO events (uri, url, group_id, organizer_id, remote_participant_count,
                            {columns})
        VALUES ($1, $2, $3, $4, $5, {params})
        ON CONFLICT (uri) DO UPDATE SET url = EXCLUDED.url,
            remote_participant_count = EXCLUDED.remote_participant_count, {updates},
            sequence = events.sequence + 1, updated_at = now()
        WHERE events.deleted_at IS NULL
        RETURNING id, xmax = 0 AS inserted
        """,
        uri,
        url,
        group_id,
        organizer_id,
        participant_count,
        *(values[f] for f in FIELDS),
    )
    if row is None:
        raise LookupError(uri)  # a deleted event is not brought back
    return row["id"], row["inserted"]


_PARTICIPANT = """
    SELECT p.id, p.event_id, p.actor_id, a.name, a.domain, a.display_name, a.uri, p.state,
           p.message, p.join_uri, p.promoted_at, p.created_at
    FROM event_participants p JOIN actors a ON a.id = p.actor_id
"""


async def insert_participant(
    conn: Connection,
    event_id: int,
    actor_id: int,
    *,
    state: str,
    message: str,
    join_uri: str | None,
) -> int | None:
    """Add a participation; None when this person already has one for the event."""
    participant_id: int | None = await conn.fetchval(
        """
        INSERT INTO event_participants (event_id, actor_id, state, message, join_uri)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT DO NOTHING
        RETURNING id
        """,
        event_id,
        actor_id,
        state,
        message,
        join_uri,
    )
    return participant_id


async def get_participant(conn: Connection, participant_id: int) -> Participant | None:
    row = await conn.fetchrow(_PARTICIPANT + " WHERE p.id = $1", participant_id)
    return _participant(row) if row else None


async def find_participant(conn: Connection, event_id: int, actor_id: int) -> Participant | None:
    row = await conn.fetchrow(
        _PARTICIPANT + " WHERE p.event_id = $1 AND p.actor_id = $2", event_id, actor_id
    )
    return _participant(row) if row else None


async def find_participant_by_join_uri(conn: Connection, join_uri: str) -> Participant | None:
    row = await conn.fetchrow(_PARTICIPANT + " WHERE p.join_uri = $1", join_uri)
    return _participant(row) if row else None


async def update_participant_state(conn: Connection, participant_id: int, state: str) -> None:
    await conn.execute(
        "UPDATE event_participants SET state = $2 WHERE id = $1", participant_id, state
    )


async def delete_participant(conn: Connection, participant_id: int) -> None:
    await conn.execute("DELETE FROM event_participants WHERE id = $1", participant_id)


async def promote_waiting(conn: Connection, event_id: int, places: int) -> list[Participant]:
    """Move the first `places` people of the waiting list up, in order of arrival."""
    rows = await conn.fetch(
        """
        UPDATE event_participants SET state = 'going', promoted_at = now()
        WHERE id IN (
            SELECT id FROM event_participants
            WHERE event_id = $1 AND state = 'waiting'
            ORDER BY id LIMIT $2
        )
        RETURNING id
        """,
        event_id,
        places,
    )
    ids = [r["id"] for r in rows]
    found = await conn.fetch(_PARTICIPANT + " WHERE p.id = ANY($1::bigint[]) ORDER BY p.id", ids)
    return [_participant(r) for r in found]


async def list_participants(
    conn: Connection, event_id: int, *, states: tuple[str, ...]
) -> list[Participant]:
    """Return participations in these states, in order of arrival."""
    rows = await conn.fetch(
        _PARTICIPANT + " WHERE p.event_id = $1 AND p.state = ANY($2::text[]) ORDER BY p.id",
        event_id,
        list(states),
    )
    return [_participant(r) for r in rows]


async def list_participant_inboxes(conn: Connection, event_id: int) -> list[str]:
    """Return the inboxes of an event's remote participants (shared when offered)."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT coalesce(a.shared_inbox, a.inbox) AS inbox
        FROM event_participants p JOIN actors a ON a.id = p.actor_id
        WHERE p.event_id = $1 AND a.domain IS NOT NULL
          AND coalesce(a.shared_inbox, a.inbox) IS NOT NULL
        """,
        event_id,
    )
    return [r["inbox"] for r in rows]
