"""The job queue: rows claimed by any number of workers with FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from server.db import Connection
from server.models import Job
from server.storage.workers import release_claims_of_dead_workers


async def insert_job(
    conn: Connection, kind: str, payload: dict[str, Any], run_at: datetime | None = None
) -> int:
    job_id: int = await conn.fetchval(
        "INSERT INTO jobs (kind, payload, run_at) VALUES ($1, $2::jsonb, coalesce($3, now()))"
        " RETURNING id",
        kind,
        json.dumps(payload),
        run_at,
    )
    return job_id


async def claim_jobs(
    conn: Connection, *, limit: int, lease_seconds: int, worker_key: int | None = None
) -> list[Job]:
    """Claim due jobs by pushing their run_at past a lease; a crashed worker's lease expires.

    Must run inside a transaction; the lease makes the claim survive the commit so that the
    job can be worked on without holding the row lock. The rows carry `worker_key`: the jobs
    of a worker whose lock is free (it died) are due again at once, see server/leases.py.
    A job about a received activity (`row_id`) comes with it, as `activity` in its payload:
    its handler needs it, and reading it in the claim saves a round trip per job.
    """
    await release_claims_of_dead_workers(conn, "jobs", worker_key)
    rows = await conn.fetch(
        """
        UPDATE jobs SET run_at = now() + make_interval(secs => $2), attempts = attempts + 1,
                        claimed_by = $3
        WHERE id IN (
            SELECT id FROM jobs WHERE run_at <= now()
            ORDER BY run_at, id
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        )
        RETURNING id, kind, attempts, CASE
            WHEN payload ? 'row_id' THEN payload || jsonb_build_object('activity', (
                SELECT a.payload FROM inbox_activities a
                WHERE a.id = (jobs.payload->>'row_id')::bigint
            ))
            ELSE payload
        END AS payload
        """,
        limit,
        lease_seconds,
        worker_key,
    )
    return [Job(r["id"], r["kind"], json.loads(r["payload"]), r["attempts"]) for r in rows]


async def delete_job(conn: Connection, job_id: int) -> None:
    await conn.execute("DELETE FROM jobs WHERE id = $1", job_id)


async def update_job_retry(
    conn: Connection, job_id: int, *, delay_seconds: float, error: str
) -> None:
    await conn.execute(
        # No longer in flight: the wait is a backoff, not a lease a dead worker would end.
        "UPDATE jobs SET run_at = now() + make_interval(secs => $2), last_error = $3,"
        " claimed_by = NULL WHERE id = $1",
        job_id,
        delay_seconds,
        error[:1000],
    )


async def count_jobs(conn: Connection) -> int:
    value: int = await conn.fetchval("SELECT count(*) FROM jobs")
    return value


async def insert_job_unless_queued(
    conn: Connection, kind: str, payload: dict[str, Any], run_at: datetime
) -> bool:
    """Queue a job unless the same one already waits unclaimed: a burst of changes, one job."""
    result: str = await conn.execute(
        """
        INSERT INTO jobs (kind, payload, run_at)
        SELECT $1, $2::jsonb, $3
        WHERE NOT EXISTS (
            SELECT 1 FROM jobs
            WHERE kind = $1 AND payload = $2::jsonb AND attempts = 0 AND claimed_by IS NULL
        )
        """,
        kind,
        json.dumps(payload),
        run_at,
    )
    return result.endswith(" 1")
