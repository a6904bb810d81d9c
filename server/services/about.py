"""The instance's /about page: its description, rules, administrators and contact."""

from __future__ import annotations

from dataclasses import dataclass

from server.db import Pool
from server.errors import Forbidden, Invalid
from server.models import Account
from server.sanitize import render_text
from server.storage import about as store

MAX_TEXT = 10_000


@dataclass(frozen=True)
class About:
    description: str
    description_html: str
    rules: str
    rules_html: str
    contact: str
    admins: list[tuple[str, str]]


async def get_about(db: Pool) -> About:
    async with db.acquire() as conn:
        description, rules, contact = await store.get_about(conn)
        admins = await store.list_admin_names(conn)
    return About(description, render_text(description), rules, render_text(rules), contact, admins)


async def save_about(
    db: Pool, admin: Account, *, description: str, rules: str, contact: str
) -> None:
    """Let an administrator rewrite the page."""
    if not admin.is_admin:
        raise Forbidden("Only administrators can do this.")
    errors = {
        name: "This text is too long."
        for name, value in (("description", description), ("rules", rules))
        if len(value) > MAX_TEXT or "\x00" in value
    }
    if len(contact) > 300 or "\x00" in contact:
        errors["contact"] = "This text is too long."
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn:
        await store.upsert_about(conn, description.strip(), rules.strip(), contact.strip())
