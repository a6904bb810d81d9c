"""Storage of members' availability to listen or meet, and of the conversations asked of them."""

from __future__ import annotations

from datetime import datetime

from server.db import Connection
from server.models import Availability, ConversationRequest, Member

_SELECT = """
    SELECT v.id, v.group_id, v.actor_id, a.name, a.display_name, v.kind, v.until, v.weekday,
           v.start_minute, v.end_minute, v.timezone, v.note
    FROM availabilities v JOIN actors a ON a.id = v.actor_id
"""


async def insert_availability(
    conn: Connection,
    *,
    group_id: int,
    actor_id: int,
    kind: str,
    note: str,
    timezone: str,
    until: datetime | None = None,
    weekday: int | None = None,
    start_minute: int | None = None,
    end_minute: int | None = None,
) -> int:
    availability_id: int = await conn.fetchval(
        """
        INSERT INTO availabilities (group_id, actor_id, kind, note, timezone, until, weekday,
                                    start_minute, end_minute)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING id
        """,
        group_id,
        actor_id,
        kind,
        note,
        timezone,
        until,
        weekday,
        start_minute,
        end_minute,
    )
    return availability_id


async def delete_available_now(conn: Connection, group_id: int, actor_id: int) -> None:
    """Forget a member's "available now" in a group (a new one replaces it)."""
    await conn.execute(
        "DELETE FROM availabilities WHERE group_id = $1 AND actor_id = $2 AND kind = 'now'",
        group_id,
        actor_id,
    )


async def delete_availability(conn: Connection, availability_id: int, actor_id: int) -> bool:
    result: str = await conn.execute(
        "DELETE FROM availabilities WHERE id = $1 AND actor_id = $2", availability_id, actor_id
    )
    return result.endswith(" 1")


async def list_group_availabilities(conn: Connection, group_id: int) -> list[Availability]:
    """Return the windows of a group's active members, past "available now" ones left out."""
    rows = await conn.fetch(
        _SELECT
        + """
        JOIN memberships m ON m.group_id = v.group_id AND m.actor_id = v.actor_id
        WHERE v.group_id = $1 AND m.state = 'active' AND (v.kind = 'weekly' OR v.until > now())
        ORDER BY v.id
        """,
        group_id,
    )
    return [Availability(**dict(r)) for r in rows]


async def insert_conversation_request(
    conn: Connection,
    *,
    group_id: int,
    from_id: int,
    to_id: int,
    message: str,
    uri: str | None = None,
) -> int | None:
    """Record a request; None when its remote id was already recorded."""
    request_id: int | None = await conn.fetchval(
        """
        INSERT INTO conversation_requests (group_id, from_id, to_id, message, uri)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (uri) DO NOTHING
        RETURNING id
        """,
        group_id,
        from_id,
        to_id,
        message,
        uri,
    )
    return request_id


_REQUESTS = """
    SELECT c.id, c.group_id, c.from_id, a.name AS from_name,
           a.display_name AS from_display_name, c.message, c.created_at,
           a.domain AS from_domain, c.to_id
    FROM conversation_requests c JOIN actors a ON a.id = c.from_id
"""


async def list_conversation_requests(
    conn: Connection, group_id: int, to_id: int, *, limit: int = 20
) -> list[ConversationRequest]:
    rows = await conn.fetch(
        _REQUESTS
        + """
        WHERE c.group_id = $1 AND c.to_id = $2
        ORDER BY c.id DESC LIMIT $3
        """,
        group_id,
        to_id,
        limit,
    )
    return [ConversationRequest(**dict(r)) for r in rows]


async def get_conversation_request(conn: Connection, request_id: int) -> ConversationRequest | None:
    row = await conn.fetchrow(_REQUESTS + " WHERE c.id = $1", request_id)
    return ConversationRequest(**dict(row)) if row else None


async def list_remote_members(conn: Connection, group_id: int) -> list[Member]:
    """Return the group's active members who live on other instances, by name."""
    rows = await conn.fetch(
        """
        SELECT m.actor_id, a.name, a.domain, a.display_name, a.avatar, m.role, m.state,
               m.created_at AS joined_at
        FROM memberships m JOIN actors a ON a.id = m.actor_id
        WHERE m.group_id = $1 AND m.state = 'active' AND a.domain IS NOT NULL
        ORDER BY a.name, a.domain LIMIT 200
        """,
        group_id,
    )
    return [Member(**dict(r)) for r in rows]


async def is_follower_or_member(conn: Connection, group_id: int, actor_id: int) -> bool:
    """Tell whether a person here follows a remote group (accepted) or belongs to it."""
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM follows WHERE target_id = $1 AND follower_id = $2
                                                   AND state = 'accepted')
            OR EXISTS (SELECT 1 FROM memberships WHERE group_id = $1 AND actor_id = $2
                                                       AND state = 'active')
        """,
        group_id,
        actor_id,
    )
    return found
