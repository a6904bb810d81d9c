"""The job runner: handlers by kind, retries with backoff, drops, and exclusive claims."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from server.db import Pool
from server.models import Job
from server.services import inbox
from server.storage import jobs as store
from server.worker import (
    JOB_ENDED,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    PermanentJobError,
    claim,
    retry_delay,
    run_job,
    run_worker,
)
from tests.factories import count_rows


async def add_jobs(db: Pool, kind: str, count: int) -> list[int]:
    async with db.acquire() as conn:
        return [await store.insert_job(conn, kind, {"n": i}) for i in range(count)]


async def job_row(db: Pool, job_id: int) -> Any:
    async with db.acquire() as conn:
        return await conn.fetchrow(
            "SELECT attempts, last_error, extract(epoch FROM run_at - now()) AS wait"
            " FROM jobs WHERE id = $1",
            job_id,
        )


async def run_until(
    db: Pool,
    handlers: dict[str, Callable[[Job], Awaitable[None]]],
    done: Callable[[], Awaitable[bool]],
) -> None:
    """Run a worker until `done()` holds, then stop it; fail after five seconds."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(db, handlers, stop, concurrency=10, idle_seconds=0.02))
    try:
        async with asyncio.timeout(5):
            while not await done():
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_run_worker_hands_each_job_to_the_handler_of_its_kind(db: Pool) -> None:
    seen: list[tuple[str, object]] = []

    async def greet(job: Job) -> None:
        seen.append(("greet", job.payload["n"]))

    async def count(job: Job) -> None:
        seen.append(("count", job.payload["n"]))

    await add_jobs(db, "greet", 3)
    await add_jobs(db, "count", 12)

    async def all_done() -> bool:
        return await count_rows(db, "jobs") == 0

    await run_until(db, {"greet": greet, "count": count}, all_done)
    assert sorted(seen) == sorted(
        [("greet", i) for i in range(3)] + [("count", i) for i in range(12)]
    )


async def test_failing_handler_reschedules_job_with_attempts_incremented(db: Pool) -> None:
    (job_id,) = await add_jobs(db, "flaky", 1)
    calls: list[int] = []

    async def flaky(job: Job) -> None:
        calls.append(job.attempts)
        raise RuntimeError("peer said 503")

    async def failed_once() -> bool:
        row = await job_row(db, job_id)
        return row["last_error"] is not None

    await run_until(db, {"flaky": flaky}, failed_once)
    row = await job_row(db, job_id)
    assert calls == [1]
    assert row["attempts"] == 1
    assert "peer said 503" in row["last_error"]
    # Waits about retry_delay(1) (16 to 26 seconds), far less than a lease.
    assert 10 < row["wait"] < 30


async def test_job_is_retried_when_due_again_and_then_succeeds(db: Pool) -> None:
    (job_id,) = await add_jobs(db, "flaky", 1)
    calls: list[int] = []

    async def flaky(job: Job) -> None:
        calls.append(job.attempts)
        if job.attempts == 1:
            raise RuntimeError("first time fails")

    jobs = await claim(db, 10)
    await run_job(db, {"flaky": flaky}, jobs[0])
    async with db.acquire() as conn:
        await conn.execute("UPDATE jobs SET run_at = now() WHERE id = $1", job_id)
    jobs = await claim(db, 10)
    await run_job(db, {"flaky": flaky}, jobs[0])
    assert calls == [1, 2]
    assert await count_rows(db, "jobs") == 0


async def test_permanent_job_error_drops_the_job(db: Pool) -> None:
    await add_jobs(db, "doomed", 2)
    calls: list[int] = []

    async def doomed(job: Job) -> None:
        calls.append(job.id)
        raise PermanentJobError("the peer answered 410 Gone")

    async def all_done() -> bool:
        return await count_rows(db, "jobs") == 0

    await run_until(db, {"doomed": doomed}, all_done)
    assert len(calls) == 2


async def test_job_of_unknown_kind_is_dropped(db: Pool) -> None:
    await add_jobs(db, "no_such_kind", 1)
    (job,) = await claim(db, 10)
    await run_job(db, {}, job)
    assert await count_rows(db, "jobs") == 0


async def test_job_is_dropped_after_the_last_attempt(db: Pool) -> None:
    (job_id,) = await add_jobs(db, "flaky", 1)
    async with db.acquire() as conn:
        await conn.execute("UPDATE jobs SET attempts = $2 WHERE id = $1", job_id, MAX_ATTEMPTS - 1)

    async def flaky(job: Job) -> None:
        raise RuntimeError("still down")

    (job,) = await claim(db, 10)
    assert job.attempts == MAX_ATTEMPTS
    await run_job(db, {"flaky": flaky}, job)
    assert await count_rows(db, "jobs") == 0


async def test_claimed_job_is_leased_and_not_claimed_again_until_the_lease_ends(
    db: Pool,
) -> None:
    (job_id,) = await add_jobs(db, "slow", 1)
    (job,) = await claim(db, 10)
    assert job.id == job_id
    assert await claim(db, 10) == []
    row = await job_row(db, job_id)
    assert LEASE_SECONDS - 5 < row["wait"] <= LEASE_SECONDS
    # The worker died: once the lease runs out, another claims it.
    async with db.acquire() as conn:
        await conn.execute("UPDATE jobs SET run_at = now() - interval '1 second'")
    (again,) = await claim(db, 10)
    assert (again.id, again.attempts) == (job_id, 2)


async def test_jobs_not_yet_due_are_not_claimed(db: Pool) -> None:
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO jobs (kind, run_at) VALUES ('later', now() + interval '1 minute')"
        )
    assert await claim(db, 10) == []


async def test_two_claimers_in_open_transactions_never_get_the_same_job(db: Pool) -> None:
    ids = set(await add_jobs(db, "work", 30))
    async with db.acquire() as first, db.acquire() as second, first.transaction():
        mine = await store.claim_jobs(first, limit=10, lease_seconds=LEASE_SECONDS)
        # The first claim is not committed yet: its rows are locked and skipped, not waited on.
        async with asyncio.timeout(2), second.transaction():
            theirs = await store.claim_jobs(second, limit=100, lease_seconds=LEASE_SECONDS)
    assert len(mine) == 10
    assert len(theirs) == 20
    assert {j.id for j in mine}.isdisjoint({j.id for j in theirs})
    assert {j.id for j in mine} | {j.id for j in theirs} == ids


async def test_many_concurrent_claims_share_out_jobs_exactly_once(db: Pool) -> None:
    ids = await add_jobs(db, "work", 60)
    batches = await asyncio.gather(*(claim(db, 7) for _ in range(12)))
    claimed = [job.id for batch in batches for job in batch]
    assert sorted(claimed) == sorted(ids)


def test_retry_delay_grows_with_attempts() -> None:
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS + 1)]
    assert all(d >= 15 for d in delays)
    assert all(a < b for a, b in itertools.pairwise(delays))
    assert sum(delays) < 5 * 24 * 3600


async def test_inbox_job_is_claimed_with_its_activity_and_ended_with_its_outcome(
    db: Pool,
) -> None:
    activity = {"id": "https://peer.example/likes/1", "type": "Like", "actor": "https://a"}
    await inbox.accept_activity(
        db, activity_id=activity["id"], type="Like", actor_uri="https://a", payload=activity
    )
    seen: list[object] = []

    async def process(job: Job) -> str:
        seen.append(job.payload["activity"])
        # What federation/processing.py does: the outcome and the job's end in one write.
        row_id = job.payload["row_id"]
        assert isinstance(row_id, int)
        await inbox.record_outcome(db, row_id, "liked", job_id=job.id)
        assert await count_rows(db, "jobs") == 0  # ended by that write, not by the runner
        return JOB_ENDED

    async def done() -> bool:
        return await count_rows(db, "jobs") == 0

    await run_until(db, {inbox.PROCESS_INBOX: process}, done)
    assert seen == [activity]
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT outcome FROM inbox_activities") == "liked"
