"""Storage of a person's data export: their posts, memberships and follows, as plain rows."""

from __future__ import annotations

from typing import Any

from server.db import Connection


async def list_own_posts(conn: Connection, actor_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT p.id, g.name AS group_name, p.content, p.content_warning, p.in_reply_to_id,
               p.created_at, p.updated_at, p.deleted_at IS NOT NULL AS deleted
        FROM posts p LEFT JOIN actors g ON g.id = p.group_id
        WHERE p.author_id = $1 ORDER BY p.id
        """,
        actor_id,
    )
    return [dict(r) for r in rows]


async def list_own_memberships(conn: Connection, actor_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT g.name AS group_name, g.domain, m.role, m.state, m.created_at
        FROM memberships m JOIN actors g ON g.id = m.group_id
        WHERE m.actor_id = $1 ORDER BY m.created_at
        """,
        actor_id,
    )
    return [dict(r) for r in rows]


async def list_own_follows(conn: Connection, actor_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT coalesce(t.uri, t.name) AS target, t.domain, f.state, f.created_at
        FROM follows f JOIN actors t ON t.id = f.target_id
        WHERE f.follower_id = $1 ORDER BY f.created_at
        """,
        actor_id,
    )
    return [dict(r) for r in rows]
