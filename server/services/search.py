"""The search box: groups, posts, events and people of this instance, or an address elsewhere.

A handle (@name@host) or a URL is not searched here: the page offers to follow it, and the
follow resolves it on the network (server/services/follows.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.db import Pool
from server.models import Account
from server.storage import search as store
from server.storage.search import SearchHit

# Longer queries are cut: no one types more, and the cost of a query grows with its words.
MAX_QUERY = 200
LIMIT = 20
HANDLE = re.compile(r"@?[A-Za-z0-9_.-]{1,64}@[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")


@dataclass(frozen=True)
class SearchResults:
    query: str
    remote: str | None  # a handle or URL to offer to follow
    groups: list[SearchHit]
    posts: list[SearchHit]
    events: list[SearchHit]
    people: list[SearchHit]


def remote_address(query: str, host: str) -> str | None:
    """Return the query if it names an account elsewhere (a handle or an https URL)."""
    if query.startswith("https://") and " " not in query and len(query) < 500:
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
