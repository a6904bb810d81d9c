"""Storage of the instance's /about page and of who administers it."""

from __future__ import annotations

from server.db import Connection


async def get_about(conn: Connection) -> tuple[str, str, str]:
    """Return (description, rules, contact); empty until an administrator writes them."""
    row = await conn.fetchrow("SELECT description, rules, contact FROM instance_about")
    return (row["description"], row["rules"], row["contact"]) if row else ("", "", "")


async def upsert_about(conn: Connection, description: str, rules: str, contact: str) -> None:
    await conn.execute(
        """
        INSERT INTO instance_about (id, description, rules, contact) VALUES (true, $1, $2, $3)
        ON CONFLICT (id) DO UPDATE SET description = $1, rules = $2, contact = $3,
                                      updated_at = now()
        """,
        description,
        rules,
        contact,
    )


async def list_admin_names(conn: Connection) -> list[tuple[str, str]]:
    """Return (username, display name) of the active administrators."""
    rows = await conn.fetch(
        """
        SELECT a.name, a.display_name FROM accounts ac JOIN actors a ON a.id = ac.actor_id
        WHERE ac.is_admin AND ac.status = 'active' ORDER BY a.name
        """
    )
    return [(r["name"], r["display_name"] or r["name"]) for r in rows]
