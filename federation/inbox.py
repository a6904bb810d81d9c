"""The inbox edge: limits, signature, key owner = actor, then store durably and answer 202.

Processing happens later, in a worker (federation/processing.py), so a peer never waits on us.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from federation.context import Federation
from federation.fetch import FetchError
from federation.jsondoc import (
    MAX_BODY,
    DocumentError,
    first_type,
    fits_id,
    id_of,
    parse_document,
)
from federation.remote_actors import get_key_owner
from federation.signatures import (
    SignatureError,
    canonical_authority,
    parse_request_signature,
    verify_signature,
)
from server.proxies import forwarded_host
from server.services import inbox, moderation

ACCEPTED_TYPES = ("application/activity+json", "application/ld+json", "application/json")


@dataclass(frozen=True)
class InboxReply:
    status: int
    message: str


async def _read_body(request: Request) -> bytes | None:
    """Read at most MAX_BODY bytes; None when the body is larger."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def requested_host(fed: Federation, request: Request) -> str:
    """Return the host the peer addressed: Host, or a trusted proxy's X-Forwarded-Host."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-host", "")
    host = request.headers.get("host", "")
    return forwarded_host(fed.config.trusted_proxies, peer, forwarded, host).strip()


def is_own_host(fed: Federation, host: str) -> bool:
    """Tell whether `host` (with its port, if any) names this instance."""
    own = urlsplit(fed.urls.base)
    # Behind a TLS proxy the request arrives over http: the public scheme decides the port.
    return canonical_authority(host, own.scheme) == canonical_authority(own.netloc, own.scheme)


async def receive(fed: Federation, request: Request) -> InboxReply:
    """Check and store one incoming activity; return the answer for the peer."""
    # A signature covers the Host it was made for: one made for another server, replayed here
    # within the Date window, must not pass (Mastodon's Rails refuses unknown hosts the same
    # way). RFC 9421's @authority and @target-uri are built from this same Host header.
    host = requested_host(fed, request)
    if not is_own_host(fed, host):
        return InboxReply(421, "This request was addressed to another host")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        return InboxReply(415, "Content-Type must be application/activity+json")
    body = await _read_body(request)
    if body is None:
        return InboxReply(413, "Body larger than 1 MB")
    try:
        activity = parse_document(body)
    except DocumentError as exc:
        return InboxReply(400, exc.message)
    activity_id, actor_uri = activity.get("id"), id_of(activity.get("actor"))
    activity_type = first_type(activity)
    if not isinstance(activity_id, str) or not actor_uri or not activity_type:
        return InboxReply(400, "An activity needs id, type and actor")
    # Both are indexed together, as is what an Undo undoes: each must fit an index entry.
    if not fits_id(activity_id) or len(activity_type.encode()) > 64:
        return InboxReply(400, "The activity's id or type is too long")
    if activity_type == "Undo" and id_of(activity.get("object")) is None:
        return InboxReply(400, "An Undo names what it undoes by its id")
    # A blocked server is refused before anything else is done for it (no key fetched).
    if await moderation.is_blocked(fed.db, urlsplit(actor_uri).netloc, actor_uri):
        return InboxReply(403, "This server does not accept activities from you")
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        # The scheme peers used is the public one, even behind a proxy that ends TLS.
        # The signature covers the host the peer addressed, whatever our proxy put in Host.
        headers = {**dict(request.headers.items()), "host": host}
        parsed = parse_request_signature(
            request.method, path, headers, body, scheme=urlsplit(fed.urls.base).scheme
        )
    except SignatureError as exc:
        return InboxReply(401, exc.message)
    try:
        owner = await get_key_owner(fed, parsed.key_id)
    except FetchError as exc:
        if (
            exc.status == 410
            and activity_type == "Delete"
            and id_of(activity.get("object")) == actor_uri
        ):
            # The account is gone and so is its key: Mastodon answers 202 and skips it too.
            return InboxReply(202, "Accepted")
        return InboxReply(
            503 if exc.retryable else 401, f"Cannot get the signing key: {exc.message}"
        )
    try:
        verify_signature(parsed, owner.public_key_pem or "")
    except SignatureError:
        # The key may have been rotated: refetch it once.
        try:
            owner = await get_key_owner(fed, parsed.key_id, refresh=True)
            verify_signature(parsed, owner.public_key_pem or "")
        except (FetchError, SignatureError) as exc:
            return InboxReply(401, exc.message)
    if owner.uri != actor_uri:
        return InboxReply(401, "The key's owner is not the activity's actor")
    if not _same_host(activity_id, actor_uri):
        return InboxReply(400, "The activity id is not on the actor's host")
    await inbox.accept_activity(
        fed.db,
        activity_id=_received_id(activity, activity_id),
        type=activity_type,
        actor_uri=actor_uri,
        payload=activity,
    )
    return InboxReply(202, "Accepted")


def _received_id(activity: dict[str, Any], activity_id: str) -> str:
    """Return the id a received activity is deduplicated by.

    Mobilizon sends every Update of an Event with the id of its Create (`<event>/activity`):
    two edits would look like one replayed. Its Event carries `updated`, which tells them apart.
    """
    obj = activity.get("object")
    if activity.get("type") != "Update" or not isinstance(obj, dict) or obj.get("type") != "Event":
        return activity_id
    updated = obj.get("updated")
    stamp = updated if isinstance(updated, str) and len(updated) <= 40 else ""
    keyed = f"{activity_id}#updated={stamp}"
    return keyed if stamp and fits_id(keyed) else activity_id


def _same_host(a: str, b: str) -> bool:
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()
