"""Worker keys: a session-level advisory lock per living worker, named in the rows it claims."""

from __future__ import annotations

from typing import Literal

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


async def count_live_workers(conn: Connection) -> int:
    """Return how many workers hold their lock on this database: each one is alive."""
    # pg_locks lists two-part advisory keys as classid (first part), objid (second), objsubid 2.
    count: int = await conn.fetchval(
        """
        SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint = $1
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """,
        WORKER_LOCK_SPACE,
    )
    return count


async def release_claims_of_dead_workers(
    conn: Connection, table: Literal["jobs", "deliveries"], worker_key: int | None
) -> None:
    """Make due again the rows claimed by workers whose session ended.

    A dead worker's rows in flight will never be recorded. The try-lock is transaction-scoped:
    it only tells whether the claimer is alive; our own key is excluded because a session may
    take its own lock twice. `table` is one of two literals, never input.
    """
    await conn.execute(
        f"""
        UPDATE {table} SET run_at = now(), claimed_by = NULL
        WHERE id IN (
            SELECT id FROM {table}
            WHERE claimed_by IS NOT NULL AND claimed_by IS DISTINCT FROM $1
              AND pg_try_advisory_xact_lock($2, claimed_by)
            FOR UPDATE SKIP LOCKED
        )
        """,
        worker_key,
        WORKER_LOCK_SPACE,
    )
