"""The durable inbox: a received activity is stored, with its processing job, before the 202."""

from __future__ import annotations

from typing import Any

from server.db import Pool
from server.storage import activities as store

PROCESS_INBOX = "process_inbox"


async def accept_activity(
    db: Pool, *, activity_id: str, type: str, actor_uri: str, payload: dict[str, Any]
) -> bool:
    """Store a verified activity and queue its processing; False if it was already received."""
    # One statement: the row and its job are written together, in one round trip
    # (bench/inbox.py: the transaction and two inserts were most of a POST's cost).
    async with db.acquire() as conn:
        row_id = await store.insert_inbox_activity_and_job(
            conn,
            activity_id=activity_id,
            type=type,
            actor_uri=actor_uri,
            payload=payload,
            job_kind=PROCESS_INBOX,
        )
    return row_id is not None


async def get_activity(db: Pool, row_id: int) -> dict[str, Any] | None:
    async with db.acquire() as conn:
        return await store.get_inbox_activity(conn, row_id)


async def record_outcome(db: Pool, row_id: int, outcome: str, *, job_id: int | None = None) -> None:
    """Record what processing an activity did; with `job_id`, its job ends in the same write."""
    async with db.acquire() as conn:
        await store.update_inbox_outcome(conn, row_id, outcome, job_id)


async def was_undone(db: Pool, activity_id: str, actor_uri: str) -> bool:
    """Tell whether an Undo of this activity by its actor was received (maybe before it)."""
    async with db.acquire() as conn:
        return await store.exists_undo_of(conn, activity_id, actor_uri)


async def get_received_activity(db: Pool, activity_id: str, type: str) -> dict[str, Any] | None:
    async with db.acquire() as conn:
        return await store.find_inbox_payload(conn, activity_id, type)
