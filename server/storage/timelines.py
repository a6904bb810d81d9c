"""Storage of the client API's reading paths: timelines, threads, posts with their reader's view.

Every query takes the reader (0 for nobody) and returns only posts the reader may see: posts of
public groups, of groups the reader is an active member of, and of followed remote people.
"""

from __future__ import annotations

from typing import Any

from server.db import Connection
from server.models import Post, PostView, ThingRef, TimelineRange
from server.storage.muting import hidden_from
from server.storage.posts import attachments_from_json

_SELECT = """
    SELECT p.id, p.group_id, g.name AS group_slug, p.author_id, a.name AS author_name,
           a.domain AS author_domain, a.display_name AS author_display_name,
           a.avatar AS author_avatar, p.content, p.content_html, p.content_warning,
           p.in_reply_to_id, p.created_at, p.updated_at, p.uri, p.url,
           (SELECT count(*) FROM likes l WHERE l.post_id = p.id) AS like_count,
           a.kind AS author_kind, a.uri AS author_uri, a.url AS author_url,
           a.created_at AS author_created_at, g.display_name AS group_name,
           gr.visibility AS group_visibility,
           (SELECT count(*) FROM posts r WHERE r.in_reply_to_id = p.id
            AND r.deleted_at IS NULL) AS reply_count,
           EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.actor_id = $1) AS liked,
           (SELECT q.author_id FROM posts q WHERE q.id = p.in_reply_to_id) AS parent_author_id,
           p.attachments, p.sensitive
    FROM posts p
    JOIN actors a ON a.id = p.author_id
    LEFT JOIN actors g ON g.id = p.group_id
    LEFT JOIN groups gr ON gr.actor_id = p.group_id
"""
# What reader $1 may see (members-only groups to their active members alone; nothing of the
# people they muted or blocked, or who blocked them).
_READABLE = f"""
    p.deleted_at IS NULL AND (a.domain IS NULL OR (a.domain NOT IN (SELECT domain FROM
        domain_blocks) AND a.id NOT IN (SELECT actor_id FROM actor_blocks))) AND (
        p.group_id IS NULL OR gr.visibility = 'public'
        OR EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = p.group_id
                   AND m.actor_id = $1 AND m.state = 'active'))
    AND {hidden_from("$1")}
"""


def _view(row: Any) -> PostView:
    post = Post(
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
        attachments=attachments_from_json(row["attachments"]),
        sensitive=row["sensitive"],
    )
    return PostView(
        post=post,
        author_kind=row["author_kind"],
        author_uri=row["author_uri"],
        author_url=row["author_url"],
        author_created_at=row["author_created_at"],
        group_name=row["group_name"],
        group_visibility=row["group_visibility"],
        reply_count=row["reply_count"],
        liked=row["liked"],
        in_reply_to_author_id=row["parent_author_id"],
    )


async def _page(
    conn: Connection, where: str, args: list[Any], window: TimelineRange
) -> list[PostView]:
    """Run a timeline query: `where` uses $1 (the reader) and $2.. (`args`)."""
    n = len(args)
    # min_id pages forward from a point (oldest first, then turned round); the others page back.
    ascending = window.min_id is not None
    lower = window.min_id if ascending else window.since_id
    rows = await conn.fetch(
        _SELECT
        + f"""
        WHERE {_READABLE} AND {where}
          AND p.id < coalesce(${n + 1}::bigint, 9223372036854775807)
          AND p.id > coalesce(${n + 2}::bigint, 0)
        ORDER BY p.id {"ASC" if ascending else "DESC"}
        LIMIT ${n + 3}
        """,
        *args,
        window.max_id,
        lower,
        window.limit,
    )
    views = [_view(r) for r in rows]
    return views[::-1] if ascending else views


async def list_home(conn: Connection, reader: int, window: TimelineRange) -> list[PostView]:
    """Return posts of the reader's groups and of the remote actors the reader follows."""
    where = """(
        p.group_id IN (SELECT group_id FROM memberships WHERE actor_id = $1 AND state = 'active')
        OR p.author_id IN (SELECT target_id FROM follows WHERE follower_id = $1
                           AND state = 'accepted')
        OR p.via_actor_id IN (SELECT target_id FROM follows WHERE follower_id = $1
                              AND state = 'accepted'))
    """
    return await _page(conn, where, [reader], window)


async def list_public(
    conn: Connection, reader: int, window: TimelineRange, *, local_only: bool
) -> list[PostView]:
    """Return posts of the instance's public groups (written here only, if asked)."""
    where = "gr.visibility = 'public' AND ($2 = false OR p.uri IS NULL)"
    return await _page(conn, where, [reader, local_only], window)


async def list_tagged(
    conn: Connection, reader: int, tag_href: str, window: TimelineRange
) -> list[PostView]:
    """Return posts whose text links to a hashtag's page."""
    pattern = "%" + tag_href.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'
    return await _page(conn, "p.content_html LIKE $2", [reader, pattern], window)


async def list_actor_posts(
    conn: Connection, reader: int, actor_id: int, window: TimelineRange, *, group: bool
) -> list[PostView]:
    """Return a person's posts, or a group's."""
    where = "p.group_id = $2" if group else "p.author_id = $2"
    return await _page(conn, where, [reader, actor_id], window)


async def get_post_view(conn: Connection, reader: int, post_id: int) -> PostView | None:
    """Return a post if the reader may see it."""
    row = await conn.fetchrow(_SELECT + f" WHERE {_READABLE} AND p.id = $2", reader, post_id)
    return _view(row) if row else None


async def list_ancestors(conn: Connection, reader: int, post_id: int) -> list[PostView]:
    """Return the posts a post answers, oldest first."""
    rows = await conn.fetch(
        """
        WITH RECURSIVE up(id, parent, depth) AS (
            SELECT id, in_reply_to_id, 0 FROM posts WHERE id = $1
            UNION ALL
            SELECT p.id, p.in_reply_to_id, up.depth + 1 FROM posts p JOIN up ON p.id = up.parent
            WHERE up.depth < 100
        )
        SELECT id FROM up WHERE id <> $1 ORDER BY depth DESC
        """,
        post_id,
    )
    return await _views_in_order(conn, reader, [r["id"] for r in rows])


async def list_descendants(conn: Connection, reader: int, post_id: int) -> list[PostView]:
    """Return the replies to a post, and theirs, in thread order (by id)."""
    rows = await conn.fetch(
        """
        WITH RECURSIVE down(id, depth) AS (
            SELECT id, 0 FROM posts WHERE in_reply_to_id = $1
            UNION ALL
            SELECT p.id, down.depth + 1 FROM posts p JOIN down ON p.in_reply_to_id = down.id
            WHERE down.depth < 100
        )
        SELECT id FROM down ORDER BY id LIMIT 400
        """,
        post_id,
    )
    return await _views_in_order(conn, reader, [r["id"] for r in rows])


async def _views_in_order(conn: Connection, reader: int, ids: list[int]) -> list[PostView]:
    if not ids:
        return []
    rows = await conn.fetch(
        _SELECT + f" WHERE {_READABLE} AND p.id = ANY($2::bigint[])", reader, ids
    )
    found = {r["id"]: _view(r) for r in rows}
    return [found[i] for i in ids if i in found]


async def search_posts(conn: Connection, reader: int, words: str, limit: int) -> list[PostView]:
    """Return the newest readable posts whose text holds the words (case-insensitive)."""
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await conn.fetch(
        _SELECT + f" WHERE {_READABLE} AND p.content_html ILIKE $2 ORDER BY p.id DESC LIMIT $3",
        reader,
        pattern,
        limit,
    )
    return [_view(r) for r in rows]


# Events, petitions, mobilizations and needs/offers, each under its status id, with the group
# that published it (t.group_id) and the same reader ($1) rules as posts: a local group's things
# are for everyone if it is public and for its active members if not; an event for members only
# stays with the members even in a public group.
_THINGS = """
    WITH things (kind, id, status_id, group_id, members_only) AS (
        SELECT 'event', id, status_id, group_id, visibility = 'members' FROM events
        WHERE deleted_at IS NULL
        UNION ALL SELECT 'petition', id, status_id, group_id, false FROM petitions
        UNION ALL SELECT 'mobilization', id, status_id, group_id, false FROM mobilizations
        UNION ALL SELECT 'board_item', id, status_id, group_id, false FROM board_items
    )
    SELECT t.kind, t.id, t.status_id, t.group_id,
           coalesce(gr.visibility = 'members', false) OR t.members_only AS members_only
    FROM things t
    JOIN actors g ON g.id = t.group_id
    LEFT JOIN groups gr ON gr.actor_id = t.group_id
    WHERE (g.domain IS NULL OR g.domain NOT IN (SELECT domain FROM domain_blocks))
      AND (((g.domain IS NOT NULL OR gr.visibility = 'public') AND NOT t.members_only)
           OR EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = t.group_id
                      AND m.actor_id = $1 AND m.state = 'active'))
"""


def _thing(row: Any) -> ThingRef:
    return ThingRef(row["kind"], row["id"], row["status_id"], row["group_id"], row["members_only"])


async def _things_page(
    conn: Connection, where: str, args: list[Any], window: TimelineRange
) -> list[ThingRef]:
    """Like `_page`, for things: `where` uses $1 (the reader) and $2.. (`args`)."""
    n = len(args)
    ascending = window.min_id is not None
    rows = await conn.fetch(
        _THINGS
        + f"""
          AND {where}
          AND t.status_id < coalesce(${n + 1}::bigint, 9223372036854775807)
          AND t.status_id > coalesce(${n + 2}::bigint, 0)
        ORDER BY t.status_id {"ASC" if ascending else "DESC"}
        LIMIT ${n + 3}
        """,
        *args,
        window.max_id,
        window.min_id if ascending else window.since_id,
        window.limit,
    )
    things = [_thing(r) for r in rows]
    return things[::-1] if ascending else things


async def list_home_things(conn: Connection, reader: int, window: TimelineRange) -> list[ThingRef]:
    """Return the things of the reader's groups and of the remote groups the reader follows."""
    where = """(
        t.group_id IN (SELECT group_id FROM memberships WHERE actor_id = $1 AND state = 'active')
        OR t.group_id IN (SELECT target_id FROM follows WHERE follower_id = $1
                          AND state = 'accepted'))
    """
    return await _things_page(conn, where, [reader], window)


async def list_public_things(
    conn: Connection, reader: int, window: TimelineRange
) -> list[ThingRef]:
    """Return the things of the instance's public groups."""
    where = "gr.visibility = 'public' AND NOT t.members_only"
    return await _things_page(conn, where, [reader], window)


async def list_group_things(
    conn: Connection, reader: int, group_id: int, window: TimelineRange
) -> list[ThingRef]:
    return await _things_page(conn, "t.group_id = $2", [reader, group_id], window)


async def find_thing(conn: Connection, reader: int, status_id: int) -> ThingRef | None:
    """Return the thing under a status id, if the reader may see it."""
    row = await conn.fetchrow(_THINGS + " AND t.status_id = $2", reader, status_id)
    return _thing(row) if row else None
