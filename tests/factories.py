"""Build test data through the services, so that every row is one the application could write.

Accounts and groups cost an RSA key pair (and accounts a scrypt hash) each, ~0.1 s apiece:
create the few a test needs, not more.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from datetime import date, timedelta
from typing import Any

from server.config import Config
from server.db import Pool
from server.models import Account, Event, Group, Post
from server.services import accounts, events, groups, posts
from server.services.events import EventForm

PASSWORD = "correct horse battery staple"
TABLES = (
    "actors",
    "accounts",
    "groups",
    "memberships",
    "posts",
    "sessions",
    "login_attempts",
    "jobs",
)
_counter = itertools.count(1)


def _next_name(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


async def make_account(
    db: Pool,
    config: Config,
    username: str | None = None,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    is_admin: bool = False,
    by_operator: bool = True,
) -> Account:
    """Register an account; by default as an operator would, so it is active in every mode."""
    username = username or _next_name("user")
    return await accounts.register_account(
        db,
        config,
        username=username,
        email=email or f"{username}@example.org",
        password=password,
        is_admin=is_admin,
        by_operator=by_operator,
    )


async def make_accounts(db: Pool, config: Config, *usernames: str) -> list[Account]:
    """Register several accounts at once (hashing and key generation run in parallel)."""
    return list(await asyncio.gather(*(make_account(db, config, name) for name in usernames)))


async def make_group(
    db: Pool, config: Config, owner: Account, slug: str | None = None, **kw: Any
) -> Group:
    """Create a group owned by `owner`; keyword arguments go to create_group."""
    slug = slug or _next_name("group")
    kw.setdefault("name", slug.replace("_", " ").title())
    return await groups.create_group(db, config, owner, slug=slug, **kw)


async def make_member(db: Pool, group: Group, account: Account) -> None:
    """Make `account` an active member of an open group."""
    await groups.join_group(db, group, account)


async def make_post(
    db: Pool,
    config: Config,
    group: Group,
    author: Account,
    content: str | None = None,
    **kw: Any,
) -> Post:
    """Publish a post; keyword arguments go to create_post."""
    return await posts.create_post(
        db, config, group, author, content=content or _next_name("Post number "), **kw
    )


async def snapshot(db: Pool) -> dict[str, tuple[int, str | None]]:
    """Return (row count, digest of every row) per table: equal snapshots, nothing written."""
    result: dict[str, tuple[int, str | None]] = {}
    async with db.acquire() as conn:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            " AND table_name <> 'schema_migrations' ORDER BY table_name"
        )
        for (table,) in tables:
            row = await conn.fetchrow(
                f"SELECT count(*) AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest"
                f' FROM "{table}" t'
            )
            result[table] = (row["n"], row["digest"])
    return result


async def count_rows(db: Pool, table: str) -> int:
    """Return the number of rows of one table."""
    if table not in TABLES:
        raise ValueError(table)
    async with db.acquire() as conn:
        value: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return value


def event_form(**changes: Any) -> EventForm:
    """Return a valid event form for next week in Paris; keyword arguments change its fields."""
    base = EventForm(
        title="Repas partagé",
        description="Chacun apporte un plat.",
        start_date=(date.today() + timedelta(days=7)).isoformat(),
        start_time="19:00",
        end_time="22:00",
        timezone="Europe/Paris",
        place_name="Salle des fêtes",
        locality="Lyon",
    )
    return dataclasses.replace(base, **changes)


async def make_event(db: Pool, group: Group, organizer: Account, **changes: Any) -> Event:
    """Create an event next week; keyword arguments change the form's fields."""
    return await events.create_event(db, group, organizer, event_form(**changes))
