"""Storage of personal mutes and blocks: each person's own, read by every list they see."""

from __future__ import annotations

from server.db import Connection


def hidden_from(reader: str, author: str = "a.id") -> str:
    """Return SQL true when `author` is not muted by `reader`, nor blocked either way.

    `reader` and `author` are SQL expressions (a parameter such as `$1`, a column); a reader
    of 0 or NULL (a visitor) hides nothing.
    """
    return f"""(NOT EXISTS (SELECT 1 FROM person_mutes pm
                            WHERE pm.account_id = {reader} AND pm.target_id = {author})
            AND NOT EXISTS (SELECT 1 FROM person_blocks pb
                            WHERE (pb.actor_id = {reader} AND pb.target_id = {author})
                               OR (pb.actor_id = {author} AND pb.target_id = {reader})))"""


async def insert_mute(conn: Connection, account_id: int, target_id: int) -> bool:
    status: str = await conn.execute(
        """
        INSERT INTO person_mutes (account_id, target_id) VALUES ($1, $2)
        ON CONFLICT DO NOTHING
        """,
        account_id,
        target_id,
    )
    return status == "INSERT 0 1"


async def delete_mute(conn: Connection, account_id: int, target_id: int) -> bool:
    status: str = await conn.execute(
        "DELETE FROM person_mutes WHERE account_id = $1 AND target_id = $2",
        account_id,
        target_id,
    )
    return status == "DELETE 1"


async def insert_block(conn: Connection, actor_id: int, target_id: int, uri: str) -> bool:
    """Record a block; an existing one keeps its id (a repeated Block changes nothing)."""
    status: str = await conn.execute(
        """
        INSERT INTO person_blocks (actor_id, target_id, uri) VALUES ($1, $2, $3)
        ON CONFLICT DO NOTHING
        """,
        actor_id,
        target_id,
        uri,
    )
    return status == "INSERT 0 1"


async def delete_block(conn: Connection, actor_id: int, target_id: int) -> str | None:
    """Remove a block; return the id of the Block it had, or None if there was none."""
    uri: str | None = await conn.fetchval(
        "DELETE FROM person_blocks WHERE actor_id = $1 AND target_id = $2 RETURNING uri",
        actor_id,
        target_id,
    )
    return uri


async def delete_block_by_uri(conn: Connection, actor_id: int, uri: str) -> bool:
    status: str = await conn.execute(
        "DELETE FROM person_blocks WHERE actor_id = $1 AND uri = $2", actor_id, uri
    )
    return status == "DELETE 1"


async def is_blocked_either_way(conn: Connection, a: int, b: int) -> bool:
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM person_blocks
                       WHERE (actor_id = $1 AND target_id = $2)
                          OR (actor_id = $2 AND target_id = $1))
        """,
        a,
        b,
    )
    return found


async def list_muted_ids(conn: Connection, account_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT target_id FROM person_mutes WHERE account_id = $1 ORDER BY created_at DESC",
        account_id,
    )
    return [r["target_id"] for r in rows]


async def list_blocked_ids(conn: Connection, account_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT target_id FROM person_blocks WHERE actor_id = $1 ORDER BY created_at DESC",
        account_id,
    )
    return [r["target_id"] for r in rows]
