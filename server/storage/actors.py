"""Storage of actors as federation sees them: local and remote, with keys and inboxes."""

from __future__ import annotations

from typing import Any

from server.db import Connection
from server.models import Actor, RemoteActorData

_COLUMNS = """
    id, kind, name, domain, uri, display_name, summary_html, avatar, url, inbox, shared_inbox,
    outbox, followers_uri, key_id, public_key_pem, private_key_pem, manually_approves,
    created_at, updated_at, topics, place, language
"""


def _actor(row: Any) -> Actor:
    data = dict(row)
    return Actor(**{**data, "topics": tuple(data["topics"])})


async def get_actor(conn: Connection, actor_id: int) -> Actor | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM actors WHERE id = $1", actor_id)
    return _actor(row) if row else None


async def find_local_actor(conn: Connection, name: str) -> Actor | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM actors WHERE lower(name) = lower($1) AND domain IS NULL",
        name,
    )
    return _actor(row) if row else None


async def find_remote_actor_by_uri(conn: Connection, uri: str) -> Actor | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM actors WHERE uri = $1", uri)
    return _actor(row) if row else None


async def find_remote_actor_by_key_id(conn: Connection, key_id: str) -> Actor | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM actors WHERE key_id = $1 ORDER BY id LIMIT 1", key_id
    )
    return _actor(row) if row else None


async def find_remote_actor_by_handle(conn: Connection, name: str, domain: str) -> Actor | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM actors WHERE lower(name) = lower($1) AND domain = lower($2)",
        name,
        domain,
    )
    return _actor(row) if row else None


async def upsert_remote_actor(conn: Connection, data: RemoteActorData) -> int:
    """Insert or refresh a remote actor by its URI; return its id."""
    actor_id: int = await conn.fetchval(
        """
        INSERT INTO actors (kind, name, domain, uri, display_name, summary_html, avatar, url,
                            inbox, shared_inbox, outbox, followers_uri, key_id, public_key_pem,
                            manually_approves, topics, place, language, fetched_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                now())
        ON CONFLICT (uri) DO UPDATE SET
            kind = EXCLUDED.kind, name = EXCLUDED.name, display_name = EXCLUDED.display_name,
            summary_html = EXCLUDED.summary_html, avatar = EXCLUDED.avatar, url = EXCLUDED.url,
            inbox = EXCLUDED.inbox, shared_inbox = EXCLUDED.shared_inbox,
            outbox = EXCLUDED.outbox, followers_uri = EXCLUDED.followers_uri,
            key_id = EXCLUDED.key_id, public_key_pem = EXCLUDED.public_key_pem,
            manually_approves = EXCLUDED.manually_approves, topics = EXCLUDED.topics,
            place = EXCLUDED.place, language = EXCLUDED.language, fetched_at = now(),
            updated_at = now()
        RETURNING id
        """,
        data.kind,
        data.name,
        data.domain,
        data.uri,
        data.display_name,
        data.summary_html,
        data.avatar,
        data.url,
        data.inbox,
        data.shared_inbox,
        data.outbox,
        data.followers_uri,
        data.key_id,
        data.public_key_pem,
        data.manually_approves,
        list(data.topics),
        data.place,
        data.language,
    )
    return actor_id


async def delete_remote_actor(conn: Connection, actor_id: int) -> None:
    """Remove a remote actor and, by cascade, its posts, follows and likes."""
    await conn.execute("DELETE FROM actors WHERE id = $1 AND domain IS NOT NULL", actor_id)


async def insert_instance_actor(
    conn: Connection, name: str, private_key_pem: str, public_key_pem: str
) -> None:
    await conn.execute(
        """
        INSERT INTO actors (kind, name, display_name, private_key_pem, public_key_pem)
        VALUES ('application', $1, $1, $2, $3)
        ON CONFLICT DO NOTHING
        """,
        name,
        private_key_pem,
        public_key_pem,
    )


async def count_local_people(conn: Connection) -> tuple[int, int, int]:
    """Return (total, active in the last month, active in the last half year) local accounts."""
    row = await conn.fetchrow(
        """
        SELECT count(*) AS total,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM posts p WHERE p.author_id = c.actor_id
                   AND p.created_at > now() - interval '30 days')) AS month,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM posts p WHERE p.author_id = c.actor_id
                   AND p.created_at > now() - interval '180 days')) AS half_year
        FROM accounts c WHERE c.status = 'active'
        """
    )
    assert row is not None
    return int(row["total"]), int(row["month"]), int(row["half_year"])
