"""Storage of the inbox (received activities) and the outbox (published ones, with deliveries)."""

from __future__ import annotations

import json
from typing import Any

from server.db import Connection
from server.models import DeliveryStats
from server.storage.workers import release_claims_of_dead_workers


async def insert_inbox_activity_and_job(
    conn: Connection,
    *,
    activity_id: str,
    type: str,
    actor_uri: str,
    payload: dict[str, Any],
    job_kind: str,
) -> int | None:
    """Store a received activity and its processing job in one statement (one round trip,
    atomic without a transaction); return the row id, or None if it was already received."""
    row_id: int | None = await conn.fetchval(
        """
        WITH stored AS (
            INSERT INTO inbox_activities (activity_id, type, actor_uri, payload)
            VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (activity_id, type) DO NOTHING
            RETURNING id
        ), queued AS (
            INSERT INTO jobs (kind, payload)
            SELECT $5, jsonb_build_object('row_id', id) FROM stored
        )
        SELECT id FROM stored
        """,
        activity_id,
        type,
        actor_uri,
        json.dumps(payload),
        job_kind,
    )
    return row_id


async def get_inbox_activity(conn: Connection, row_id: int) -> dict[str, Any] | None:
    value = await conn.fetchval("SELECT payload FROM inbox_activities WHERE id = $1", row_id)
    return json.loads(value) if value is not None else None


async def update_inbox_outcome(
    conn: Connection, row_id: int, outcome: str, job_id: int | None = None
) -> None:
    """Record a processed activity's outcome; with its job's id, delete the job in the same
    statement (one round trip, and the outcome is never recorded without the job ending)."""
    await conn.execute(
        """
        WITH done AS (DELETE FROM jobs WHERE id = $3)
        UPDATE inbox_activities SET processed_at = now(), outcome = $2 WHERE id = $1
        """,
        row_id,
        outcome[:500],
        job_id,
    )


async def count_inbox_activities(conn: Connection) -> int:
    value: int = await conn.fetchval("SELECT count(*) FROM inbox_activities")
    return value


async def insert_outbox_activity(
    conn: Connection,
    *,
    uri: str,
    actor_id: int,
    type: str,
    payload: dict[str, Any],
    post_id: int | None,
    public: bool,
) -> int:
    row_id: int = await conn.fetchval(
        """
        INSERT INTO outbox_activities (uri, actor_id, type, payload, post_id, public)
        VALUES ($1, $2, $3, $4::jsonb, $5, $6)
        ON CONFLICT (uri) DO UPDATE SET payload = EXCLUDED.payload
        RETURNING id
        """,
        uri,
        actor_id,
        type,
        json.dumps(payload),
        post_id,
        public,
    )
    return row_id


async def find_outbox_activity(conn: Connection, uri: str) -> dict[str, Any] | None:
    value = await conn.fetchval(
        "SELECT payload FROM outbox_activities WHERE uri = $1 AND public", uri
    )
    return json.loads(value) if value is not None else None


async def list_outbox(
    conn: Connection, actor_id: int, *, before_id: int | None, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    rows = await conn.fetch(
        """
        SELECT id, payload FROM outbox_activities
        WHERE actor_id = $1 AND public AND ($2::bigint IS NULL OR id < $2)
        ORDER BY id DESC LIMIT $3
        """,
        actor_id,
        before_id,
        limit,
    )
    return [(r["id"], json.loads(r["payload"])) for r in rows]


async def count_outbox(conn: Connection, actor_id: int) -> int:
    value: int = await conn.fetchval(
        "SELECT count(*) FROM outbox_activities WHERE actor_id = $1 AND public", actor_id
    )
    return value


async def insert_deliveries(conn: Connection, activity_row_id: int, inboxes: list[str]) -> int:
    """Queue one delivery per distinct inbox; return how many were queued.

    Nothing is ever queued to a blocked server.
    """
    result: str = await conn.execute(
        """
        INSERT INTO deliveries (activity_id, inbox, host)
        SELECT $1, inbox, host FROM (
            SELECT inbox, lower(split_part(split_part(inbox, '://', 2), '/', 1)) AS host
            FROM unnest($2::text[]) AS inbox
        ) AS target
        WHERE host NOT IN (SELECT domain FROM domain_blocks)
        ON CONFLICT (activity_id, inbox) DO NOTHING
        """,
        activity_row_id,
        inboxes,
    )
    return int(result.split()[-1])


async def claim_deliveries(
    conn: Connection, *, limit: int, lease_seconds: int, worker_key: int | None = None
) -> list[dict[str, Any]]:
    """Claim due deliveries to available hosts (in a transaction; the lease outlives it).

    The rows carry `worker_key`; rows whose worker is gone are due again first.
    """
    await release_claims_of_dead_workers(conn, "deliveries", worker_key)
    rows = await conn.fetch(
        """
        UPDATE deliveries d SET run_at = now() + make_interval(secs => $2),
                                attempts = d.attempts + 1, claimed_by = $3
        FROM outbox_activities o, actors a
        WHERE d.id IN (
            SELECT id FROM deliveries
            WHERE run_at <= now()
              -- unavailable hosts get one probe an hour; a success makes them available
              AND host NOT IN (SELECT host FROM hosts WHERE unavailable
                               AND last_failure_at > now() - interval '1 hour')
            ORDER BY run_at, id
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        )
        AND o.id = d.activity_id AND a.id = o.actor_id
        RETURNING d.id, d.inbox, d.host, d.attempts, d.activity_id, o.payload, a.kind,
                  a.name, a.private_key_pem
        """,
        limit,
        lease_seconds,
        worker_key,
    )
    return [dict(r) for r in rows]


async def delete_delivered(conn: Connection, delivery_ids: list[int]) -> list[tuple[int, int]]:
    """Delete delivered rows; return (activity row id, rows this call deleted), by activity id."""
    rows = await conn.fetch(
        """
        WITH gone AS (
            DELETE FROM deliveries WHERE id = ANY($1::bigint[]) RETURNING activity_id
        )
        SELECT activity_id, count(*) AS n FROM gone GROUP BY activity_id ORDER BY activity_id
        """,
        delivery_ids,
    )
    return [(r["activity_id"], r["n"]) for r in rows]


async def update_delivered_count(conn: Connection, activity_row_id: int, count: int) -> None:
    """Add successes to an activity's tally (the organizers' delivered figure)."""
    await conn.execute(
        "UPDATE outbox_activities SET delivered = delivered + $2 WHERE id = $1",
        activity_row_id,
        count,
    )


async def drop_delivery(conn: Connection, delivery_id: int, activity_row_id: int) -> None:
    """Record a permanent failure."""
    if await conn.fetchval("DELETE FROM deliveries WHERE id = $1 RETURNING id", delivery_id):
        await conn.execute(
            "UPDATE outbox_activities SET failed = failed + 1 WHERE id = $1", activity_row_id
        )


async def update_delivery_retry(
    conn: Connection, delivery_id: int, *, delay_seconds: float, error: str
) -> None:
    await conn.execute(
        # No longer in flight: the wait is a backoff, not a lease a dead worker would end.
        "UPDATE deliveries SET run_at = now() + make_interval(secs => $2), last_error = $3,"
        " claimed_by = NULL WHERE id = $1",
        delivery_id,
        delay_seconds,
        error[:500],
    )


async def get_post_delivery_stats(conn: Connection, post_id: int) -> DeliveryStats:
    row = await conn.fetchrow(
        """
        SELECT coalesce(sum(o.delivered), 0) AS delivered, coalesce(sum(o.failed), 0) AS failed,
               (SELECT count(*) FROM deliveries d JOIN outbox_activities o2
                  ON o2.id = d.activity_id WHERE o2.post_id = $1) AS pending
        FROM outbox_activities o WHERE o.post_id = $1
        """,
        post_id,
    )
    assert row is not None
    return DeliveryStats(int(row["delivered"]), int(row["pending"]), int(row["failed"]))


async def record_hosts_success(conn: Connection, hosts: list[str]) -> None:
    """Make hosts available again, their failures forgotten (Mastodon: track_success!)."""
    await conn.execute(
        # In host order: two workers' batches lock their common hosts in the same order.
        """
        INSERT INTO hosts (host, last_success_at)
        SELECT host, now() FROM unnest($1::text[]) AS host ORDER BY host
        ON CONFLICT (host) DO UPDATE SET failure_days = '{}', unavailable = false,
            last_success_at = now()
        """,
        sorted(set(hosts)),
    )


async def record_host_failure(conn: Connection, host: str, *, days_to_unavailable: int) -> None:
    """Count the day of a failure; a host failing on enough distinct days becomes unavailable."""
    await conn.execute(
        """
        INSERT INTO hosts (host, failure_days, last_failure_at)
        VALUES ($1, ARRAY[current_date], now())
        ON CONFLICT (host) DO UPDATE SET
            failure_days = CASE WHEN current_date = ANY(hosts.failure_days)
                THEN hosts.failure_days ELSE hosts.failure_days || current_date END,
            last_failure_at = now(),
            unavailable = cardinality(CASE WHEN current_date = ANY(hosts.failure_days)
                THEN hosts.failure_days ELSE hosts.failure_days || current_date END) >= $2
        """,
        host,
        days_to_unavailable,
    )


async def is_host_unavailable(conn: Connection, host: str) -> bool:
    value = await conn.fetchval("SELECT unavailable FROM hosts WHERE host = $1", host)
    return bool(value)


async def delete_deliveries_to_inbox(conn: Connection, inbox: str) -> None:
    await conn.execute("DELETE FROM deliveries WHERE inbox = $1", inbox)


async def exists_undo_of(conn: Connection, activity_id: str, actor_uri: str) -> bool:
    """Tell whether the actor already sent an Undo of this activity."""
    found = await conn.fetchval(
        """
        SELECT 1 FROM inbox_activities
        WHERE type = 'Undo' AND actor_uri = $2
          AND coalesce(payload -> 'object' ->> 'id', payload ->> 'object') = $1
        LIMIT 1
        """,
        activity_id,
        actor_uri,
    )
    return found is not None


async def find_inbox_payload(
    conn: Connection, activity_id: str, type: str
) -> dict[str, Any] | None:
    value = await conn.fetchval(
        "SELECT payload FROM inbox_activities WHERE activity_id = $1 AND type = $2",
        activity_id,
        type,
    )
    return json.loads(value) if value is not None else None
