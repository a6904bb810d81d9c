"""The search box: groups, posts, events and people of this instance, or an address elsewhere.

A handle (@name@host) or a URL is not searched here: the page offers to follow it, and the
follow resolves it on the network (server/services/follows.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from server.db import Pool
from server.models import Account
from server.storage import search as store
from server.storage.search import SearchHit

# Longer queries are cut: no one types more, and the cost of a query grows with its words.
MAX_QUERY = 200
LIMIT = 20
HANDLE = re.compile(r"@?[A-Za-z0-9_.-]{1,64}@[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")


@dataclass(frozen=True)
class Resolved:
    """What an address on the network named, now kept here: an actor or a post, by id."""

    kind: str  # actor | post
    id: int


class NetworkResolver(Protocol):
    """Looks an address up on the network and keeps what it names (federation/lookup.py:
    WebFinger and signed fetches, private networks refused). None: nothing usable there."""

    async def __call__(self, address: str) -> Resolved | None: ...


async def resolve(resolver: NetworkResolver, query: str, host: str) -> Resolved | None:
    """Resolve the query on the network if it is a handle or URL of something elsewhere."""
    address = remote_address(" ".join(query[:MAX_QUERY].split()), host)
    return await resolver(address) if address is not None else None


@dataclass(frozen=True)
class SearchResults:
    query: str
    remote: str | None  # a handle or URL to offer to follow
    groups: list[SearchHit]
    posts: list[SearchHit]
    events: list[SearchHit]
    people: list[SearchHit]


def remote_address(query: str, host: str) -> str | None:
    """Return the query if it names an account elsewhere (a handle or an http(s) URL; the
    fetcher refuses plain http outside tests)."""
    if query.startswith(("https://", "http://")) and " " not in query and len(query) < 500:
        return query
    if HANDLE.fullmatch(query) and not query.lower().endswith("@" + host.lower()):
        return query if query.startswith("@") else "@" + query
    return None


async def search(db: Pool, viewer: Account | None, query: str, host: str) -> SearchResults:
    """Search what the viewer may see; members-only texts are found by members only."""
    query = " ".join(query[:MAX_QUERY].replace("\x00", " ").split())
    remote = remote_address(query, host)
    if not query or remote is not None:
        return SearchResults(query, remote, [], [], [], [])
    reader = viewer.id if viewer is not None else 0
    async with db.acquire() as conn:
        actors = await store.search_actors(conn, query, reader, LIMIT)
        posts = await store.search_posts(conn, query, reader, LIMIT)
        events = await store.search_events(conn, query, reader, LIMIT)
    return SearchResults(
        query,
        None,
        [hit for hit in actors if hit.kind == "group"],
        posts,
        events,
        [hit for hit in actors if hit.kind == "person"],
    )
