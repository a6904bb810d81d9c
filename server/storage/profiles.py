"""Storage of actors as the client API shows accounts: counts, look-ups, search, relationships."""

from __future__ import annotations

from typing import Any

from server.db import Connection
from server.models import Profile, Relationship

_SELECT = """
    SELECT a.id, a.kind, a.name, a.domain, a.uri, a.url, a.display_name, a.summary_html,
           a.avatar, a.created_at,
           CASE WHEN a.kind = 'group' THEN gr.join_policy <> 'open' OR gr.visibility <> 'public'
                ELSE a.manually_approves END AS locked,
           (SELECT count(*) FROM follows f WHERE f.target_id = a.id AND f.state = 'accepted')
           + (SELECT count(*) FROM memberships m WHERE m.group_id = a.id
              AND m.state = 'active') AS followers_count,
           (SELECT count(*) FROM follows f WHERE f.follower_id = a.id AND f.state = 'accepted')
           + (SELECT count(*) FROM memberships m WHERE m.actor_id = a.id
              AND m.state = 'active') AS following_count,
           CASE WHEN a.kind = 'group'
                THEN (SELECT count(*) FROM posts p WHERE p.group_id = a.id
                      AND p.deleted_at IS NULL)
                ELSE (SELECT count(*) FROM posts p WHERE p.author_id = a.id
                      AND p.deleted_at IS NULL) END AS statuses_count,
           CASE WHEN a.kind = 'group'
                THEN (SELECT max(p.created_at) FROM posts p WHERE p.group_id = a.id)
                ELSE (SELECT max(p.created_at) FROM posts p WHERE p.author_id = a.id)
                END AS last_status_at
    FROM actors a
    LEFT JOIN groups gr ON gr.actor_id = a.id
    LEFT JOIN accounts acc ON acc.actor_id = a.id
"""
# Accounts pending, disabled or deleted are nobody to the API.
_SHOWN = "a.kind IN ('person', 'group') AND (acc.status IS NULL OR acc.status = 'active')"


def _profile(row: Any) -> Profile:
    return Profile(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        domain=row["domain"],
        uri=row["uri"],
        url=row["url"],
        display_name=row["display_name"],
        summary_html=row["summary_html"],
        avatar=row["avatar"],
        created_at=row["created_at"],
        locked=bool(row["locked"]),
        followers_count=row["followers_count"],
        following_count=row["following_count"],
        statuses_count=row["statuses_count"],
        last_status_at=row["last_status_at"],
    )


async def get_profile(conn: Connection, actor_id: int) -> Profile | None:
    row = await conn.fetchrow(_SELECT + f" WHERE {_SHOWN} AND a.id = $1", actor_id)
    return _profile(row) if row else None


async def find_profile(conn: Connection, name: str, domain: str | None) -> Profile | None:
    """Return the actor @name (local) or @name@domain (remote, as known here)."""
    row = await conn.fetchrow(
        _SELECT
        + f"""
        WHERE {_SHOWN} AND lower(a.name) = lower($1)
          AND coalesce(a.domain, '') = lower(coalesce($2, ''))
        """,
        name,
        domain,
    )
    return _profile(row) if row else None


async def search_profiles(conn: Connection, words: str, limit: int) -> list[Profile]:
    """Return actors whose name or display name starts with the words, groups first."""
    prefix = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await conn.fetch(
        _SELECT
        + f"""
        WHERE {_SHOWN} AND (a.name ILIKE $1 OR a.display_name ILIKE $1)
        ORDER BY a.kind = 'group' DESC, a.domain IS NOT NULL, a.name
        LIMIT $2
        """,
        prefix,
        limit,
    )
    return [_profile(r) for r in rows]


async def list_relationships(
    conn: Connection, account_id: int, actor_ids: list[int]
) -> list[Relationship]:
    """Return, per actor, whether the account follows it (or belongs to it) or asked to."""
    rows = await conn.fetch(
        """
        SELECT x.id,
               coalesce(m.state = 'active', false) OR coalesce(f.state = 'accepted', false)
                   AS following,
               coalesce(m.state = 'pending', false) OR coalesce(f.state = 'pending', false)
                   AS requested,
               EXISTS (SELECT 1 FROM person_mutes WHERE account_id = $1 AND target_id = x.id)
                   AS muting,
               EXISTS (SELECT 1 FROM person_blocks WHERE actor_id = $1 AND target_id = x.id)
                   AS blocking,
               EXISTS (SELECT 1 FROM person_blocks WHERE actor_id = x.id AND target_id = $1)
                   AS blocked_by
        FROM unnest($2::bigint[]) AS x(id)
        LEFT JOIN memberships m ON m.group_id = x.id AND m.actor_id = $1
        LEFT JOIN follows f ON f.target_id = x.id AND f.follower_id = $1
        """,
        account_id,
        actor_ids,
    )
    return [
        Relationship(
            r["id"], r["following"], r["requested"], r["muting"], r["blocking"], r["blocked_by"]
        )
        for r in rows
    ]
