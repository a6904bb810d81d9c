"""What apps read: timelines, threads, accounts, relationships and search.

Each function returns only what the reader may see; the client API renders it in Mastodon's
shapes.
"""

from __future__ import annotations

from server.config import Config
from server.db import Connection, Pool
from server.errors import NotFound
from server.models import (
    Account,
    BoardItem,
    Event,
    Mobilization,
    Petition,
    PostView,
    Profile,
    Relationship,
    ThingRef,
    ThingView,
    TimelineRange,
)
from server.services.posts import tag_url
from server.storage import board as board_store
from server.storage import events as event_store
from server.storage import mobilizations as mobilization_store
from server.storage import petitions as petition_store
from server.storage import profiles as profile_store
from server.storage import timelines as store

# What a timeline holds: posts, and the group's events, petitions, mobilizations, needs/offers.
Status = PostView | ThingView
Thing = Event | Petition | Mobilization | BoardItem

MAX_LIMIT = 40  # Mastodon's cap for timelines
MAX_ACCOUNT_LIMIT = 80


def _reader(viewer: Account | None) -> int:
    return viewer.id if viewer else 0


def status_id(status: Status) -> int:
    return status.post.id if isinstance(status, PostView) else status.status_id


async def _load_item(
    conn: Connection, ref: ThingRef
) -> Event | Petition | Mobilization | BoardItem | None:
    if ref.kind == "event":
        return await event_store.get_event(conn, ref.id)
    if ref.kind == "petition":
        return await petition_store.get_petition(conn, ref.id)
    if ref.kind == "mobilization":
        return await mobilization_store.get_mobilization(conn, ref.id)
    return await board_store.get_item(conn, ref.id)


async def _load_things(conn: Connection, refs: list[ThingRef]) -> list[ThingView]:
    groups: dict[int, Profile | None] = {}
    views = []
    for ref in refs:
        if ref.group_id not in groups:
            groups[ref.group_id] = await profile_store.get_profile(conn, ref.group_id)
        group = groups[ref.group_id]
        item = await _load_item(conn, ref)
        if group is not None and item is not None:
            views.append(ThingView(ref.status_id, group, item, ref.members_only))
    return views


def _merge(posts: list[PostView], things: list[ThingView], window: TimelineRange) -> list[Status]:
    """Keep the page's `limit` statuses of both lists, newest first, as one timeline."""
    merged: list[Status] = sorted([*posts, *things], key=status_id, reverse=True)
    # min_id reads forward: the statuses just after it, the oldest of the newer ones.
    return merged[-window.limit :] if window.min_id is not None else merged[: window.limit]


async def home_timeline(db: Pool, viewer: Account, window: TimelineRange) -> list[Status]:
    """Return what the person's groups and follows published, newest first."""
    async with db.acquire() as conn:
        posts = await store.list_home(conn, viewer.id, window)
        refs = await store.list_home_things(conn, viewer.id, window)
        return _merge(posts, await _load_things(conn, refs), window)


async def public_timeline(
    db: Pool, viewer: Account | None, window: TimelineRange, *, local_only: bool
) -> list[Status]:
    async with db.acquire() as conn:
        posts = await store.list_public(conn, _reader(viewer), window, local_only=local_only)
        refs = await store.list_public_things(conn, _reader(viewer), window)
        return _merge(posts, await _load_things(conn, refs), window)


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
) -> list[Status]:
    """Return a person's posts, or a group's (its timeline, with its things), that the reader
    may see."""
    group = profile.kind == "group"
    async with db.acquire() as conn:
        posts = await store.list_actor_posts(conn, _reader(viewer), profile.id, window, group=group)
        if not group:
            return list(posts)
        refs = await store.list_group_things(conn, _reader(viewer), profile.id, window)
        return _merge(posts, await _load_things(conn, refs), window)


async def get_status(db: Pool, viewer: Account | None, post_id: int) -> PostView:
    """Return a post the reader may see; others are not found (not even forbidden)."""
    async with db.acquire() as conn:
        view = await store.get_post_view(conn, _reader(viewer), post_id)
    if view is None:
        raise NotFound("Record not found")
    return view


async def get_status_or_thing(db: Pool, viewer: Account | None, status_id: int) -> Status:
    """Return a post, or an event, petition, mobilization or need/offer, by its status id."""
    async with db.acquire() as conn:
        view = await store.get_post_view(conn, _reader(viewer), status_id)
        if view is not None:
            return view
        ref = await store.find_thing(conn, _reader(viewer), status_id)
        things = await _load_things(conn, [ref]) if ref is not None else []
    if not things:
        raise NotFound("Record not found")
    return things[0]


async def status_context(
    db: Pool, viewer: Account | None, post_id: int
) -> tuple[list[PostView], list[PostView]]:
    """Return the posts a post answers and the replies under it (none for a thing)."""
    if isinstance(await get_status_or_thing(db, viewer, post_id), ThingView):
        return [], []
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
