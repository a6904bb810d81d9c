"""Storage reads and fixes for the state of the queues: jobs, deliveries, hosts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.db import Connection


async def get_queue_state(conn: Connection) -> dict[str, Any]:
    """Return counts and ages of jobs and deliveries, and unavailable hosts."""
    row = await conn.fetchrow(
        """
        SELECT
          (SELECT count(*) FROM jobs) AS jobs,
          (SELECT count(*) FROM jobs WHERE attempts > 0 AND last_error IS NOT NULL) AS jobs_failing,
          (SELECT min(created_at) FROM jobs) AS oldest_job,
          (SELECT count(*) FROM deliveries) AS deliveries,
          (SELECT count(*) FROM deliveries WHERE attempts > 0 AND last_error IS NOT NULL)
              AS deliveries_failing,
          (SELECT min(o.created_at) FROM deliveries d JOIN outbox_activities o
              ON o.id = d.activity_id) AS oldest_delivery,
          (SELECT count(*) FROM hosts WHERE unavailable) AS unavailable_hosts,
          now() AS now
        """
    )
    assert row is not None
    return dict(row)


async def list_failing_hosts(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT h.host, h.unavailable, cardinality(h.failure_days) AS failure_days,
               h.last_failure_at, h.last_success_at,
               (SELECT count(*) FROM deliveries d WHERE d.host = h.host) AS waiting,
               (SELECT max(d.last_error) FROM deliveries d WHERE d.host = h.host) AS last_error
        FROM hosts h
        WHERE h.unavailable OR cardinality(h.failure_days) > 0
        ORDER BY h.unavailable DESC, h.last_failure_at DESC NULLS LAST
        LIMIT $1
        """,
        limit,
    )
    return [dict(r) for r in rows]


async def retry_host_now(conn: Connection, host: str) -> int:
    """Make a host's waiting deliveries due now and clear its unavailability; return how many."""
    await conn.execute(
        "UPDATE hosts SET unavailable = false, failure_days = '{}' WHERE host = $1", host
    )
    # Rows claimed by a living worker are in flight: making them due again would send them twice.
    result: str = await conn.execute(
        "UPDATE deliveries SET run_at = now() WHERE host = $1 AND claimed_by IS NULL", host
    )
    return int(result.split()[-1])


async def give_up_host(conn: Connection, host: str) -> int:
    """Drop a host's waiting deliveries, counted as failed; return how many."""
    rows = await conn.fetch("DELETE FROM deliveries WHERE host = $1 RETURNING activity_id", host)
    for row in rows:
        await conn.execute(
            "UPDATE outbox_activities SET failed = failed + 1 WHERE id = $1", row["activity_id"]
        )
    return len(rows)


async def get_database_now(conn: Connection) -> datetime:
    value: datetime = await conn.fetchval("SELECT now()")
    return value


async def get_server_version(conn: Connection) -> int:
    value: int = await conn.fetchval("SELECT current_setting('server_version_num')::int")
    return value
