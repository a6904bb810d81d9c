"""Storage of the board of needs and offers: items, their answers, and the matching rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.db import Connection
from server.models import BoardAnswer, BoardItem, RemoteBoardItem

_SELECT = """
    SELECT b.id, b.uri, b.url, b.group_id, g.name AS group_name, g.domain AS group_domain,
           b.author_id, a.name AS author_name, a.domain AS author_domain,
           a.display_name AS author_display_name, b.kind, b.category, b.title, b.details,
           b.details_html, b.area, b.latitude, b.longitude, b.valid_until, b.answers, b.state,
           b.helper_id, h.name AS helper_name, h.domain AS helper_domain, b.closed_at,
           b.created_at, b.updated_at,
           b.state = 'open' AND b.valid_until > now() AS is_open
    FROM board_items b
    JOIN actors g ON g.id = b.group_id
    LEFT JOIN actors a ON a.id = b.author_id
    LEFT JOIN actors h ON h.id = b.helper_id
"""

# The matching rule: the other kind, the same category, and the same area when both give one.
_MATCHES = """
    o.group_id = i.group_id AND o.kind <> i.kind AND o.category = i.category
    AND o.state = 'open' AND o.valid_until > now()
    AND (o.area = '' OR i.area = '' OR lower(o.area) = lower(i.area))
"""


def _item(row: Any) -> BoardItem:
    return BoardItem(**dict(row))


async def insert_item(
    conn: Connection,
    *,
    group_id: int,
    author_id: int,
    kind: str,
    category: str,
    title: str,
    details: str,
    details_html: str,
    area: str,
    latitude: float | None,
    longitude: float | None,
    valid_until: datetime,
    answers: str,
) -> int:
    item_id: int = await conn.fetchval(
        """
        INSERT INTO board_items (group_id, author_id, kind, category, title, details,
                                 details_html, area, latitude, longitude, valid_until, answers)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        RETURNING id
        """,
        group_id,
        author_id,
        kind,
        category,
        title,
        details,
        details_html,
        area,
        latitude,
        longitude,
        valid_until,
        answers,
    )
    return item_id


async def get_item(conn: Connection, item_id: int) -> BoardItem | None:
    row = await conn.fetchrow(_SELECT + " WHERE b.id = $1", item_id)
    return _item(row) if row else None


async def find_item_by_uri(conn: Connection, uri: str) -> BoardItem | None:
    row = await conn.fetchrow(_SELECT + " WHERE b.uri = $1", uri)
    return _item(row) if row else None


async def get_item_for_update(conn: Connection, item_id: int) -> BoardItem | None:
    """Return an item with its row locked until the transaction ends (state races)."""
    await conn.execute("SELECT 1 FROM board_items WHERE id = $1 FOR UPDATE", item_id)
    return await get_item(conn, item_id)


async def list_board(
    conn: Connection,
    group_id: int,
    *,
    kind: str | None,
    category: str | None,
    area: str | None,
    before_id: int | None,
    limit: int,
) -> list[BoardItem]:
    """Return a group's open, unexpired items, newest first, filtered when asked."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE b.group_id = $1 AND b.state = 'open' AND b.valid_until > now()
          AND ($2::text IS NULL OR b.kind = $2)
          AND ($3::text IS NULL OR b.category = $3)
          AND ($4::text IS NULL OR b.area ILIKE '%' || $4 || '%')
          AND ($5::bigint IS NULL OR b.id < $5)
        ORDER BY b.id DESC LIMIT $6
        """,
        group_id,
        kind,
        category,
        area,
        before_id,
        limit,
    )
    return [_item(r) for r in rows]


async def list_author_items(
    conn: Connection, group_id: int, author_id: int, *, limit: int = 50
) -> list[BoardItem]:
    """Return the items an author posted in a group, newest first, whatever their state."""
    rows = await conn.fetch(
        _SELECT + " WHERE b.group_id = $1 AND b.author_id = $2 ORDER BY b.id DESC LIMIT $3",
        group_id,
        author_id,
        limit,
    )
    return [_item(r) for r in rows]


async def count_fulfilled_needs_since(conn: Connection, group_id: int, since: datetime) -> int:
    value: int = await conn.fetchval(
        """
        SELECT count(*) FROM board_items
        WHERE group_id = $1 AND state = 'fulfilled' AND kind = 'need' AND closed_at >= $2
        """,
        group_id,
        since,
    )
    return value


async def list_matching_items(
    conn: Connection, item_id: int, *, limit: int = 50
) -> list[BoardItem]:
    """Return the open items of others that match an item (the rule in `_MATCHES`)."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE b.id IN (SELECT o.id FROM board_items i JOIN board_items o ON """
        + _MATCHES
        + """ WHERE i.id = $1 AND o.author_id IS DISTINCT FROM i.author_id)
        ORDER BY b.id DESC LIMIT $2
        """,
        item_id,
        limit,
    )
    return [_item(r) for r in rows]


async def list_author_open_item_ids(conn: Connection, group_id: int, author_id: int) -> list[int]:
    rows = await conn.fetch(
        """
        SELECT id FROM board_items
        WHERE group_id = $1 AND author_id = $2 AND state = 'open' AND valid_until > now()
        ORDER BY id DESC LIMIT 20
        """,
        group_id,
        author_id,
    )
    return [r["id"] for r in rows]


async def update_item_state(
    conn: Connection, item_id: int, *, state: str, helper_id: int | None
) -> None:
    await conn.execute(
        """
        UPDATE board_items
        SET state = $2, helper_id = $3, updated_at = now(),
            closed_at = CASE WHEN $2 = 'open' THEN NULL ELSE now() END
        WHERE id = $1
        """,
        item_id,
        state,
        helper_id,
    )


async def upsert_remote_item(conn: Connection, group_id: int, data: RemoteBoardItem) -> int | None:
    """Insert or refresh a remote group's item; return its id here (None: not that group's)."""
    item_id: int | None = await conn.fetchval(
        """
        INSERT INTO board_items (uri, url, group_id, kind, category, title, details_html, area,
                                 valid_until, answers, state, closed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                CASE WHEN $11 = 'open' THEN NULL ELSE now() END)
        ON CONFLICT (uri) DO UPDATE SET
            url = EXCLUDED.url, kind = EXCLUDED.kind, category = EXCLUDED.category,
            title = EXCLUDED.title, details_html = EXCLUDED.details_html,
            area = EXCLUDED.area, valid_until = EXCLUDED.valid_until,
            answers = EXCLUDED.answers, state = EXCLUDED.state,
            closed_at = CASE WHEN EXCLUDED.state = 'open' THEN NULL
                             ELSE coalesce(board_items.closed_at, now()) END,
            updated_at = now()
        WHERE board_items.group_id = EXCLUDED.group_id
        RETURNING id
        """,
        data.uri,
        data.url,
        group_id,
        data.kind,
        data.category,
        data.title,
        data.details_html,
        data.area,
        data.valid_until,
        data.answers,
        data.state,
    )
    return item_id


_ANSWERS = """
    SELECT r.id, r.item_id, r.author_id, a.name AS author_name, a.domain AS author_domain,
           a.display_name AS author_display_name, r.public, r.content_html, r.may_name,
           r.created_at, r.uri, r.in_reply_to_id
    FROM board_answers r JOIN actors a ON a.id = r.author_id
"""


async def insert_answer(
    conn: Connection,
    *,
    item_id: int,
    author_id: int,
    public: bool,
    content_html: str,
    may_name: bool,
    uri: str | None = None,
    in_reply_to_id: int | None = None,
) -> int | None:
    """Record an answer (or the poster's reply to one); None when its remote id was already
    recorded."""
    answer_id: int | None = await conn.fetchval(
        """
        INSERT INTO board_answers
            (item_id, author_id, public, content_html, may_name, uri, in_reply_to_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (uri) DO NOTHING
        RETURNING id
        """,
        item_id,
        author_id,
        public,
        content_html,
        may_name,
        uri,
        in_reply_to_id,
    )
    return answer_id


async def list_answers(
    conn: Connection, item_id: int, *, viewer_id: int | None, all_private: bool
) -> list[BoardAnswer]:
    """Return the answers a viewer may read: public ones, their own and the poster's replies to
    them, or all for the poster."""
    rows = await conn.fetch(
        _ANSWERS
        + """
        WHERE r.item_id = $1 AND (r.public OR $3 OR r.author_id = $2
              OR r.in_reply_to_id IN (SELECT id FROM board_answers WHERE author_id = $2))
        ORDER BY r.id
        """,
        item_id,
        viewer_id,
        all_private,
    )
    return [BoardAnswer(**dict(r)) for r in rows]


async def find_consenting_answerer(conn: Connection, item_id: int, actor_id: int) -> bool:
    """Tell whether this actor answered the item and agreed to be named as its helper."""
    value: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM board_answers WHERE item_id = $1 AND author_id = $2"
        " AND may_name)",
        item_id,
        actor_id,
    )
    return value


async def get_answer(conn: Connection, answer_id: int) -> BoardAnswer | None:
    row = await conn.fetchrow(_ANSWERS + " WHERE r.id = $1", answer_id)
    return BoardAnswer(**dict(row)) if row else None


async def list_followed_items(
    conn: Connection, follower_id: int, *, limit: int = 50
) -> list[BoardItem]:
    """Return the open items of remote groups an account follows, newest first."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE b.uri IS NOT NULL AND b.state = 'open' AND b.valid_until > now()
          AND b.group_id IN (SELECT target_id FROM follows WHERE follower_id = $1
                             AND state = 'accepted')
        ORDER BY b.id DESC LIMIT $2
        """,
        follower_id,
        limit,
    )
    return [_item(r) for r in rows]
