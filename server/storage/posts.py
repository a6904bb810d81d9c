"""Storage of posts in groups."""

from __future__ import annotations

import json
from typing import Any

from server.db import Connection
from server.models import Attachment, Post
from server.storage.muting import hidden_from

_SELECT = """
    SELECT p.id, p.group_id, g.name AS group_slug, p.author_id, a.name AS author_name,
           a.domain AS author_domain, a.display_name AS author_display_name,
           a.avatar AS author_avatar, p.content, p.content_html, p.content_warning,
           p.in_reply_to_id, p.created_at, p.updated_at, p.uri, p.url,
           (SELECT count(*) FROM likes l WHERE l.post_id = p.id) AS like_count, p.event_id,
           (SELECT count(*) FROM posts r
            WHERE r.in_reply_to_id = p.id AND r.deleted_at IS NULL) AS reply_count,
           p.deleted_at IS NOT NULL AS deleted, p.attachments, p.sensitive
    FROM posts p
    JOIN actors a ON a.id = p.author_id
    LEFT JOIN actors g ON g.id = p.group_id
"""
# Posts of blocked servers and people are hidden from every list (instance blocks).
NOT_BLOCKED = """(a.domain IS NULL OR (a.domain NOT IN (SELECT domain FROM domain_blocks)
                  AND a.id NOT IN (SELECT actor_id FROM actor_blocks)))"""


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
        uri=row["uri"],
        url=row["url"],
        like_count=row["like_count"],
        event_id=row["event_id"],
        reply_count=row["reply_count"],
        deleted=row["deleted"],
        attachments=attachments_from_json(row["attachments"]),
        sensitive=row["sensitive"],
    )


def attachments_from_json(text: str) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(a["url"], a["media_type"], a["alt"], a.get("width"), a.get("height"))
        for a in json.loads(text)
    )


def attachments_to_json(attachments: tuple[Attachment, ...]) -> str:
    return json.dumps(
        [
            {"url": a.url, "media_type": a.media_type, "alt": a.alt, "width": a.width,
             "height": a.height}
            for a in attachments
        ]
    )  # fmt: skip


async def insert_post(
    conn: Connection,
    *,
    group_id: int,
    author_id: int,
    content: str,
    content_html: str,
    content_warning: str,
    in_reply_to_id: int | None = None,
    event_id: int | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> int:
    post_id: int = await conn.fetchval(
        """
        INSERT INTO posts (group_id, author_id, content, content_html, content_warning,
                           in_reply_to_id, event_id, attachments, sensitive)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $5 <> '')
        RETURNING id
        """,
        group_id,
        author_id,
        content,
        content_html,
        content_warning,
        in_reply_to_id,
        event_id,
        attachments_to_json(attachments),
    )
    return post_id


async def get_post(conn: Connection, post_id: int, *, include_deleted: bool = False) -> Post | None:
    """Return a live post (or a tombstone too, when asked)."""
    row = await conn.fetchrow(
        _SELECT + " WHERE p.id = $1 AND ($2 OR p.deleted_at IS NULL)", post_id, include_deleted
    )
    return _post(row) if row else None


async def update_post(
    conn: Connection, post_id: int, *, content: str, content_html: str, content_warning: str
) -> None:
    await conn.execute(
        """
        UPDATE posts SET content = $2, content_html = $3, content_warning = $4,
                         sensitive = $4 <> '', updated_at = now()
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
                         attachments = '[]', deleted_at = now()
        WHERE id = $1
        """,
        post_id,
    )


async def list_group_posts(
    conn: Connection, group_id: int, *, before_id: int | None, limit: int, viewer_id: int = 0
) -> list[Post]:
    """Return top-level posts of a group, newest first, older than `before_id` if given.

    Posts of people the viewer muted or blocked, or who blocked the viewer, are left out.
    """
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE p.group_id = $1 AND p.deleted_at IS NULL AND p.in_reply_to_id IS NULL
          AND """
        + NOT_BLOCKED
        + """
          AND p.event_id IS NULL AND """
        + hidden_from("$4")
        + """
          -- not "$2 IS NULL OR ...": a reused (generic) plan could not use the index then
          AND p.id < coalesce($2::bigint, 9223372036854775807)
        ORDER BY p.id DESC
        LIMIT $3
        """,
        group_id,
        before_id,
        limit,
        viewer_id,
    )
    return [_post(r) for r in rows]


async def list_event_posts(
    conn: Connection, event_id: int, *, limit: int = 200, viewer_id: int = 0
) -> list[Post]:
    """Return an event's discussion, oldest first, without the viewer's muted or blocked."""
    rows = await conn.fetch(
        _SELECT
        + " WHERE p.event_id = $1 AND p.deleted_at IS NULL AND "
        + hidden_from("$3")
        + " ORDER BY p.id LIMIT $2",
        event_id,
        limit,
        viewer_id,
    )
    return [_post(r) for r in rows]


async def list_replies(conn: Connection, post_id: int, viewer_id: int = 0) -> list[Post]:
    """Return a post's replies, oldest first, without the viewer's muted or blocked."""
    rows = await conn.fetch(
        _SELECT
        + " WHERE p.in_reply_to_id = $1 AND p.deleted_at IS NULL AND "
        + NOT_BLOCKED
        + " AND "
        + hidden_from("$2")
        + " ORDER BY p.id",
        post_id,
        viewer_id,
    )
    return [_post(r) for r in rows]


async def list_liked_post_ids(conn: Connection, actor_id: int, post_ids: list[int]) -> set[int]:
    """Return which of these posts the actor likes."""
    rows = await conn.fetch(
        "SELECT post_id FROM likes WHERE actor_id = $1 AND post_id = ANY($2::bigint[])",
        actor_id,
        post_ids,
    )
    return {r["post_id"] for r in rows}


async def list_author_posts(
    conn: Connection, author_id: int, viewer_id: int | None, *, limit: int = 20
) -> list[Post]:
    """Return an author's recent posts in groups the viewer may read (public, or a member)."""
    rows = await conn.fetch(
        _SELECT
        + """
        JOIN groups gr ON gr.actor_id = p.group_id
        WHERE p.author_id = $1 AND p.deleted_at IS NULL AND (
            gr.visibility = 'public' OR EXISTS (
                SELECT 1 FROM memberships m WHERE m.group_id = p.group_id
                AND m.actor_id = $2 AND m.state = 'active'))
          AND """
        + hidden_from("coalesce($2::bigint, 0)")
        + """
        ORDER BY p.id DESC LIMIT $3
        """,
        author_id,
        viewer_id,
        limit,
    )
    return [_post(r) for r in rows]


async def count_local_posts(conn: Connection) -> int:
    # Members-only posts are not counted: NodeInfo figures are public.
    value: int = await conn.fetchval(
        """
        SELECT count(*) FROM posts p LEFT JOIN groups g ON g.actor_id = p.group_id
        WHERE p.uri IS NULL AND p.deleted_at IS NULL
          AND coalesce(g.visibility, 'public') = 'public'
        """
    )
    return value


async def insert_remote_post(
    conn: Connection,
    *,
    uri: str,
    url: str | None,
    group_id: int | None,
    author_id: int,
    content_html: str,
    content_warning: str,
    in_reply_to_id: int | None,
    via_actor_id: int | None,
    event_id: int | None = None,
    attachments: tuple[Attachment, ...] = (),
    sensitive: bool = False,
) -> int | None:
    """Store a post received from a peer; None if its URI is already known."""
    post_id: int | None = await conn.fetchval(
        """
        INSERT INTO posts (uri, url, group_id, author_id, content_html, content_warning,
                           in_reply_to_id, via_actor_id, event_id, attachments, sensitive)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)
        ON CONFLICT (uri) DO NOTHING
        RETURNING id
        """,
        uri,
        url,
        group_id,
        author_id,
        content_html,
        content_warning,
        in_reply_to_id,
        via_actor_id,
        event_id,
        attachments_to_json(attachments),
        sensitive,
    )
    return post_id


async def find_post_id_by_uri(conn: Connection, uri: str) -> tuple[int, int, bool] | None:
    """Return (post id, author id, deleted) for a remote post URI."""
    row = await conn.fetchrow(
        "SELECT id, author_id, deleted_at IS NOT NULL AS deleted FROM posts WHERE uri = $1", uri
    )
    return (row["id"], row["author_id"], row["deleted"]) if row else None


async def is_deleted(conn: Connection, post_id: int) -> bool | None:
    """Tell whether a post is a tombstone (None: no such post)."""
    value: bool | None = await conn.fetchval(
        "SELECT deleted_at IS NOT NULL FROM posts WHERE id = $1", post_id
    )
    return value


async def update_remote_post(
    conn: Connection,
    post_id: int,
    *,
    content_html: str,
    content_warning: str,
    attachments: tuple[Attachment, ...] = (),
    sensitive: bool = False,
) -> bool:
    """Store a remote post's new text; False when nothing of it changed (no edit)."""
    status: str = await conn.execute(
        """
        UPDATE posts SET content_html = $2, content_warning = $3, attachments = $4::jsonb,
                         sensitive = $5, updated_at = now()
        WHERE id = $1 AND deleted_at IS NULL
          AND (content_html IS DISTINCT FROM $2 OR content_warning IS DISTINCT FROM $3
               OR attachments IS DISTINCT FROM $4::jsonb OR sensitive IS DISTINCT FROM $5)
        """,
        post_id,
        content_html,
        content_warning,
        attachments_to_json(attachments),
        sensitive,
    )
    return status != "UPDATE 0"


async def list_feed(conn: Connection, follower_id: int, *, limit: int = 40) -> list[Post]:
    """Return recent posts by actors the account follows, or announced by them."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE p.deleted_at IS NULL AND """
        + NOT_BLOCKED
        + " AND "
        + hidden_from("$1")
        + """ AND (
            -- posts of remote members-only groups the account belongs to (kept as mirrors)
            p.group_id IN (SELECT m.group_id FROM memberships m JOIN actors g
                           ON g.id = m.group_id AND g.domain IS NOT NULL
                           WHERE m.actor_id = $1 AND m.state = 'active')
            OR p.author_id IN (SELECT target_id FROM follows WHERE follower_id = $1
                            AND state = 'accepted')
            OR p.via_actor_id IN (SELECT target_id FROM follows WHERE follower_id = $1
                                  AND state = 'accepted'))
        ORDER BY p.id DESC LIMIT $2
        """,
        follower_id,
        limit,
    )
    return [_post(r) for r in rows]


async def insert_like(conn: Connection, actor_id: int, post_id: int, uri: str | None) -> bool:
    result: str = await conn.execute(
        "INSERT INTO likes (actor_id, post_id, uri) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        actor_id,
        post_id,
        uri,
    )
    return result.endswith(" 1")


async def delete_like(conn: Connection, actor_id: int, post_id: int) -> bool:
    result: str = await conn.execute(
        "DELETE FROM likes WHERE actor_id = $1 AND post_id = $2", actor_id, post_id
    )
    return result != "DELETE 0"


async def find_like_uri(conn: Connection, actor_id: int, post_id: int) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT uri FROM likes WHERE actor_id = $1 AND post_id = $2", actor_id, post_id
    )
    return value


async def find_like_by_uri(conn: Connection, uri: str) -> tuple[int, int] | None:
    row = await conn.fetchrow("SELECT actor_id, post_id FROM likes WHERE uri = $1", uri)
    return (row["actor_id"], row["post_id"]) if row else None


async def count_likes(conn: Connection, post_id: int) -> int:
    value: int = await conn.fetchval("SELECT count(*) FROM likes WHERE post_id = $1", post_id)
    return value


async def list_actor_post_ids(conn: Connection, author_id: int) -> list[int]:
    rows = await conn.fetch("SELECT id FROM posts WHERE author_id = $1", author_id)
    return [r["id"] for r in rows]


async def list_tagged_posts(conn: Connection, tag_href: str, *, limit: int = 40) -> list[Post]:
    """Return recent posts of public groups whose text links to a hashtag's page."""
    pattern = "%" + tag_href.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'
    rows = await conn.fetch(
        _SELECT
        + """
        JOIN groups gr ON gr.actor_id = p.group_id
        WHERE p.deleted_at IS NULL AND gr.visibility = 'public' AND p.content_html LIKE $1
        ORDER BY p.id DESC LIMIT $2
        """,
        pattern,
        limit,
    )
    return [_post(r) for r in rows]


async def get_via_actor_id(conn: Connection, post_id: int) -> int | None:
    """Return the remote group (or person) whose Announce brought the post here."""
    value: int | None = await conn.fetchval("SELECT via_actor_id FROM posts WHERE id = $1", post_id)
    return value
