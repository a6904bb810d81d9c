"""Worker keys: a session-level advisory lock per living worker, named in the rows it claims."""

from __future__ import annotations

from server.db import Connection

# The first half of the two-part advisory lock keys of workers (the second is the worker's key).
# server/migrate.py locks the one-part key 7_335_021: the two forms never collide.
WORKER_LOCK_SPACE = 7_335_022


async def get_next_worker_key(conn: Connection) -> int:
    """Return a key no other worker has (unless 2³¹ workers started since)."""
    key: int = await conn.fetchval("SELECT nextval('worker_keys')::integer")
    return key


async def try_lock_worker_key(conn: Connection, key: int) -> bool:
    """Take the worker's lock for as long as this session lives; False if it is held."""
    taken: bool = await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", WORKER_LOCK_SPACE, key)
    return taken
