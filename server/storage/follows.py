"""Storage of follows between actors (local → remote, remote → local)."""

from __future__ import annotations

from typing import Any

from server.db import Connection
from server.models import Actor, Follow
from server.storage.actors import _COLUMNS, _actor

_QUALIFIED = ", ".join("a." + column.strip() for column in _COLUMNS.split(","))


def _follow(row: Any) -> Follow:
    return Follow(
        follower_id=row["follower_id"],
        target_id=row["target_id"],
        uri=row["uri"],
        state=row["state"],
        created_at=row["created_at"],
    )


async def upsert_follow(
    conn: Connection, follower_id: int, target_id: int, uri: str, state: str
) -> None:
    """Record a follow; a repeated Follow replaces the older one's id."""
    await conn.execute(
        """
        INSERT INTO follows (follower_id, target_id, uri, state) VALUES ($1, $2, $3, $4)
        ON CONFLICT (follower_id, target_id) DO UPDATE SET uri = EXCLUDED.uri,
            state = CASE WHEN follows.state = 'accepted' THEN 'accepted' ELSE EXCLUDED.state END
        """,
        follower_id,
        target_id,
        uri,
        state,
    )


async def get_follow(conn: Connection, follower_id: int, target_id: int) -> Follow | None:
    row = await conn.fetchrow(
        "SELECT * FROM follows WHERE follower_id = $1 AND target_id = $2", follower_id, target_id
    )
    return _follow(row) if row else None


async def find_follow_by_uri(conn: Connection, uri: str) -> Follow | None:
    row = await conn.fetchrow("SELECT * FROM follows WHERE uri = $1", uri)
    return _follow(row) if row else None


async def update_follow_state(
    conn: Connection, follower_id: int, target_id: int, state: str
) -> None:
    await conn.execute(
        "UPDATE follows SET state = $3 WHERE follower_id = $1 AND target_id = $2",
        follower_id,
        target_id,
        state,
    )


async def delete_follow(conn: Connection, follower_id: int, target_id: int) -> bool:
    result: str = await conn.execute(
        "DELETE FROM follows WHERE follower_id = $1 AND target_id = $2", follower_id, target_id
    )
    return result != "DELETE 0"


async def count_followers(conn: Connection, target_id: int) -> int:
    value: int = await conn.fetchval(
        "SELECT count(*) FROM follows WHERE target_id = $1 AND state = 'accepted'", target_id
    )
    return value


async def list_followers(
    conn: Connection, target_id: int, *, state: str = "accepted", limit: int = 100, offset: int = 0
) -> list[Actor]:
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM actors WHERE id IN (
            SELECT follower_id FROM follows WHERE target_id = $1 AND state = $2
        )
        ORDER BY id LIMIT $3 OFFSET $4
        """,
        target_id,
        state,
        limit,
        offset,
    )
    return [_actor(r) for r in rows]


async def list_following(conn: Connection, follower_id: int) -> list[tuple[Actor, str]]:
    rows = await conn.fetch(
        f"""
        SELECT {_QUALIFIED}, f.state AS follow_state FROM actors a
        JOIN follows f ON f.target_id = a.id
        WHERE f.follower_id = $1 ORDER BY f.created_at DESC
        """,
        follower_id,
    )
    result = []
    for r in rows:
        data = dict(r)
        state = data.pop("follow_state")
        result.append((_actor(data), state))
    return result


async def list_follower_inboxes(conn: Connection, target_id: int) -> list[str]:
    """Return the distinct inboxes to reach accepted remote followers (shared when offered)."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT coalesce(a.shared_inbox, a.inbox) AS inbox
        FROM follows f JOIN actors a ON a.id = f.follower_id
        WHERE f.target_id = $1 AND f.state = 'accepted' AND a.domain IS NOT NULL
          AND coalesce(a.shared_inbox, a.inbox) IS NOT NULL
        """,
        target_id,
    )
    return [r["inbox"] for r in rows]


async def has_local_follower(conn: Connection, target_id: int) -> bool:
    found = await conn.fetchval(
        """
        SELECT 1 FROM follows f JOIN actors a ON a.id = f.follower_id
        WHERE f.target_id = $1 AND a.domain IS NULL LIMIT 1
        """,
        target_id,
    )
    return found is not None


async def insert_failed_lookup(conn: Connection, account_id: int, handle: str, reason: str) -> None:
    """Record that a follow asked by an account could not be made, and why."""
    await conn.execute(
        "INSERT INTO follow_lookups (account_id, handle, reason) VALUES ($1, $2, $3)",
        account_id,
        handle[:300],
        reason,
    )


async def list_failed_lookups(
    conn: Connection, account_id: int, *, limit: int = 5
) -> list[tuple[str, str]]:
    """Return the latest (handle, reason) of follows that could not be made."""
    rows = await conn.fetch(
        """
        SELECT handle, reason FROM follow_lookups
        WHERE account_id = $1 AND failed_at > now() - interval '7 days'
        ORDER BY id DESC LIMIT $2
        """,
        account_id,
        limit,
    )
    return [(r["handle"], r["reason"]) for r in rows]


async def delete_failed_lookups(conn: Connection, account_id: int) -> None:
    await conn.execute("DELETE FROM follow_lookups WHERE account_id = $1", account_id)


async def update_rules_received(
    conn: Connection, follower_id: int, target_id: int, rules_html: str
) -> None:
    """Keep the rules a remote group sent with its answer to a request to join it."""
    await conn.execute(
        "UPDATE follows SET rules_received = $3 WHERE follower_id = $1 AND target_id = $2",
        follower_id,
        target_id,
        rules_html,
    )


async def list_rules_received(conn: Connection, follower_id: int) -> dict[int, str]:
    """Return, per followed remote group, the rules it sent to the follower."""
    rows = await conn.fetch(
        """
        SELECT target_id, rules_received FROM follows
        WHERE follower_id = $1 AND rules_received IS NOT NULL
        """,
        follower_id,
    )
    return {r["target_id"]: r["rules_received"] for r in rows}
