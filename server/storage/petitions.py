"""Storage of petitions, their signatures and the history of their status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.db import Connection
from server.models import Petition, RemotePetition, Signature, StatusChange

# A local petition counts its signature rows; a remote one shows what its origin announced.
_SELECT = """
    SELECT p.id, p.uri, p.url, p.group_id, g.name AS group_name, g.domain AS group_domain,
           g.display_name AS group_display_name, p.author_id, p.title, p.body, p.body_html,
           p.addressee, p.goal, p.deadline, p.status, p.status_note, p.option_name,
           p.created_at, p.updated_at,
           CASE WHEN p.uri IS NULL
                THEN (SELECT count(*) FROM petition_signatures s WHERE s.petition_id = p.id)
                ELSE p.remote_count END AS signature_count,
           p.status = 'open' AND (p.deadline IS NULL OR p.deadline > now()) AS is_open
    FROM petitions p
    JOIN actors g ON g.id = p.group_id
"""


def _petition(row: Any) -> Petition:
    return Petition(**dict(row))


async def insert_petition(
    conn: Connection,
    *,
    group_id: int,
    author_id: int,
    title: str,
    body: str,
    body_html: str,
    addressee: str,
    goal: int,
    deadline: datetime | None,
    option_name: str,
) -> int:
    petition_id: int = await conn.fetchval(
        """
        INSERT INTO petitions (group_id, author_id, title, body, body_html, addressee, goal,
                               deadline, option_name)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING id
        """,
        group_id,
        author_id,
        title,
        body,
        body_html,
        addressee,
        goal,
        deadline,
        option_name,
    )
    return petition_id


async def get_petition(conn: Connection, petition_id: int) -> Petition | None:
    row = await conn.fetchrow(_SELECT + " WHERE p.id = $1", petition_id)
    return _petition(row) if row else None


async def find_petition_by_uri(conn: Connection, uri: str) -> Petition | None:
    row = await conn.fetchrow(_SELECT + " WHERE p.uri = $1", uri)
    return _petition(row) if row else None


async def get_petition_for_update(conn: Connection, petition_id: int) -> Petition | None:
    """Return a petition with its row locked until the transaction ends (status races)."""
    await conn.execute("SELECT 1 FROM petitions WHERE id = $1 FOR UPDATE", petition_id)
    return await get_petition(conn, petition_id)


async def list_group_petitions(
    conn: Connection, group_id: int, *, limit: int = 50
) -> list[Petition]:
    """Return a group's petitions, open ones first, newest first."""
    rows = await conn.fetch(
        "SELECT * FROM (" + _SELECT + " WHERE p.group_id = $1) q"
        " ORDER BY q.is_open DESC, q.id DESC LIMIT $2",
        group_id,
        limit,
    )
    return [_petition(r) for r in rows]


async def list_followed_petitions(
    conn: Connection, follower_id: int, *, limit: int = 20
) -> list[Petition]:
    """Return the open petitions of remote groups an account follows, newest first."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE p.uri IS NOT NULL AND p.status = 'open'
          AND p.group_id IN (SELECT target_id FROM follows WHERE follower_id = $1
                             AND state = 'accepted')
        ORDER BY p.id DESC LIMIT $2
        """,
        follower_id,
        limit,
    )
    return [_petition(r) for r in rows]


async def update_petition_status(
    conn: Connection, petition_id: int, *, status: str, note: str
) -> None:
    await conn.execute(
        """
        UPDATE petitions SET status = $2, status_note = $3, updated_at = now() WHERE id = $1
        """,
        petition_id,
        status,
        note,
    )
    await conn.execute(
        "INSERT INTO petition_status_changes (petition_id, status, note) VALUES ($1, $2, $3)",
        petition_id,
        status,
        note,
    )


async def list_status_changes(conn: Connection, petition_id: int) -> list[StatusChange]:
    rows = await conn.fetch(
        """
        SELECT status, note, created_at FROM petition_status_changes
        WHERE petition_id = $1 ORDER BY id DESC
        """,
        petition_id,
    )
    return [StatusChange(**dict(r)) for r in rows]


async def insert_signature(
    conn: Connection, petition_id: int, actor_id: int, *, public: bool, uri: str | None
) -> bool:
    """Record a signature; False when this actor (or this vote id) already signed."""
    result: str = await conn.execute(
        """
        INSERT INTO petition_signatures (petition_id, actor_id, public, uri)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT DO NOTHING
        """,
        petition_id,
        actor_id,
        public,
        uri,
    )
    return result.endswith(" 1")


async def delete_signature(conn: Connection, petition_id: int, actor_id: int) -> str | None:
    """Remove a signature; return its vote id ('' when it had none), None when there was none."""
    row = await conn.fetchrow(
        """
        DELETE FROM petition_signatures WHERE petition_id = $1 AND actor_id = $2
        RETURNING coalesce(uri, '') AS uri
        """,
        petition_id,
        actor_id,
    )
    return str(row["uri"]) if row else None


async def delete_signature_by_uri(conn: Connection, uri: str, actor_id: int) -> int | None:
    """Remove the signature made by a vote, if this actor made it; return its petition id."""
    value: int | None = await conn.fetchval(
        """
        DELETE FROM petition_signatures WHERE uri = $1 AND actor_id = $2 RETURNING petition_id
        """,
        uri,
        actor_id,
    )
    return value


async def get_signature(conn: Connection, petition_id: int, actor_id: int) -> Signature | None:
    row = await conn.fetchrow(
        _SIGNATURES + " WHERE s.petition_id = $1 AND s.actor_id = $2", petition_id, actor_id
    )
    return Signature(**dict(row)) if row else None


_SIGNATURES = """
    SELECT s.actor_id, a.name, a.domain, a.display_name, s.public, s.created_at
    FROM petition_signatures s JOIN actors a ON a.id = s.actor_id
"""


async def list_signatures(
    conn: Connection, petition_id: int, *, public_only: bool, limit: int | None = None
) -> list[Signature]:
    """Return the signatures, oldest first; only those whose signer chose so, when asked."""
    rows = await conn.fetch(
        _SIGNATURES
        + " WHERE s.petition_id = $1 AND (s.public OR NOT $2) ORDER BY s.created_at, s.actor_id"
        + " LIMIT $3",
        petition_id,
        public_only,
        limit,
    )
    return [Signature(**dict(r)) for r in rows]


async def list_signer_inboxes(conn: Connection, petition_id: int) -> list[str]:
    """Return the distinct inboxes of the remote signers (they see the count in their poll)."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT coalesce(a.shared_inbox, a.inbox) AS inbox
        FROM petition_signatures s JOIN actors a ON a.id = s.actor_id
        WHERE s.petition_id = $1 AND a.domain IS NOT NULL
          AND coalesce(a.shared_inbox, a.inbox) IS NOT NULL
        """,
        petition_id,
    )
    return [r["inbox"] for r in rows]


async def mark_count_update_due(
    conn: Connection, petition_id: int, interval_seconds: float
) -> datetime | None:
    """Flag a count update as due; return when to send it, or None if one is already due.

    Only the first signature after an update flips the flag (and so queues one job); the job
    runs no sooner than `interval_seconds` after the previous update was sent.
    """
    value: datetime | None = await conn.fetchval(
        """
        UPDATE petitions SET count_update_due = true
        WHERE id = $1 AND NOT count_update_due AND uri IS NULL
        RETURNING greatest(now(), count_sent_at + make_interval(secs => $2))
        """,
        petition_id,
        interval_seconds,
    )
    return value


async def take_count_update(conn: Connection, petition_id: int) -> None:
    """Clear the due flag as the update is sent; later signatures flag the next one."""
    await conn.execute(
        "UPDATE petitions SET count_update_due = false, count_sent_at = now() WHERE id = $1",
        petition_id,
    )


async def upsert_remote_petition(conn: Connection, group_id: int, data: RemotePetition) -> int:
    """Insert or refresh a remote group's petition; return its id here."""
    petition_id: int = await conn.fetchval(
        """
        INSERT INTO petitions (uri, url, group_id, title, body_html, addressee, goal, deadline,
                               status, status_note, option_name, remote_count)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (uri) DO UPDATE SET
            url = EXCLUDED.url, title = EXCLUDED.title, body_html = EXCLUDED.body_html,
            addressee = EXCLUDED.addressee, goal = EXCLUDED.goal, deadline = EXCLUDED.deadline,
            status = EXCLUDED.status, status_note = EXCLUDED.status_note,
            option_name = EXCLUDED.option_name, remote_count = EXCLUDED.remote_count,
            updated_at = now()
        WHERE petitions.group_id = EXCLUDED.group_id
        RETURNING id
        """,
        data.uri,
        data.url,
        group_id,
        data.title,
        data.body_html,
        data.addressee,
        data.goal,
        data.deadline,
        data.status,
        data.status_note,
        data.option_name,
        data.count,
    )
    return petition_id
