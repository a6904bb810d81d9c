"""The job runner: claims rows from `jobs` and hands each to the handler of its kind.

Any number of runners, in any number of processes, share the table; a claim is a lease that
ends with its worker (server/leases.py), so a job whose worker died is picked up again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from server.db import Pool, is_unreachable, retry_while_unreachable
from server.leases import WorkerLease, claiming
from server.models import Job
from server.storage import jobs as store

log = logging.getLogger(__name__)

# A handler returns JOB_ENDED when it deleted its job itself, in the statement that recorded
# its result (one round trip fewer per job); otherwise the runner deletes the job after it.
JOB_ENDED = "job ended"
Handler = Callable[[Job], Awaitable[object]]

LEASE_SECONDS = 300
# Like Mastodon's Sidekiq retries: (attempt^4 + 15 + jitter) seconds, 16 attempts ≈ 3.5 days.
MAX_ATTEMPTS = 16
# A job that failed because PostgreSQL was out of reach is tried again soon.
DB_RETRY_SECONDS = 2.0


class PermanentJobError(Exception):
    """The job can never succeed (a peer said 4xx, the object is gone): drop it."""


def retry_delay(attempts: int) -> float:
    """Return the wait before the next attempt, growing with the number already made."""
    return float(attempts**4 + 15 + random.randint(0, 10 * attempts))


async def run_job(db: Pool, handlers: Mapping[str, Handler], job: Job) -> None:
    """Run one claimed job and record its outcome; never raises (the lease is the fallback)."""
    handler = handlers.get(job.kind)
    try:
        if handler is None:
            raise PermanentJobError(f"no handler for job kind {job.kind!r}")
        if await handler(job) == JOB_ENDED:
            return
    except PermanentJobError as exc:
        log.warning("job %s (%s) dropped: %s", job.id, job.kind, exc)
    except Exception as exc:
        if job.attempts >= MAX_ATTEMPTS:
            log.warning("job %s (%s) gave up after %s attempts", job.id, job.kind, job.attempts)
        else:
            # The database went away under the job, not the job's peer: no backoff for that.
            # (Handlers reach peers through FetchError; an OSError here is the pool's socket.)
            delay = DB_RETRY_SECONDS if is_unreachable(exc) else retry_delay(job.attempts)
            log.warning(
                "job %s (%s) failed, next attempt in %.0f s: %r", job.id, job.kind, delay, exc
            )
            await _record(db, job, store.update_job_retry, delay_seconds=delay, error=repr(exc))
            return
    await _record(db, job, store.delete_job)


async def _record(db: Pool, job: Job, write: Callable[..., Awaitable[None]], **kw: Any) -> None:
    async def attempt() -> None:
        async with db.acquire() as conn:
            await write(conn, job.id, **kw)

    try:
        # PostgreSQL restarting: keep the outcome until it is back, while the lease lasts.
        await retry_while_unreachable(attempt, seconds=LEASE_SECONDS)
    except Exception:
        log.exception("job %s (%s): outcome not recorded, its lease will end", job.id, job.kind)


async def claim(db: Pool, limit: int, *, lease: WorkerLease | None = None) -> list[Job]:
    """Claim due jobs; with a lease, on its connection, stamped with its key."""
    async with claiming(db, lease) as (conn, key):
        return await store.claim_jobs(
            conn, limit=limit, lease_seconds=LEASE_SECONDS, worker_key=key
        )


async def run_worker(
    db: Pool,
    handlers: Mapping[str, Handler],
    stop: asyncio.Event,
    *,
    concurrency: int = 50,
    idle_seconds: float = 0.5,
    lease: WorkerLease | None = None,
) -> None:
    """Work until `stop` is set: claim due jobs in batches, run them concurrently.

    Without a `lease` (shared with the delivery worker of the process) the runner takes its own.
    """
    own_lease, lease = lease is None, lease or WorkerLease(db)
    try:
        while not stop.is_set():
            try:
                jobs = await claim(db, concurrency, lease=lease)
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
    finally:
        if own_lease:
            await lease.close()
