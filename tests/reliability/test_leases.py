"""Leases that end with their worker (server/leases.py), one claim at a time.

A worker "dies" here by having its session ended with pg_terminate_backend, which is what
PostgreSQL sees of a process killed with SIGKILL; tests/reliability/test_faults.py kills real ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.config import Config
from server.db import Pool, is_unreachable
from server.leases import WorkerLease
from server.services import deliveries
from server.services.outbox import publish_activity
from server.storage import jobs as job_store
from server.worker import claim
from tests.factories import make_account
from tests.reliability.seeding import fault_config


async def queue_deliveries(db: Pool, config: Config, count: int) -> None:
    owner = await make_account(db, config, "owner")
    await publish_activity(
        db, uri="http://127.0.0.1:8000/activities/1", actor_id=owner.id, type="Create",
        payload={"type": "Create"},
        inboxes=[f"http://127.0.0.1:9/inbox/{i}" for i in range(count)],
    )  # fmt: skip


async def die(lease: WorkerLease) -> None:
    """End the worker's session as the death of its process would."""
    async with lease.connection() as conn:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
    async with lease.db.acquire() as conn:
        await conn.execute("SELECT pg_terminate_backend($1)", pid)


async def claim_when_back(lease: WorkerLease, limit: int = 10) -> list[int]:
    """Claim with a worker whose session was ended: the first try finds it dead."""
    for _ in range(20):
        try:
            return [
                r["id"] for r in await deliveries.claim_deliveries(lease.db, limit, lease=lease)
            ]
        except Exception as exc:  # the dead session, noticed on its first use
            if not is_unreachable(exc):
                raise
        await asyncio.sleep(0.05)
    raise AssertionError("the worker did not reconnect")


@pytest.fixture
async def leases(db: Pool) -> AsyncIterator[tuple[WorkerLease, WorkerLease]]:
    """Two workers' leases on one pool, closed after the test."""
    first, second = WorkerLease(db), WorkerLease(db)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def config_for(db_url: str, tmp_path: Path) -> Config:
    return fault_config(db_url, "http://127.0.0.1:8000", tmp_path)


async def test_a_living_workers_claims_are_left_alone(
    db: Pool, pg_url: str, tmp_path: Path, leases: tuple[WorkerLease, WorkerLease]
) -> None:
    first, second = leases
    await queue_deliveries(db, config_for(pg_url, tmp_path), 5)
    mine = await deliveries.claim_deliveries(db, 10, lease=first)
    assert len(mine) == 5
    assert await deliveries.claim_deliveries(db, 10, lease=second) == []


async def test_a_dead_workers_claims_are_taken_back_at_once(
    db: Pool, pg_url: str, tmp_path: Path, leases: tuple[WorkerLease, WorkerLease]
) -> None:
    first, second = leases
    await queue_deliveries(db, config_for(pg_url, tmp_path), 5)
    mine = await deliveries.claim_deliveries(db, 10, lease=first)
    await die(first)
    theirs = await deliveries.claim_deliveries(db, 10, lease=second)
    assert sorted(r["id"] for r in theirs) == sorted(r["id"] for r in mine)
    assert {r["attempts"] for r in theirs} == {2}  # the dead worker's attempt counts
    async with db.acquire() as conn:
        keys = await conn.fetch("SELECT DISTINCT claimed_by FROM deliveries")
    assert [k["claimed_by"] for k in keys] == [second.key]


async def test_a_reconnected_worker_keeps_its_claims(
    db: Pool, pg_url: str, tmp_path: Path, leases: tuple[WorkerLease, WorkerLease]
) -> None:
    first, second = leases
    await queue_deliveries(db, config_for(pg_url, tmp_path), 5)
    await deliveries.claim_deliveries(db, 3, lease=first)
    key = first.key
    await die(first)
    # Back with the same key, it neither claims its own rows again nor lets them go.
    assert len(await claim_when_back(first)) == 2
    assert first.key == key
    assert await deliveries.claim_deliveries(db, 10, lease=second) == []


async def test_a_retry_waits_its_backoff_even_when_its_worker_dies(
    db: Pool, pg_url: str, tmp_path: Path, leases: tuple[WorkerLease, WorkerLease]
) -> None:
    first, second = leases
    await queue_deliveries(db, config_for(pg_url, tmp_path), 1)
    (row,) = await deliveries.claim_deliveries(db, 10, lease=first)
    await deliveries.record_retry(db, row["id"], row["host"], delay_seconds=60, error="HTTP 500")
    await die(first)
    assert await deliveries.claim_deliveries(db, 10, lease=second) == []


async def test_a_dead_workers_jobs_are_taken_back_at_once(
    db: Pool, leases: tuple[WorkerLease, WorkerLease]
) -> None:
    first, second = leases
    async with db.acquire() as conn:
        job_id = await job_store.insert_job(conn, "work", {})
    assert [j.id for j in await claim(db, 10, lease=first)] == [job_id]
    assert await claim(db, 10, lease=second) == []
    await die(first)
    (again,) = await claim(db, 10, lease=second)
    assert (again.id, again.attempts) == (job_id, 2)


async def test_a_lease_gives_back_a_connection_that_died_under_it(db: Pool) -> None:
    lease = WorkerLease(db)
    await claim(db, 1, lease=lease)
    async with lease.connection() as conn:
        # What asyncpg does to a connection lost in the middle of a query (seen when PostgreSQL
        # restarts under load): closed, but still checked out of the pool.
        conn._con._abort()
    assert await claim(db, 1, lease=lease) == []  # on a new connection, the lock taken again
    await lease.close()
    # A lease that lost track of the dead connection would make this wait forever.
    await asyncio.wait_for(db.close(), 5)
