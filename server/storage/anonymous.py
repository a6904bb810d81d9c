"""Storage of anonymous posts: who wrote them, and those waiting for a moderator."""

from __future__ import annotations

from server.db import Connection


async def insert_anonymous_post(
    conn: Connection,
    *,
    group_id: int,
    author_id: int,
    content: str,
    content_warning: str,
    post_id: int | None,
) -> int:
    """Keep who wrote an anonymous post (published: `post_id`; waiting: its text)."""
    anonymous_id: int = await conn.fetchval(
        """
        INSERT INTO anonymous_posts (group_id, author_id, content, content_warning, post_id,
                                     state)
        VALUES ($1, $2, $3, $4, $5, CASE WHEN $5::bigint IS NULL THEN 'pending'
                                         ELSE 'published' END)
        RETURNING id
        """,
        group_id,
        author_id,
        content,
        content_warning,
        post_id,
    )
    return anonymous_id


async def list_pending(conn: Connection, group_id: int) -> list[tuple[int, str, str]]:
    """Return (id, text, content warning) of anonymous posts waiting; never their author."""
    rows = await conn.fetch(
        """
        SELECT id, content, content_warning FROM anonymous_posts
        WHERE group_id = $1 AND state = 'pending' ORDER BY id
        """,
        group_id,
    )
    return [(r["id"], r["content"], r["content_warning"]) for r in rows]


async def get_pending(conn: Connection, anonymous_id: int, group_id: int) -> tuple[str, str] | None:
    row = await conn.fetchrow(
        """
        SELECT content, content_warning FROM anonymous_posts
        WHERE id = $1 AND group_id = $2 AND state = 'pending'
        FOR UPDATE
        """,
        anonymous_id,
        group_id,
    )
    return (row["content"], row["content_warning"]) if row else None


async def update_published(conn: Connection, anonymous_id: int, post_id: int | None) -> None:
    """Mark a waiting post published (with its post) or rejected (None); its text goes."""
    await conn.execute(
        """
        UPDATE anonymous_posts SET post_id = $2, content = '', content_warning = '',
               state = CASE WHEN $2::bigint IS NULL THEN 'rejected' ELSE 'published' END
        WHERE id = $1
        """,
        anonymous_id,
        post_id,
    )


async def find_author(conn: Connection, post_id: int) -> str | None:
    """Return the handle of an anonymous post's author ('' if the account is gone)."""
    row = await conn.fetchrow(
        """
        SELECT coalesce(a.name || coalesce('@' || a.domain, ''), '') AS handle
        FROM anonymous_posts p LEFT JOIN actors a ON a.id = p.author_id
        WHERE p.post_id = $1
        """,
        post_id,
    )
    return str(row["handle"]) if row else None


async def update_anonymous_setting(conn: Connection, group_id: int, value: str) -> None:
    await conn.execute(
        "UPDATE groups SET anonymous_posts = $2 WHERE actor_id = $1", group_id, value
    )
