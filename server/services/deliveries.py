"""Delivery bookkeeping: claim due deliveries, record outcomes per delivery and per host."""

from __future__ import annotations

from typing import Any

from server.db import Pool
from server.leases import WorkerLease, claiming
from server.storage import activities as store

LEASE_SECONDS = 120
# Mastodon marks a host unavailable after failures on 7 distinct days.
DAYS_TO_UNAVAILABLE = 7


async def claim_deliveries(
    db: Pool, limit: int, *, lease: WorkerLease | None = None
) -> list[dict[str, Any]]:
    """Claim due deliveries; with a lease, on its connection, stamped with its key."""
    async with claiming(db, lease) as (conn, key):
        return await store.claim_deliveries(
            conn, limit=limit, lease_seconds=LEASE_SECONDS, worker_key=key
        )


async def record_successes(db: Pool, delivered: list[tuple[int, str]]) -> None:
    """Record a batch of successes, given as (delivery id, host), in one transaction.

    A row recorded twice (a retried commit, a lease taken back) is counted once: only the rows
    this transaction deleted add to the tallies. Activities are updated in id order and hosts
    in host order, so the batches of two workers cannot deadlock.
    """
    async with db.acquire() as conn, conn.transaction():
        for activity_row_id, count in await store.delete_delivered(
            conn, [delivery_id for delivery_id, _ in delivered]
        ):
            await store.update_delivered_count(conn, activity_row_id, count)
        await store.record_hosts_success(conn, [host for _, host in delivered])


async def record_permanent_failure(
    db: Pool, delivery_id: int, activity_row_id: int, *, gone_inbox: str | None = None
) -> None:
    """Drop a delivery for good; a 410 from a personal inbox removes the actor behind it."""
    async with db.acquire() as conn, conn.transaction():
        await store.drop_delivery(conn, delivery_id, activity_row_id)
        if gone_inbox is not None:
            await conn.execute(
                "DELETE FROM actors WHERE inbox = $1 AND domain IS NOT NULL", gone_inbox
            )


async def record_retry(
    db: Pool, delivery_id: int, host: str, *, delay_seconds: float, error: str
) -> None:
    async with db.acquire() as conn, conn.transaction():
        await store.update_delivery_retry(
            conn, delivery_id, delay_seconds=delay_seconds, error=error
        )
        await store.record_host_failure(conn, host, days_to_unavailable=DAYS_TO_UNAVAILABLE)
