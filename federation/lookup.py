"""Looking an address up on the network for a person's search: a handle or the URL of an actor
or a post elsewhere, fetched (signed, private networks refused) and kept, as Mastodon's search
with `resolve=true` does."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from federation.context import Federation
from federation.fetch import FetchError
from federation.jsondoc import id_of, types_of
from federation.processing import NOTE_TYPES, note_from
from federation.remote_actors import ACTOR_TYPES, get_actor, resolve_handle
from server.errors import DomainError
from server.services import actors, inbound
from server.services.search import Resolved

log = logging.getLogger(__name__)


def _same_host(a: str, b: str) -> bool:
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()


async def _resolve_url(fed: Federation, url: str) -> Resolved | None:
    if fed.urls.is_local(url):
        return None  # the local search finds what is ours
    known_post = await actors.find_post_by_uri(fed.db, url)
    if known_post is not None:
        return Resolved("post", known_post)
    document = await fed.http.get_json(url, fed.instance_signer)
    uri = id_of(document)
    if uri is None or not _same_host(uri, url):
        raise FetchError("The document's id is on another host than its address")
    if ACTOR_TYPES.keys() & set(types_of(document)):
        return Resolved("actor", (await get_actor(fed, uri, refresh=True)).id)
    if not NOTE_TYPES.intersection(types_of(document)) or "Event" in types_of(document):
        return None
    if uri != url:
        # A human page (Mastodon's /@name/1) answering with the post: the id is the truth.
        known_post = await actors.find_post_by_uri(fed.db, uri)
        if known_post is not None:
            return Resolved("post", known_post)
        document = await fed.http.get_json(uri, fed.instance_signer)
        if id_of(document) != uri:
            raise FetchError("The post's id differs from the URL fetched")
    author_uri = id_of(document.get("attributedTo"))
    if author_uri is None or not _same_host(author_uri, uri):
        raise FetchError("The post is not attributed on its own host")
    author = await get_actor(fed, author_uri)
    note = await note_from(fed, document)
    post_id = await inbound.receive_note(fed.db, author, note, resolved=True)
    return Resolved("post", post_id) if post_id is not None else None


async def resolve_address(fed: Federation, address: str) -> Resolved | None:
    """Return the actor or post a handle or URL names, fetched and kept; None if there is none."""
    try:
        if address.startswith(("https://", "http://")):
            return await _resolve_url(fed, address)
        return Resolved("actor", (await resolve_handle(fed, address)).id)
    except (FetchError, DomainError) as exc:
        # What a peer answered is not the searcher's business: "nothing found" is.
        log.info("search: could not resolve %s: %s", address, exc)
        return None
