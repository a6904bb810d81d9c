"""Who of this instance an incoming object names: the local actors among its addressees."""

from __future__ import annotations

from collections.abc import Iterable

from federation.context import Federation
from server.errors import DomainError
from server.services import actors


async def local_actor_ids(fed: Federation, refs: Iterable[str], kind: str) -> tuple[int, ...]:
    """Return the ids of this instance's actors of `kind` ("person", "group") among `refs`."""
    found: list[int] = []
    for ref in refs:
        name = fed.urls.local_actor_name(ref)
        if name is None:
            continue
        try:
            actor = await actors.get_local_actor(fed.db, name, kind=kind)
        except DomainError:
            continue
        found.append(actor.id)
    return tuple(found)
