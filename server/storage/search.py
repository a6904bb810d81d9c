"""Full-text search of this instance: groups, posts, events and people the reader may see.

Posts and events keep their vector in a stored column; actors' expression matches their GIN
index word for word. `search_query` folds accents and stems in French and English.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.db import Connection


@dataclass(frozen=True)
class SearchHit:
    kind: str  # group | post | event | person
    title: str
    text: str  # the start of its text, without markup
    link: str  # a path on this instance


_MEMBER = """EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = {group} AND m.actor_id = $2
                     AND m.state = 'active')"""


async def search_posts(conn: Connection, query: str, reader: int, limit: int) -> list[SearchHit]:
    """Return the posts of local groups matching the query, best first; members-only ones
    to their members only."""
    # The query is parsed once (not for each row ranked), the matches are ranked on their
    # stored vector alone, and only the page kept is joined to its names and stripped of its
    # markup: a common word matches thousands of posts (bench/search.py).
    rows = await conn.fetch(
        f"""
        WITH q AS MATERIALIZED (SELECT search_query($1) AS query),
        found AS (
            SELECT p.id, p.author_id, p.group_id, ts_rank(p.search, q.query) AS rank
            FROM q
            JOIN posts p ON p.search @@ q.query
            JOIN actors g ON g.id = p.group_id AND g.domain IS NULL  -- groups of this instance
            JOIN groups gr ON gr.actor_id = p.group_id
            WHERE p.deleted_at IS NULL
              AND (gr.visibility = 'public' OR {_MEMBER.format(group="p.group_id")})
            ORDER BY rank DESC, p.id DESC
            LIMIT $3
        )
        SELECT f.id, coalesce(nullif(a.display_name, ''), a.name) AS author,
               coalesce(nullif(g.display_name, ''), g.name) AS group_name,
               left(regexp_replace(p.content_html, '<[^>]*>', ' ', 'g'), 300) AS text
        FROM found f
        JOIN posts p ON p.id = f.id
        JOIN actors a ON a.id = f.author_id
        JOIN actors g ON g.id = f.group_id
        ORDER BY f.rank DESC, f.id DESC
        """,
        query,
        reader,
        limit,
    )
    return [
        SearchHit("post", f"{r['author']} · {r['group_name']}", " ".join(r["text"].split()),
                  f"/posts/{r['id']}")
        for r in rows
    ]  # fmt: skip


async def search_events(conn: Connection, query: str, reader: int, limit: int) -> list[SearchHit]:
    rows = await conn.fetch(
        f"""
        SELECT e.id, e.title, left(e.description, 300) AS text
        FROM events e
        JOIN groups gr ON gr.actor_id = e.group_id
        WHERE e.deleted_at IS NULL
          AND e.search @@ search_query($1)
          AND ((gr.visibility = 'public' AND e.visibility = 'public')
               OR {_MEMBER.format(group="e.group_id")})
        ORDER BY ts_rank(e.search, search_query($1)) DESC, e.starts_at DESC
        LIMIT $3
        """,
        query,
        reader,
        limit,
    )
    return [
        SearchHit("event", r["title"], " ".join(r["text"].split()), f"/events/{r['id']}")
        for r in rows
    ]


_ACTOR_TEXT = """search_vector(a.name || ' ' || coalesce(a.display_name, '') || ' '
                 || regexp_replace(coalesce(a.summary_html, ''), '<[^>]*>', ' ', 'g'))"""


async def search_actors(conn: Connection, query: str, reader: int, limit: int) -> list[SearchHit]:
    """Return the local groups (public, or the reader's) and active people matching."""
    rows = await conn.fetch(
        f"""
        SELECT a.kind, a.name, coalesce(nullif(a.display_name, ''), a.name) AS title,
               left(regexp_replace(a.summary_html, '<[^>]*>', ' ', 'g'), 300) AS text
        FROM actors a
        LEFT JOIN groups gr ON gr.actor_id = a.id
        LEFT JOIN accounts ac ON ac.actor_id = a.id
        WHERE a.domain IS NULL AND {_ACTOR_TEXT} @@ search_query($1)
          AND ((a.kind = 'group' AND (gr.visibility = 'public'
                                      OR {_MEMBER.format(group="a.id")}))
               OR (a.kind = 'person' AND ac.status = 'active'))
        ORDER BY ts_rank({_ACTOR_TEXT}, search_query($1)) DESC, a.id
        LIMIT $3
        """,
        query,
        reader,
        limit,
    )
    return [
        SearchHit(
            "group" if r["kind"] == "group" else "person",
            r["title"],
            " ".join(r["text"].split()),
            f"/groups/{r['name']}" if r["kind"] == "group" else f"/users/{r['name']}",
        )
        for r in rows
    ]
