"""Storage of group bans, instance blocks, the moderation log, and remote members' deliveries."""

from __future__ import annotations

from server.db import Connection
from server.models import Report


async def insert_ban(
    conn: Connection, group_id: int, actor_id: int, *, reason: str, banned_by: int | None
) -> None:
    await conn.execute(
        """
        INSERT INTO group_bans (group_id, actor_id, reason, banned_by) VALUES ($1, $2, $3, $4)
        ON CONFLICT (group_id, actor_id) DO UPDATE SET reason = EXCLUDED.reason
        """,
        group_id,
        actor_id,
        reason,
        banned_by,
    )


async def delete_ban(conn: Connection, group_id: int, actor_id: int) -> bool:
    status: str = await conn.execute(
        "DELETE FROM group_bans WHERE group_id = $1 AND actor_id = $2", group_id, actor_id
    )
    return status != "DELETE 0"


async def is_banned(conn: Connection, group_id: int, actor_id: int) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM group_bans WHERE group_id = $1 AND actor_id = $2", group_id, actor_id
    )
    return found is not None


async def list_banned_names(conn: Connection, group_id: int) -> list[tuple[int, str]]:
    rows = await conn.fetch(
        """
        SELECT a.id, a.name || coalesce('@' || a.domain, '') AS handle
        FROM group_bans b JOIN actors a ON a.id = b.actor_id
        WHERE b.group_id = $1 ORDER BY b.created_at DESC
        """,
        group_id,
    )
    return [(r["id"], r["handle"]) for r in rows]


async def insert_domain_block(conn: Connection, domain: str, reason: str) -> None:
    await conn.execute(
        "INSERT INTO domain_blocks (domain, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        domain,
        reason,
    )


async def delete_domain_block(conn: Connection, domain: str) -> bool:
    status: str = await conn.execute("DELETE FROM domain_blocks WHERE domain = $1", domain)
    return status != "DELETE 0"


async def insert_actor_block(conn: Connection, actor_id: int, reason: str) -> None:
    await conn.execute(
        "INSERT INTO actor_blocks (actor_id, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        actor_id,
        reason,
    )


async def is_blocked(conn: Connection, domain: str, actor_uri: str | None) -> bool:
    """Tell whether a remote domain, or the remote actor of this id, is blocked here."""
    found = await conn.fetchval(
        """
        SELECT 1 FROM domain_blocks WHERE domain = $1
        UNION ALL
        SELECT 1 FROM actor_blocks b JOIN actors a ON a.id = b.actor_id WHERE a.uri = $2
        LIMIT 1
        """,
        domain,
        actor_uri,
    )
    return found is not None


async def list_domain_blocks(conn: Connection) -> list[str]:
    rows = await conn.fetch("SELECT domain FROM domain_blocks ORDER BY domain")
    return [r["domain"] for r in rows]


async def delete_deliveries_to_hosts_blocked(conn: Connection, domain: str) -> None:
    """Drop deliveries queued to a domain just blocked: nothing more goes there."""
    await conn.execute("DELETE FROM deliveries WHERE host = $1", domain)


async def delete_member_deliveries(conn: Connection, group_id: int, actor_id: int) -> int:
    """Drop the undelivered members-only activities of a group queued to a departing member.

    Members-only activities are the non-public outbox rows about the group's posts; a removed
    member must not receive what was queued before the removal.
    """
    status: str = await conn.execute(
        """
        DELETE FROM deliveries d USING outbox_activities o, actors m
        WHERE o.id = d.activity_id AND m.id = $2 AND NOT o.public
          AND o.post_id IN (SELECT p.id FROM posts p WHERE p.group_id = $1)
          AND (d.inbox = m.inbox OR d.inbox = m.shared_inbox)
        """,
        group_id,
        actor_id,
    )
    return int(status.split()[-1])


async def insert_log(
    conn: Connection,
    *,
    moderator_id: int | None,
    group_id: int | None,
    action: str,
    target: str,
    detail: str = "",
) -> None:
    await conn.execute(
        """
        INSERT INTO moderation_log (moderator_id, group_id, action, target, detail)
        VALUES ($1, $2, $3, $4, $5)
        """,
        moderator_id,
        group_id,
        action,
        target[:500],
        detail[:1000],
    )


async def list_log(
    conn: Connection, group_id: int | None, *, limit: int = 100
) -> list[tuple[str, str, str, str, str]]:
    """Return (when, moderator, action, target, detail), newest first; all groups if None."""
    rows = await conn.fetch(
        """
        SELECT to_char(l.created_at, 'YYYY-MM-DD HH24:MI') AS at,
               coalesce(a.name, '') AS moderator, l.action, l.target, l.detail
        FROM moderation_log l LEFT JOIN actors a ON a.id = l.moderator_id
        WHERE ($1::bigint IS NULL OR l.group_id = $1)
        ORDER BY l.id DESC LIMIT $2
        """,
        group_id,
        limit,
    )
    return [(r["at"], r["moderator"], r["action"], r["target"], r["detail"]) for r in rows]


async def insert_report(
    conn: Connection,
    *,
    reporter_id: int | None,
    origin_domain: str | None,
    flag_uri: str | None,
    target_actor_id: int | None,
    post_id: int | None,
    group_id: int | None,
    reason: str,
) -> int | None:
    """Store a report; None when a Flag of this id was already received."""
    report_id: int | None = await conn.fetchval(
        """
        INSERT INTO reports (reporter_id, origin_domain, flag_uri, target_actor_id, post_id,
                             group_id, reason)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (flag_uri) DO NOTHING
        RETURNING id
        """,
        reporter_id,
        origin_domain,
        flag_uri,
        target_actor_id,
        post_id,
        group_id,
        reason,
    )
    return report_id


async def list_reports(
    conn: Connection, *, group_ids: list[int] | None, limit: int = 100
) -> list[Report]:
    """Return open reports, newest first: all of them (None) or those about these groups."""
    rows = await conn.fetch(
        """
        SELECT r.id, r.origin_domain, r.reason, r.post_id, r.group_id, r.forwarded,
               to_char(r.created_at, 'YYYY-MM-DD HH24:MI') AS at,
               coalesce(t.name || coalesce('@' || t.domain, ''), '') AS target,
               coalesce(left(p.content_html, 300), '') AS post_html
        FROM reports r
        LEFT JOIN actors t ON t.id = r.target_actor_id
        LEFT JOIN posts p ON p.id = r.post_id
        WHERE r.state = 'open' AND ($1::bigint[] IS NULL OR r.group_id = ANY($1::bigint[]))
        ORDER BY r.id DESC LIMIT $2
        """,
        group_ids,
        limit,
    )
    return [
        Report(
            id=r["id"],
            origin_domain=r["origin_domain"],
            reason=r["reason"],
            post_id=r["post_id"],
            group_id=r["group_id"],
            forwarded=r["forwarded"],
            created=r["at"],
            target=r["target"],
            post_html=r["post_html"],
        )
        for r in rows
    ]


async def get_report_group(conn: Connection, report_id: int) -> tuple[bool, int | None] | None:
    """Return (exists, group id) of a report."""
    row = await conn.fetchrow("SELECT group_id FROM reports WHERE id = $1", report_id)
    return (True, row["group_id"]) if row else None


async def update_report_state(conn: Connection, report_id: int, state: str) -> None:
    await conn.execute("UPDATE reports SET state = $2 WHERE id = $1", report_id, state)


async def update_report_forwarded(conn: Connection, report_id: int) -> None:
    await conn.execute("UPDATE reports SET forwarded = true WHERE id = $1", report_id)


async def get_report_for_flag(
    conn: Connection, report_id: int
) -> tuple[str, int | None, int | None] | None:
    row = await conn.fetchrow(
        "SELECT reason, target_actor_id, post_id FROM reports WHERE id = $1", report_id
    )
    return (row["reason"], row["target_actor_id"], row["post_id"]) if row else None
