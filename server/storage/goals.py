"""Storage of members' goals, their follow-ups, encouragement and likes."""

from __future__ import annotations

from server.db import Connection
from server.models import Goal, GoalUpdate, RemoteGoal

_SELECT = """
    SELECT o.id, o.group_id, g.name AS group_name, o.author_id, a.name AS author_name,
           a.display_name AS author_display_name, o.title, o.body, o.body_html, o.visibility,
           o.created_at,
           (SELECT count(*) FROM goal_likes l WHERE l.goal_id = o.id) AS likes,
           (SELECT count(*) FROM goal_updates u WHERE u.goal_id = o.id) AS updates,
           o.uri, o.url, g.domain AS group_domain
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
    conn: Connection,
    *,
    goal_id: int,
    author_id: int,
    kind: str,
    content_html: str,
    uri: str | None = None,
) -> int | None:
    """Record a step of a goal; None when its remote id was already recorded."""
    update_id: int | None = await conn.fetchval(
        """
        INSERT INTO goal_updates (goal_id, author_id, kind, content_html, uri)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (uri) DO NOTHING
        RETURNING id
        """,
        goal_id,
        author_id,
        kind,
        content_html,
        uri,
    )
    return update_id


async def get_update(conn: Connection, update_id: int) -> GoalUpdate | None:
    row = await conn.fetchrow(
        """
        SELECT u.id, u.goal_id, u.author_id, a.name AS author_name,
               a.display_name AS author_display_name, u.kind, u.content_html, u.created_at
        FROM goal_updates u JOIN actors a ON a.id = u.author_id WHERE u.id = $1
        """,
        update_id,
    )
    return GoalUpdate(**dict(row)) if row else None


async def find_goal_by_uri(conn: Connection, uri: str) -> Goal | None:
    row = await conn.fetchrow(_SELECT + " WHERE o.uri = $1", uri)
    return Goal(**dict(row)) if row else None


async def upsert_remote_goal(
    conn: Connection, *, group_id: int, author_id: int, data: RemoteGoal
) -> int:
    """Insert or refresh another instance's goal by its ActivityPub id; return its id."""
    goal_id: int = await conn.fetchval(
        """
        INSERT INTO goals (uri, url, group_id, author_id, title, body_html, visibility)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (uri) DO UPDATE SET
            url = EXCLUDED.url, title = EXCLUDED.title, body_html = EXCLUDED.body_html
        RETURNING id
        """,
        data.uri,
        data.url,
        group_id,
        author_id,
        data.title,
        data.body_html,
        "public" if data.public else "members",
    )
    return goal_id


async def list_followed_goals(conn: Connection, account_id: int, *, limit: int = 30) -> list[Goal]:
    """Return other instances' goals an account may read: the public ones of groups it follows,
    and all those of the members-only groups it belongs to."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE o.uri IS NOT NULL AND (
            (o.visibility = 'public' AND o.group_id IN (
                SELECT target_id FROM follows WHERE follower_id = $1 AND state = 'accepted'))
            OR o.group_id IN (
                SELECT group_id FROM memberships WHERE actor_id = $1 AND state = 'active'))
        ORDER BY o.id DESC LIMIT $2
        """,
        account_id,
        limit,
    )
    return [Goal(**dict(r)) for r in rows]


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
