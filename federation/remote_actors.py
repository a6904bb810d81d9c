"""Remote actors: read from their documents, found by WebFinger, cached in PostgreSQL.

The owners of signing keys are also kept a minute in memory, for the inbox (federation/known.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from federation.context import Federation
from federation.fetch import FetchError
from federation.jsondoc import fits_id, id_of, text_of, types_of
from server.models import GROUP_LANGUAGES, GROUP_TOPICS, Actor, RemoteActorData
from server.names import clean_display_name, clean_handle
from server.sanitize import sanitize_html
from server.services import actors, inbound

ACTOR_TYPES = {
    "Person": "person",
    "Service": "person",
    "Organization": "group",
    "Group": "group",
    "Application": "application",
}
REFRESH_AFTER = timedelta(days=1)


def parse_actor(document: dict[str, Any]) -> RemoteActorData:
    """Read what we keep of an actor document; raise FetchError if it is unusable."""
    uri = id_of(document)
    kind = next((ACTOR_TYPES[t] for t in types_of(document) if t in ACTOR_TYPES), None)
    if uri is None or kind is None:
        raise FetchError("Not an actor document")
    # The inbox is indexed with each delivery's id: it must fit an index entry as ids do.
    inbox = id_of(document.get("inbox"))
    name = document.get("preferredUsername")
    name = clean_handle(name) if isinstance(name, str) else None
    if not isinstance(inbox, str) or not name:
        raise FetchError("Actor has no inbox or no preferredUsername")
    key = document.get("publicKey")
    keys = key if isinstance(key, list) else [key]
    main = next(
        (
            k
            for k in keys
            if isinstance(k, dict)
            and isinstance(k.get("publicKeyPem"), str)
            and k.get("owner", uri) == uri
        ),
        None,
    )
    if main is None:
        raise FetchError("Actor has no usable publicKey")
    domain = urlsplit(uri).netloc.lower()
    for link in (inbox, id_of(main)):
        if link is None or urlsplit(link).netloc.lower() != domain:
            raise FetchError("Actor's inbox or key is on another host")
    endpoints = document.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    icon = document.get("icon")
    avatar = id_of(icon.get("url")) if isinstance(icon, dict) else None
    url = document.get("url")
    topics, place, language = group_profile(document) if kind == "group" else ((), "", None)
    return RemoteActorData(
        uri=uri,
        kind=kind,
        name=name[:100],
        domain=domain,
        display_name=text_of(document.get("name"), 200) or name[:100],
        summary_html=sanitize_html(text_of(document.get("summary"), 20_000)),
        avatar=avatar if avatar and avatar.startswith("https://") else None,
        url=url if isinstance(url, str) else id_of(url),
        inbox=inbox,
        shared_inbox=shared if isinstance(shared, str) and fits_id(shared) else None,
        outbox=document.get("outbox") if isinstance(document.get("outbox"), str) else None,
        followers_uri=(
            document.get("followers") if isinstance(document.get("followers"), str) else None
        ),
        key_id=id_of(main) or uri + "#main-key",
        public_key_pem=str(main["publicKeyPem"]),
        manually_approves=document.get("manuallyApprovesFollowers") is True,
        topics=topics,
        place=place,
        language=language,
    )


def group_profile(document: dict[str, Any]) -> tuple[tuple[str, ...], str, str | None]:
    """Read a group's topics, place and language, as Entraide and Mobilizon send them.

    Unknown topics and languages are dropped (the directory's filters only know ours); the
    place is Mobilizon's Place `name`, else its address's locality, or a plain string.
    """
    raw = document.get("topics")
    topics = tuple(t for t in GROUP_TOPICS if isinstance(raw, list) and t in raw)
    location = document.get("location")
    place = ""
    if isinstance(location, str):
        place = location
    elif isinstance(location, dict):
        address = location.get("address")
        locality = address.get("addressLocality") if isinstance(address, dict) else None
        place = text_of(location.get("name"), 200) or text_of(locality, 200)
    language = document.get("inLanguage")
    return (
        topics,
        " ".join(clean_display_name(place[:200]).split())[:120],
        language if isinstance(language, str) and language in GROUP_LANGUAGES else None,
    )


async def fetch_actor(fed: Federation, uri: str) -> Actor:
    """Fetch an actor by URI (signed by the instance actor) and store it."""
    if fed.urls.is_local(uri):
        raise FetchError("This is a local actor")
    document = await fed.http.get_json(uri, fed.instance_signer)
    data = parse_actor(document)
    if data.uri != uri:
        raise FetchError("Actor id differs from the URL fetched")
    actor = await inbound.store_remote_actor(fed.db, data)
    fed.known.forget(actor)  # its key may have changed
    return actor


async def get_actor(fed: Federation, uri: str, *, refresh: bool = False) -> Actor:
    """Return a remote actor from the cache, fetching it when unknown, stale or asked to."""
    actor = await actors.find_remote_actor(fed.db, uri)
    if actor is not None and not refresh and actor.updated_at > datetime.now(UTC) - REFRESH_AFTER:
        return actor
    try:
        return await fetch_actor(fed, uri)
    except FetchError:
        if actor is not None and not refresh:
            return actor  # a peer briefly down must not make us forget who its people are
        raise


async def get_key_owner(fed: Federation, key_id: str, *, refresh: bool = False) -> Actor:
    """Return the actor owning a key id (`<actor>#main-key` or a separate key document)."""
    owners = fed.known
    if not refresh:
        known = owners.get(key_id)
        if known is not None:
            return known
        known = await actors.find_remote_actor_by_key(fed.db, key_id)
        if known is not None:
            owners.put(key_id, known)
            return known
    actor_uri = key_id.split("#", 1)[0]
    actor = await get_actor(fed, actor_uri, refresh=True)
    if actor.key_id != key_id:
        raise FetchError("Key does not belong to the actor it names")
    owners.put(key_id, actor)
    return actor


async def resolve_handle(fed: Federation, handle: str) -> Actor:
    """Find a remote actor by @name@host (WebFinger) or by its URL."""
    handle = handle.strip()
    if handle.startswith(("https://", "http://")):
        return await get_actor(fed, handle, refresh=True)
    name, _, host = handle.lstrip("@").partition("@")
    if not name or not host or "/" in host:
        raise FetchError("Not a handle")
    known = await actors.find_remote_actor_by_handle(fed.db, name, host)
    if known is not None:
        return known
    scheme = "http" if fed.config.allow_private_addresses and _looks_local(host) else "https"
    jrd = await fed.http.get_jrd(
        f"{scheme}://{host}/.well-known/webfinger?resource={quote(f'acct:{name}@{host}')}"
    )
    links = jrd.get("links")
    for link in links if isinstance(links, list) else []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and isinstance(link.get("href"), str)
            and "json" in str(link.get("type", ""))
        ):
            return await get_actor(fed, link["href"], refresh=True)
    raise FetchError("WebFinger gave no ActivityPub actor")


def _looks_local(host: str) -> bool:
    hostname = host.rsplit(":", 1)[0]
    return hostname in ("localhost", "[::1]") or hostname.startswith("127.")
