"""Signed fetches of members-only objects: who is asking, proven by an HTTP signature.

A members-only object is served only to a fetch signed by one of the group's members, or by
the instance actor of a server where a member lives (Mastodon's "authorized fetch" signs with
its instance actor). Everyone else gets 404, as if the object did not exist.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from federation.context import Federation
from federation.fetch import FetchError
from federation.inbox import is_own_host, requested_host
from federation.remote_actors import get_key_owner
from federation.signatures import SignatureError, parse_request_signature, verify_signature
from server.models import Actor
from server.services import outbox


async def signed_fetcher(fed: Federation, request: Request) -> Actor | None:
    """Return the remote actor whose valid signature covers this GET, or None."""
    host = requested_host(fed, request)
    if not is_own_host(fed, host):
        return None
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    headers = {**dict(request.headers.items()), "host": host}
    try:
        parsed = parse_request_signature(
            "GET", path, headers, None, scheme=urlsplit(fed.urls.base).scheme
        )
        owner = await get_key_owner(fed, parsed.key_id)
    except (SignatureError, FetchError):
        return None
    try:
        verify_signature(parsed, owner.public_key_pem or "")
    except SignatureError:
        try:  # the key may have been rotated: refetch it once
            owner = await get_key_owner(fed, parsed.key_id, refresh=True)
            verify_signature(parsed, owner.public_key_pem or "")
        except (SignatureError, FetchError):
            return None
    return None if owner.is_local else owner


async def may_fetch_members_only(fed: Federation, request: Request, group_id: int) -> bool:
    """Tell whether this request is a signed fetch by a member or a member's instance."""
    fetcher = await signed_fetcher(fed, request)
    if fetcher is None:
        return False
    return await outbox.may_receive_members_only(fed.db, group_id, fetcher)
