"""Storage of members' goals, their follow-ups, encouragement and likes."""

from __future__ import annotations

from server.db import Connection
from server.models import Goal, GoalUpdate

_SELECT = """
    SELECT o.id, o.group_id, g.name AS group_name, o.author_id, a.name AS author_name,
           a.display_name AS author_display_name, o.title, o.body, o.body_html, o.visibility,
           o.created_at,
           (SELECT count(*) FROM goal_likes l WHERE l.goal_id = o.id) AS likes,
           (SELECT count(*) FROM goal_updates u WHERE u.goal_id = o.id) AS updates
    FROM goals o
    JOIN actors g ON g.id = o.group_id
    JOIN actors a ON a.id = o.author_id
"""


async def insert_goal(
    conn: Connection,
    *,
    group_id: int,
    author_id: int,
    title: str,
    body: str,
    body_html: str,
    visibility: str,
) -> int:
    goal_id: int = await conn.fetchval(
        """
        INSERT INTO goals (group_id, author_id, title, body, body_html, visibility)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
        """,
        group_id,
        author_id,
        title,
        body,
        body_html,
        visibility,
    )
    return goal_id


async def get_goal(conn: Connection, goal_id: int) -> Goal | None:
    row = await conn.fetchrow(_SELECT + " WHERE o.id = $1", goal_id)
    return Goal(**dict(row)) if row else None


async def list_goals(
    conn: Connection, group_id: int, *, members_only_too: bool, limit: int = 50
) -> list[Goal]:
    rows = await conn.fetch(
        _SELECT
        + " WHERE o.group_id = $1 AND (o.visibility = 'public' OR $2) ORDER BY o.id DESC LIMIT $3",
        group_id,
        members_only_too,
        limit,
    )
    return [Goal(**dict(r)) for r in rows]


async def insert_update(
    conn: Connection, *, goal_id: int, author_id: int, kind: str, content_html: str
) -> int:
    update_id: int = await conn.fetchval(
        """
        INSERT INTO goal_updates (goal_id, author_id, kind, content_html)
        VALUES ($1, $2, $3, $4) RETURNING id
        """,
        goal_id,
        author_id,
        kind,
        content_html,
    )
    return update_id


async def list_updates(conn: Connection, goal_id: int) -> list[GoalUpdate]:
    rows = await conn.fetch(
        """
        SELECT u.id, u.goal_id, u.author_id, a.name AS author_name,
               a.display_name AS author_display_name, u.kind, u.content_html, u.created_at
        FROM goal_updates u JOIN actors a ON a.id = u.author_id
        WHERE u.goal_id = $1 ORDER BY u.id
        """,
        goal_id,
    )
    return [GoalUpdate(**dict(r)) for r in rows]


async def insert_like(conn: Connection, goal_id: int, actor_id: int) -> bool:
    result: str = await conn.execute(
        "INSERT INTO goal_likes (goal_id, actor_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        goal_id,
        actor_id,
    )
    return result.endswith(" 1")


async def delete_like(conn: Connection, goal_id: int, actor_id: int) -> bool:
    result: str = await conn.execute(
        "DELETE FROM goal_likes WHERE goal_id = $1 AND actor_id = $2", goal_id, actor_id
    )
    return result.endswith(" 1")


async def has_liked(conn: Connection, goal_id: int, actor_id: int) -> bool:
    value: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM goal_likes WHERE goal_id = $1 AND actor_id = $2)",
        goal_id,
        actor_id,
    )
    return value
