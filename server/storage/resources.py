"""Storage of the groups' libraries: links and documents, their tags and pins."""

from __future__ import annotations

from server.db import Connection
from server.models import RemoteResource, Resource

_SELECT = """
    SELECT r.id, r.group_id, g.name AS group_name, r.author_id, a.name AS author_name, r.title,
           r.description, r.description_html, r.link, r.file_name, r.media_type, r.size,
           r.original_name, r.tags, r.pinned_at, r.created_at, r.uri, r.url,
           g.domain AS group_domain
    FROM resources r
    JOIN actors g ON g.id = r.group_id
    LEFT JOIN actors a ON a.id = r.author_id
"""


async def insert_resource(
    conn: Connection,
    *,
    group_id: int,
    author_id: int,
    title: str,
    description: str,
    description_html: str,
    link: str | None,
    file_name: str | None,
    media_type: str | None,
    size: int | None,
    original_name: str | None,
    tags: list[str],
) -> int:
    resource_id: int = await conn.fetchval(
        """
        INSERT INTO resources (group_id, author_id, title, description, description_html, link,
                               file_name, media_type, size, original_name, tags)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING id
        """,
        group_id,
        author_id,
        title,
        description,
        description_html,
        link,
        file_name,
        media_type,
        size,
        original_name,
        tags,
    )
    return resource_id


async def get_resource(conn: Connection, resource_id: int) -> Resource | None:
    row = await conn.fetchrow(_SELECT + " WHERE r.id = $1", resource_id)
    return Resource(**dict(row)) if row else None


async def list_resources(
    conn: Connection, group_id: int, *, tag: str | None, limit: int = 100
) -> list[Resource]:
    """Return a group's library, pinned items first, then newest first."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE r.group_id = $1 AND ($2::text IS NULL OR $2 = ANY (r.tags))
        ORDER BY r.pinned_at DESC NULLS LAST, r.id DESC LIMIT $3
        """,
        group_id,
        tag,
        limit,
    )
    return [Resource(**dict(r)) for r in rows]


async def list_pinned(conn: Connection, group_id: int, *, limit: int = 20) -> list[Resource]:
    rows = await conn.fetch(
        _SELECT
        + " WHERE r.group_id = $1 AND r.pinned_at IS NOT NULL ORDER BY r.pinned_at DESC LIMIT $2",
        group_id,
        limit,
    )
    return [Resource(**dict(r)) for r in rows]


async def update_pinned(conn: Connection, resource_id: int, *, pinned: bool) -> None:
    await conn.execute(
        "UPDATE resources SET pinned_at = CASE WHEN $2 THEN now() END WHERE id = $1",
        resource_id,
        pinned,
    )


async def delete_resource(conn: Connection, resource_id: int) -> bool:
    result: str = await conn.execute("DELETE FROM resources WHERE id = $1", resource_id)
    return result.endswith(" 1")


async def find_resource_by_uri(conn: Connection, uri: str) -> Resource | None:
    row = await conn.fetchrow(_SELECT + " WHERE r.uri = $1", uri)
    return Resource(**dict(row)) if row else None


async def upsert_remote_resource(
    conn: Connection, group_id: int, author_id: int | None, data: RemoteResource
) -> int:
    """Insert or refresh a remote group's library item by its ActivityPub id; return its id."""
    resource_id: int = await conn.fetchval(
        """
        INSERT INTO resources (uri, url, group_id, author_id, title, description_html, link,
                               media_type, original_name, tags)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (uri) DO UPDATE SET
            url = EXCLUDED.url, title = EXCLUDED.title,
            description_html = EXCLUDED.description_html, link = EXCLUDED.link,
            media_type = EXCLUDED.media_type, original_name = EXCLUDED.original_name,
            tags = EXCLUDED.tags
        RETURNING id
        """,
        data.uri,
        data.url,
        group_id,
        author_id,
        data.title,
        data.description_html,
        data.link,
        data.media_type,
        data.original_name,
        data.tags,
    )
    return resource_id


async def list_followed_resources(
    conn: Connection, follower_id: int, *, limit: int = 50
) -> list[Resource]:
    """Return the library items of remote groups an account follows, newest first."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE r.uri IS NOT NULL
          AND r.group_id IN (SELECT target_id FROM follows WHERE follower_id = $1
                             AND state = 'accepted')
        ORDER BY r.id DESC LIMIT $2
        """,
        follower_id,
        limit,
    )
    return [Resource(**dict(r)) for r in rows]
