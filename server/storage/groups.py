"""Storage of groups and their memberships."""

from __future__ import annotations

from typing import Any

from server.db import Connection
from server.models import Group, Member

_SELECT = """
    SELECT a.id, a.name, a.display_name, a.summary, a.summary_html, a.avatar, a.header,
           a.created_at, a.topics, a.place, a.language,
           g.visibility, g.join_policy, g.followers_can_post, g.rules,
           g.anonymous_posts,
           (SELECT count(*) FROM memberships m
            WHERE m.group_id = g.actor_id AND m.state = 'active') AS member_count
    FROM actors a JOIN groups g ON g.actor_id = a.id
"""


def _group(row: Any) -> Group:
    return Group(
        id=row["id"],
        slug=row["name"],
        name=row["display_name"],
        description=row["summary"],
        description_html=row["summary_html"],
        avatar=row["avatar"],
        visibility=row["visibility"],
        join_policy=row["join_policy"],
        followers_can_post=row["followers_can_post"],
        created_at=row["created_at"],
        member_count=row["member_count"],
        header=row["header"],
        rules=row["rules"],
        anonymous_posts=row["anonymous_posts"],
        topics=tuple(row["topics"]),
        place=row["place"],
        language=row["language"],
    )


def _member(row: Any) -> Member:
    return Member(
        actor_id=row["actor_id"],
        name=row["name"],
        domain=row["domain"],
        display_name=row["display_name"],
        avatar=row["avatar"],
        role=row["role"],
        state=row["state"],
        joined_at=row["created_at"],
        rules_shown=row.get("rules_shown"),
    )


async def insert_group(
    conn: Connection,
    *,
    slug: str,
    name: str,
    description: str,
    description_html: str,
    visibility: str,
    join_policy: str,
    private_key_pem: str,
    public_key_pem: str,
    topics: list[str] | None = None,
    place: str = "",
    language: str | None = None,
) -> int | None:
    """Insert the group's actor and group rows; None if the name was taken meanwhile."""
    group_id: int | None = await conn.fetchval(
        """
        INSERT INTO actors (kind, name, display_name, summary, summary_html,
                            private_key_pem, public_key_pem, topics, place, language)
        VALUES ('group', $1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT DO NOTHING
        RETURNING id
        """,
        slug,
        name,
        description,
        description_html,
        private_key_pem,
        public_key_pem,
        topics or [],
        place,
        language,
    )
    if group_id is None:
        return None
    await conn.execute(
        "INSERT INTO groups (actor_id, visibility, join_policy) VALUES ($1, $2, $3)",
        group_id,
        visibility,
        join_policy,
    )
    return group_id


async def find_group_by_slug(conn: Connection, slug: str) -> Group | None:
    row = await conn.fetchrow(
        _SELECT + " WHERE lower(a.name) = lower($1) AND a.domain IS NULL", slug
    )
    return _group(row) if row else None


async def get_group(conn: Connection, group_id: int) -> Group | None:
    row = await conn.fetchrow(_SELECT + " WHERE a.id = $1", group_id)
    return _group(row) if row else None


async def list_groups(conn: Connection, *, limit: int = 100) -> list[Group]:
    """Return local public groups, the most active first."""
    rows = await conn.fetch(
        _SELECT + " WHERE a.domain IS NULL AND g.visibility = 'public'"
        " ORDER BY member_count DESC, a.id LIMIT $1",
        limit,
    )
    return [_group(r) for r in rows]


async def list_directory(
    conn: Connection,
    *,
    words: list[str],
    topic: str | None,
    place: str,
    language: str | None,
    limit: int,
    offset: int,
) -> list[Group]:
    """Return local public groups matching every filter given, the most active first.

    Words and the place are compared accents and case aside (fold_accents, migration 0012),
    as parts of the name and description, and of the place.
    """
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE a.domain IS NULL AND g.visibility = 'public'
          AND ($2::text IS NULL OR $2 = ANY(a.topics))
          AND ($3 = '' OR strpos(fold_accents(a.place), fold_accents($3)) > 0)
          AND ($4::text IS NULL OR a.language = $4)
          AND NOT EXISTS (
              SELECT FROM unnest($1::text[]) AS w(word)
              WHERE strpos(fold_accents(a.display_name || ' ' || a.summary || ' ' || a.place),
                           fold_accents(w.word)) = 0)
        ORDER BY member_count DESC, a.id
        LIMIT $5 OFFSET $6
        """,
        words,
        topic,
        place,
        language,
        limit,
        offset,
    )
    return [_group(r) for r in rows]


async def update_group_profile(
    conn: Connection, group_id: int, *, topics: list[str], place: str, language: str | None
) -> None:
    """Change what the directory filters a group by."""
    await conn.execute(
        "UPDATE actors SET topics = $2, place = $3, language = $4, updated_at = now()"
        " WHERE id = $1",
        group_id,
        topics,
        place,
        language,
    )


async def list_account_groups(conn: Connection, actor_id: int) -> list[Group]:
    rows = await conn.fetch(
        _SELECT + " JOIN memberships ms ON ms.group_id = g.actor_id"
        # Local groups only: a remote members-only group kept here is shown nowhere.
        " WHERE ms.actor_id = $1 AND ms.state = 'active' AND a.domain IS NULL"
        " ORDER BY a.display_name",
        actor_id,
    )
    return [_group(r) for r in rows]


async def update_group(
    conn: Connection,
    group_id: int,
    *,
    name: str,
    description: str,
    description_html: str,
    visibility: str,
    join_policy: str,
    followers_can_post: bool = True,
) -> None:
    await conn.execute(
        """
        UPDATE actors SET display_name = $2, summary = $3, summary_html = $4, updated_at = now()
        WHERE id = $1
        """,
        group_id,
        name,
        description,
        description_html,
    )
    await conn.execute(
        "UPDATE groups SET visibility = $2, join_policy = $3, followers_can_post = $4"
        " WHERE actor_id = $1",
        group_id,
        visibility,
        join_policy,
        followers_can_post,
    )


async def get_membership(conn: Connection, group_id: int, actor_id: int) -> Member | None:
    row = await conn.fetchrow(
        """
        SELECT m.actor_id, a.name, a.domain, a.display_name, a.avatar, m.role, m.state,
               m.created_at, m.rules_shown
        FROM memberships m JOIN actors a ON a.id = m.actor_id
        WHERE m.group_id = $1 AND m.actor_id = $2
        """,
        group_id,
        actor_id,
    )
    return _member(row) if row else None


async def insert_membership(
    conn: Connection, group_id: int, actor_id: int, *, role: str, state: str
) -> None:
    await conn.execute(
        """
        INSERT INTO memberships (group_id, actor_id, role, state) VALUES ($1, $2, $3, $4)
        ON CONFLICT (group_id, actor_id) DO NOTHING
        """,
        group_id,
        actor_id,
        role,
        state,
    )


async def update_rules_shown(conn: Connection, group_id: int, actor_id: int, rules: str) -> None:
    """Keep with a request to join the rules its author was shown."""
    await conn.execute(
        "UPDATE memberships SET rules_shown = $3 WHERE group_id = $1 AND actor_id = $2",
        group_id,
        actor_id,
        rules,
    )


async def update_membership(
    conn: Connection, group_id: int, actor_id: int, *, role: str, state: str
) -> None:
    await conn.execute(
        "UPDATE memberships SET role = $3, state = $4 WHERE group_id = $1 AND actor_id = $2",
        group_id,
        actor_id,
        role,
        state,
    )


async def delete_membership(conn: Connection, group_id: int, actor_id: int) -> None:
    await conn.execute(
        "DELETE FROM memberships WHERE group_id = $1 AND actor_id = $2", group_id, actor_id
    )


async def count_owners(conn: Connection, group_id: int) -> int:
    value: int = await conn.fetchval(
        "SELECT count(*) FROM memberships WHERE group_id = $1 AND role = 'owner'"
        " AND state = 'active'",
        group_id,
    )
    return value


async def list_members(
    conn: Connection, group_id: int, *, state: str = "active", limit: int = 100, offset: int = 0
) -> list[Member]:
    """Return members in a state: owners first, then moderators, then by arrival."""
    rows = await conn.fetch(
        """
        SELECT m.actor_id, a.name, a.domain, a.display_name, a.avatar, m.role, m.state,
               m.created_at, m.rules_shown
        FROM memberships m JOIN actors a ON a.id = m.actor_id
        WHERE m.group_id = $1 AND m.state = $2
        ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END,
                 m.created_at, m.actor_id
        LIMIT $3 OFFSET $4
        """,
        group_id,
        state,
        limit,
        offset,
    )
    return [_member(r) for r in rows]


async def erase_group(conn: Connection, group_id: int) -> None:
    """Erase a group: its posts, members and follows go; the actor row stays (410, its key)."""
    # posts and memberships reference the group row and go with it (ON DELETE CASCADE).
    await conn.execute("DELETE FROM groups WHERE actor_id = $1", group_id)
    await conn.execute(
        """
        UPDATE actors SET display_name = '', summary = '', summary_html = '', avatar = NULL,
                          header = NULL, updated_at = now()
        WHERE id = $1
        """,
        group_id,
    )
    await conn.execute("DELETE FROM follows WHERE target_id = $1 OR follower_id = $1", group_id)


async def update_header(conn: Connection, group_id: int, header: str | None) -> None:
    await conn.execute(
        "UPDATE actors SET header = $2, updated_at = now() WHERE id = $1", group_id, header
    )


async def list_remote_member_inboxes(conn: Connection, group_id: int) -> list[tuple[str, str]]:
    """Return (actor id, personal inbox) of the group's active members on other instances.

    Members-only deliveries go to each member's own inbox, never to a shared one: the
    receiving server then knows whom the activity is for.
    """
    rows = await conn.fetch(
        """
        SELECT a.uri, a.inbox FROM memberships m JOIN actors a ON a.id = m.actor_id
        WHERE m.group_id = $1 AND m.state = 'active' AND a.domain IS NOT NULL
          AND a.uri IS NOT NULL AND a.inbox IS NOT NULL
        ORDER BY a.id
        """,
        group_id,
    )
    return [(r["uri"], r["inbox"]) for r in rows]


async def has_active_member_on(conn: Connection, group_id: int, domain: str) -> bool:
    """Tell whether one of the group's active members lives on this remote domain."""
    found = await conn.fetchval(
        """
        SELECT 1 FROM memberships m JOIN actors a ON a.id = m.actor_id
        WHERE m.group_id = $1 AND m.state = 'active' AND a.domain = $2 LIMIT 1
        """,
        group_id,
        domain,
    )
    return found is not None


async def insert_mirror_memberships(conn: Connection, group_id: int) -> None:
    """Make the local people whose follow of a remote members-only group was accepted its
    members here (an accepted Follow of such a group is a membership)."""
    await conn.execute(
        """
        INSERT INTO memberships (group_id, actor_id, role, state)
        SELECT $1, f.follower_id, 'member', 'active'
        FROM follows f JOIN accounts a ON a.actor_id = f.follower_id
        WHERE f.target_id = $1 AND f.state = 'accepted'
        ON CONFLICT (group_id, actor_id) DO NOTHING
        """,
        group_id,
    )


async def insert_mirror_group(conn: Connection, actor_id: int) -> None:
    """Keep a remote members-only group here, so that its posts are read by its members only."""
    await conn.execute(
        """
        INSERT INTO groups (actor_id, visibility, join_policy) VALUES ($1, 'members', 'approval')
        ON CONFLICT (actor_id) DO NOTHING
        """,
        actor_id,
    )


async def update_rules(conn: Connection, group_id: int, rules: str) -> None:
    await conn.execute("UPDATE groups SET rules = $2 WHERE actor_id = $1", group_id, rules)


async def get_rules(conn: Connection, group_id: int) -> str:
    value: str | None = await conn.fetchval(
        "SELECT rules FROM groups WHERE actor_id = $1", group_id
    )
    return value or ""
