"""Storage of mobilizations, the alliances between groups, and who relayed what."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from server.db import Connection
from server.models import Alliance, Mobilization, RemoteMobilization

_SELECT = """
    SELECT m.id, m.uri, m.url, m.group_id, g.name AS group_name, g.domain AS group_domain,
           g.display_name AS group_display_name, m.author_id, m.what, m.place, m.starts_at,
           m.why, m.how_to_help, m.urgency, m.content_html, m.hops, m.created_at
    FROM mobilizations m
    JOIN actors g ON g.id = m.group_id
"""


async def insert_mobilization(
    conn: Connection,
    *,
    group_id: int,
    author_id: int,
    what: str,
    place: str,
    starts_at: datetime,
    why: str,
    how_to_help: str,
    urgency: str,
    content_html: str,
) -> int:
    mobilization_id: int = await conn.fetchval(
        """
        INSERT INTO mobilizations (group_id, author_id, what, place, starts_at, why,
                                   how_to_help, urgency, content_html)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING id
        """,
        group_id,
        author_id,
        what,
        place,
        starts_at,
        why,
        how_to_help,
        urgency,
        content_html,
    )
    return mobilization_id


async def insert_remote_mobilization(
    conn: Connection, group_id: int, data: RemoteMobilization, hops: int
) -> int | None:
    """Keep a remote group's mobilization; None when its id is already known here."""
    value: int | None = await conn.fetchval(
        """
        INSERT INTO mobilizations (uri, url, group_id, what, place, starts_at, why, how_to_help,
                                   urgency, content_html, hops)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (uri) DO NOTHING
        RETURNING id
        """,
        data.uri,
        data.url,
        group_id,
        data.what,
        data.place,
        data.starts_at,
        data.why,
        data.how_to_help,
        data.urgency,
        data.content_html,
        hops,
    )
    return value


async def get_mobilization(conn: Connection, mobilization_id: int) -> Mobilization | None:
    row = await conn.fetchrow(_SELECT + " WHERE m.id = $1", mobilization_id)
    return Mobilization(**dict(row)) if row else None


async def find_mobilization_by_uri(conn: Connection, uri: str) -> Mobilization | None:
    row = await conn.fetchrow(_SELECT + " WHERE m.uri = $1", uri)
    return Mobilization(**dict(row)) if row else None


async def list_group_mobilizations(
    conn: Connection, group_id: int, *, limit: int = 20
) -> list[Mobilization]:
    """Return a group's own mobilizations and those it relayed, coming ones first."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE m.group_id = $1 OR m.id IN (SELECT mobilization_id FROM mobilization_relays
                                          WHERE group_id = $1 AND state = 'relayed')
        ORDER BY (m.starts_at >= now() - interval '1 day') DESC, m.starts_at, m.id DESC
        LIMIT $2
        """,
        group_id,
        limit,
    )
    return [Mobilization(**dict(r)) for r in rows]


async def list_followed_mobilizations(
    conn: Connection, follower_id: int, *, limit: int = 20
) -> list[Mobilization]:
    """Return coming mobilizations of remote groups an account follows, or relayed by them."""
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE m.uri IS NOT NULL AND m.starts_at >= now() - interval '1 day'
          AND (m.group_id IN (SELECT target_id FROM follows WHERE follower_id = $1
                              AND state = 'accepted')
               OR m.id IN (SELECT r.mobilization_id FROM mobilization_relays r
                           JOIN follows f ON f.target_id = r.group_id
                           WHERE f.follower_id = $1 AND f.state = 'accepted'))
        ORDER BY m.starts_at LIMIT $2
        """,
        follower_id,
        limit,
    )
    return [Mobilization(**dict(r)) for r in rows]


async def insert_relay(conn: Connection, mobilization_id: int, group_id: int, state: str) -> bool:
    """Record that a group relays (or will, once approved) a mobilization; False if it did."""
    result: str = await conn.execute(
        """
        INSERT INTO mobilization_relays (mobilization_id, group_id, state) VALUES ($1, $2, $3)
        ON CONFLICT DO NOTHING
        """,
        mobilization_id,
        group_id,
        state,
    )
    return result.endswith(" 1")


async def update_relay_approved(conn: Connection, mobilization_id: int, group_id: int) -> bool:
    result: str = await conn.execute(
        """
        UPDATE mobilization_relays SET state = 'relayed'
        WHERE mobilization_id = $1 AND group_id = $2 AND state = 'pending'
        """,
        mobilization_id,
        group_id,
    )
    return result != "UPDATE 0"


async def list_relays(conn: Connection, mobilization_id: int) -> list[tuple[str, str]]:
    """Return (handle, state) of each group that relayed a mobilization or waits to."""
    rows = await conn.fetch(
        """
        SELECT a.name, a.domain, r.state FROM mobilization_relays r
        JOIN actors a ON a.id = r.group_id
        WHERE r.mobilization_id = $1 ORDER BY r.created_at
        """,
        mobilization_id,
    )
    return [(r["name"] + (f"@{r['domain']}" if r["domain"] else ""), r["state"]) for r in rows]


async def list_pending_relays(conn: Connection, group_id: int) -> list[Mobilization]:
    rows = await conn.fetch(
        _SELECT
        + """
        WHERE m.id IN (SELECT mobilization_id FROM mobilization_relays
                       WHERE group_id = $1 AND state = 'pending')
        ORDER BY m.id DESC
        """,
        group_id,
    )
    return [Mobilization(**dict(r)) for r in rows]


async def get_delivery_tally(conn: Connection, mobilization_id: int) -> tuple[int, int, int]:
    """Return (delivered, pending, failed) over the activities about a mobilization."""
    row = await conn.fetchrow(
        """
        SELECT coalesce(sum(o.delivered), 0) AS delivered, coalesce(sum(o.failed), 0) AS failed,
               (SELECT count(*) FROM deliveries d JOIN outbox_activities o2
                  ON o2.id = d.activity_id WHERE o2.mobilization_id = $1) AS pending
        FROM outbox_activities o WHERE o.mobilization_id = $1
        """,
        mobilization_id,
    )
    assert row is not None
    return int(row["delivered"]), int(row["pending"]), int(row["failed"])


async def insert_urgent_activity(
    conn: Connection,
    *,
    uri: str,
    actor_id: int,
    type: str,
    payload: dict[str, Any],
    mobilization_id: int,
    inboxes: list[str],
) -> int:
    """Store an activity about a mobilization with its deliveries due before the queue's.

    The delivery worker claims by `run_at`: an hour in the past puts them ahead of every
    ordinary delivery already waiting, without a second queue.
    """
    row_id: int = await conn.fetchval(
        """
        INSERT INTO outbox_activities (uri, actor_id, type, payload, mobilization_id)
        VALUES ($1, $2, $3, $4::jsonb, $5)
        ON CONFLICT (uri) DO UPDATE SET payload = EXCLUDED.payload
        RETURNING id
        """,
        uri,
        actor_id,
        type,
        json.dumps(payload),
        mobilization_id,
    )
    result: str = await conn.execute(
        """
        INSERT INTO deliveries (activity_id, inbox, host, run_at)
        SELECT $1, inbox, lower(split_part(split_part(inbox, '://', 2), '/', 1)),
               now() - interval '1 hour'
        FROM unnest($2::text[]) AS inbox
        ON CONFLICT (activity_id, inbox) DO NOTHING
        """,
        row_id,
        sorted(set(inboxes)),
    )
    return int(result.split()[-1])


# Alliances

_ALLIANCES = """
    SELECT al.group_id, al.ally_id, a.name AS ally_name, a.domain AS ally_domain,
           a.display_name AS ally_display_name, al.state, al.uri, al.relay, al.created_at
    FROM alliances al JOIN actors a ON a.id = al.ally_id
"""


async def upsert_alliance(
    conn: Connection, group_id: int, ally_id: int, *, state: str, uri: str
) -> bool:
    """Record an offer made or received; an existing alliance is left as it is (False)."""
    result: str = await conn.execute(
        """
        INSERT INTO alliances (group_id, ally_id, state, uri) VALUES ($1, $2, $3, $4)
        ON CONFLICT (group_id, ally_id) DO NOTHING
        """,
        group_id,
        ally_id,
        state,
        uri,
    )
    return result.endswith(" 1")


async def get_alliance(conn: Connection, group_id: int, ally_id: int) -> Alliance | None:
    row = await conn.fetchrow(
        _ALLIANCES + " WHERE al.group_id = $1 AND al.ally_id = $2", group_id, ally_id
    )
    return Alliance(**dict(row)) if row else None


async def find_alliance_by_uri(conn: Connection, uri: str) -> Alliance | None:
    row = await conn.fetchrow(_ALLIANCES + " WHERE al.uri = $1", uri)
    return Alliance(**dict(row)) if row else None


async def update_alliance_accepted(conn: Connection, group_id: int, ally_id: int) -> bool:
    result: str = await conn.execute(
        """
        UPDATE alliances SET state = 'accepted'
        WHERE group_id = $1 AND ally_id = $2 AND state <> 'accepted'
        """,
        group_id,
        ally_id,
    )
    return result != "UPDATE 0"


async def update_alliance_relay(conn: Connection, group_id: int, ally_id: int, relay: str) -> None:
    await conn.execute(
        "UPDATE alliances SET relay = $3 WHERE group_id = $1 AND ally_id = $2",
        group_id,
        ally_id,
        relay,
    )


async def delete_alliance(conn: Connection, group_id: int, ally_id: int) -> bool:
    result: str = await conn.execute(
        "DELETE FROM alliances WHERE group_id = $1 AND ally_id = $2", group_id, ally_id
    )
    return result != "DELETE 0"


async def list_alliances(conn: Connection, group_id: int) -> list[Alliance]:
    rows = await conn.fetch(_ALLIANCES + " WHERE al.group_id = $1 ORDER BY al.created_at", group_id)
    return [Alliance(**dict(r)) for r in rows]


async def list_allied_groups(conn: Connection, ally_id: int) -> list[Alliance]:
    """Return the accepted alliances of local groups with `ally_id` (they relay its calls)."""
    rows = await conn.fetch(
        _ALLIANCES + " WHERE al.ally_id = $1 AND al.state = 'accepted' ORDER BY al.group_id",
        ally_id,
    )
    return [Alliance(**dict(r)) for r in rows]


async def list_ally_inboxes(conn: Connection, group_id: int) -> list[str]:
    """Return the inboxes of a group's accepted remote allies."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT coalesce(a.shared_inbox, a.inbox) AS inbox
        FROM alliances al JOIN actors a ON a.id = al.ally_id
        WHERE al.group_id = $1 AND al.state = 'accepted' AND a.domain IS NOT NULL
          AND coalesce(a.shared_inbox, a.inbox) IS NOT NULL
        """,
        group_id,
    )
    return [r["inbox"] for r in rows]
