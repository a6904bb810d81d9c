"""What apps read: timelines, threads, accounts, relationships and search.

Each function returns only what the reader may see; the client API renders it in Mastodon's
shapes.
"""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from server.errors import NotFound
from server.models import Account, PostView, Profile, Relationship, TimelineRange
from server.services.posts import tag_url
from server.storage import profiles as profile_store
from server.storage import timelines as store

MAX_LIMIT = 40  # Mastodon's cap for timelines
MAX_ACCOUNT_LIMIT = 80


def _reader(viewer: Account | None) -> int:
    return viewer.id if viewer else 0


async def home_timeline(db: Pool, viewer: Account, window: TimelineRange) -> list[PostView]:
    """Return what the person's groups and follows published, newest first."""
    async with db.acquire() as conn:
        return await store.list_home(conn, viewer.id, window)


async def public_timeline(
    db: Pool, viewer: Account | None, window: TimelineRange, *, local_only: bool
) -> list[PostView]:
    async with db.acquire() as conn:
        return await store.list_public(conn, _reader(viewer), window, local_only=local_only)


async def tag_timeline(
    db: Pool, config: Config, viewer: Account | None, tag: str, window: TimelineRange
) -> list[PostView]:
    tag = tag.lower()
    if not tag or len(tag) > 60 or not tag.replace("_", "").isalnum():
        return []
    async with db.acquire() as conn:
        return await store.list_tagged(conn, _reader(viewer), tag_url(config)(tag), window)


async def get_profile(db: Pool, actor_id: int) -> Profile:
    async with db.acquire() as conn:
        profile = await profile_store.get_profile(conn, actor_id)
    if profile is None:
        raise NotFound("Record not found")
    return profile


async def find_profile(db: Pool, config: Config, acct: str) -> Profile:
    """Find an account by `name` or `name@host` (this host or a known remote one)."""
    name, _, host = acct.strip().lstrip("@").partition("@")
    if not name or len(acct) > 300 or "\x00" in acct:
        raise NotFound("Record not found")
    domain = None if not host or host.lower() == config.host.lower() else host.lower()
    async with db.acquire() as conn:
        profile = await profile_store.find_profile(conn, name, domain)
    if profile is None:
        raise NotFound("Record not found")
    return profile


async def account_statuses(
    db: Pool, viewer: Account | None, profile: Profile, window: TimelineRange
) -> list[PostView]:
    """Return a person's posts, or a group's (its timeline), that the reader may see."""
    async with db.acquire() as conn:
        return await store.list_actor_posts(
            conn, _reader(viewer), profile.id, window, group=profile.kind == "group"
        )


async def get_status(db: Pool, viewer: Account | None, post_id: int) -> PostView:
    """Return a post the reader may see; others are not found (not even forbidden)."""
    async with db.acquire() as conn:
        view = await store.get_post_view(conn, _reader(viewer), post_id)
    if view is None:
        raise NotFound("Record not found")
    return view


async def status_context(
    db: Pool, viewer: Account | None, post_id: int
) -> tuple[list[PostView], list[PostView]]:
    """Return the posts a post answers and the replies under it."""
    await get_status(db, viewer, post_id)
    async with db.acquire() as conn:
        ancestors = await store.list_ancestors(conn, _reader(viewer), post_id)
        descendants = await store.list_descendants(conn, _reader(viewer), post_id)
    return ancestors, descendants


async def relationships(db: Pool, viewer: Account, actor_ids: list[int]) -> list[Relationship]:
    async with db.acquire() as conn:
        return await profile_store.list_relationships(conn, viewer.id, actor_ids[:MAX_LIMIT])


async def search(
    db: Pool, config: Config, viewer: Account | None, words: str, limit: int
) -> tuple[list[Profile], list[PostView]]:
    """Find accounts (groups first) by name, and posts by their words."""
    words = words.strip()
    if not words or len(words) > 200 or "\x00" in words:
        return [], []
    profiles: list[Profile] = []
    if "@" in words.lstrip("@"):
        try:
            profiles = [await find_profile(db, config, words)]
        except NotFound:
            profiles = []
    async with db.acquire() as conn:
        if not profiles:
            profiles = await profile_store.search_profiles(conn, words.lstrip("@"), limit)
        posts = await store.search_posts(conn, _reader(viewer), words, limit)
    return profiles, posts
