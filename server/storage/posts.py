"""Storage of posts in groups."""

from __future__ import annotations

from typing import Any

from server.db import Connection
from server.models import Post

_SELECT = """
    SELECT p.id, p.group_id, g.name AS group_slug, p.author_id, a.name AS author_name,
           a.domain AS author_domain, a.display_name AS author_display_name,
           a.avatar AS author_avatar, p.content, p.content_html, p.content_warning,
           p.in_reply_to_id, p.created_at, p.updated_at
    FROM posts p
    JOIN actors a ON a.id = p.author_id
    JOIN actors g ON g.id = p.group_id
"""


def _post(row: Any) -> Post:
    return Post(
        id=row["id"],
        group_id=row["group_id"],
        group_slug=row["group_slug"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        author_domain=row["author_domain"],
        author_display_name=row["author_display_name"],
        author_avatar=row["author_avatar"],
        content=row["content"],
        content_html=row["content_html"],
        content_warning=row["content_warning"],
        in_reply_to_id=row["in_reply_to_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def insert_post(
    conn: Connection,
    *,
    group_id: int,
    author_id: int,
    content: str,
    content_html: str,
    content_warning: str,
    in_reply_to_id: int | None = None,
) -> int:
    post_id: int = await conn.fetchval(
        """
        INSERT INTO posts (group_id, author_id, content, content_html, content_warning,
                           in_reply_to_id)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING id
        """,
        group_id,
        author_id,
        content,
        content_html,
        content_warning,
        in_reply_to_id,
    )
    return post_id


async def get_post(conn: Connection, post_id: int) -> Post | None:
    """Return a live post (not a tombstone)."""
    row = await conn.fetchrow(_SELECT + " WHERE p.id = $1 AND p.deleted_at IS NULL", post_id)
    return _post(row) if row else None


async def update_post(
    conn: Connection, post_id: int, *, content: str, content_html: str, content_warning: str
) -> None:
    await conn.execute(
        """
        UPDATE posts SET content = $2, content_html = $3, content_warning = $4, updated_at = now()
        WHERE id = $1
        """,
        post_id,
        content,
        content_html,
        content_warning,
    )


async def delete_post(conn: Connection, post_id: int) -> None:
    """Turn a post into a tombstone: its id stays known, its words are erased."""
    await conn.execute(
        """
        UPDATE posts SET content = '', content_html = '', content_warning = '',
                         deleted_at = now()
        WHERE id = $1
        """,
        post_id,
    )


async def list_group_posts(
    conn: Connection, group_id: int, *, before_id: int | None, limit: int
) -> list[Post]:
    """Return top-level posts of a group, newest first, older than `before_id` if given."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE p.group_id = $1 AND p.deleted_at IS NULL AND p.in_reply_to_id IS NULL
          AND ($2::bigint IS NULL OR p.id < $2)
        ORDER BY p.id DESC
        LIMIT $3
        """,
        group_id,
        before_id,
        limit,
    )
    return [_post(r) for r in rows]


async def list_replies(conn: Connection, post_id: int) -> list[Post]:
    rows = await conn.fetch(
        _SELECT + " WHERE p.in_reply_to_id = $1 AND p.deleted_at IS NULL ORDER BY p.id",
        post_id,
    )
    return [_post(r) for r in rows]


async def count_local_posts(conn: Connection) -> int:
    value: int = await conn.fetchval(
        "SELECT count(*) FROM posts WHERE uri IS NULL AND deleted_at IS NULL"
    )
    return value
