"""The job runner: claims rows from `jobs` and hands each to the handler of its kind.

Any number of runners, in any number of processes, share the table; a claim is a lease, so a
job whose worker died is picked up again when the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping

from server.db import Pool
from server.models import Job
from server.storage import jobs as store

log = logging.getLogger(__name__)

Handler = Callable[[Job], Awaitable[None]]

LEASE_SECONDS = 300
# Like Mastodon's Sidekiq retries: (attempt^4 + 15 + jitter) seconds, 16 attempts ≈ 3.5 days.
MAX_ATTEMPTS = 16


class PermanentJobError(Exception):
    """The job can never succeed (a peer said 4xx, the object is gone): drop it."""


def retry_delay(attempts: int) -> float:
    """Return the wait before the next attempt, growing with the number already made."""
    return float(attempts**4 + 15 + random.randint(0, 10 * attempts))


async def run_job(db: Pool, handlers: Mapping[str, Handler], job: Job) -> None:
    """Run one claimed job and record its outcome."""
    handler = handlers.get(job.kind)
    try:
        if handler is None:
            raise PermanentJobError(f"no handler for job kind {job.kind!r}")
        await handler(job)
    except PermanentJobError as exc:
        log.info("job %s (%s) dropped: %s", job.id, job.kind, exc)
    except Exception as exc:
        if job.attempts >= MAX_ATTEMPTS:
            log.warning("job %s (%s) gave up after %s attempts", job.id, job.kind, job.attempts)
        else:
            async with db.acquire() as conn:
                await store.update_job_retry(
                    conn, job.id, delay_seconds=retry_delay(job.attempts), error=repr(exc)
                )
            return
    async with db.acquire() as conn:
        await store.delete_job(conn, job.id)


async def claim(db: Pool, limit: int) -> list[Job]:
    async with db.acquire() as conn, conn.transaction():
        return await store.claim_jobs(conn, limit=limit, lease_seconds=LEASE_SECONDS)


async def run_worker(
    db: Pool,
    handlers: Mapping[str, Handler],
    stop: asyncio.Event,
    *,
    concurrency: int = 50,
    idle_seconds: float = 0.5,
) -> None:
    """Work until `stop` is set: claim due jobs in batches, run them concurrently."""
    while not stop.is_set():
        try:
            jobs = await claim(db, concurrency)
        except (TimeoutError, OSError) as exc:
            # PostgreSQL restarting: wait and try again, the pool reconnects.
            log.warning("job claim failed, retrying: %s", exc)
            jobs = []
        except Exception as exc:
            if type(exc).__module__.startswith("asyncpg"):
                log.warning("job claim failed, retrying: %s", exc)
                jobs = []
            else:
                raise
        if not jobs:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), idle_seconds)
            continue
        await asyncio.gather(*(run_job(db, handlers, job) for job in jobs))
