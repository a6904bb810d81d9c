"""Remote actors remembered a minute in memory: by the ids of their keys, for the inbox, and by
their own ids, for the worker. Each was a PostgreSQL round trip per activity (bench/inbox.py).
"""

from __future__ import annotations

import time

from server.models import Actor

# How long the inbox trusts a key owner it read without reading it again. An Update or Delete
# of the actor processed in this process forgets it at once; one processed in another process
# (a separate worker) is seen here within this time.
KEY_OWNER_SECONDS = 60.0
KEY_OWNERS_MAX = 10_000


class KnownActors:
    """The owners of the keys that signed recent POSTs, by key id, for KEY_OWNER_SECONDS;
    and the actors of recently processed activities, by their id (federation/processing.py).

    Most POSTs come from actors already known: reading the owner from PostgreSQL was a round
    trip per POST (bench/inbox.py). A signature that fails against a remembered key still makes
    the inbox fetch the key again (rotation), which replaces the entry.
    """

    def __init__(self) -> None:
        # Insertion order is expiry order: every entry lives KEY_OWNER_SECONDS from its put.
        self._owners: dict[str, tuple[float, Actor]] = {}
        # The same actors by their id, for the worker: each job's actor was a round trip too.
        self._actors: dict[str, tuple[float, Actor]] = {}

    def get(self, key_id: str) -> Actor | None:
        return _get(self._owners, key_id)

    def put(self, key_id: str, actor: Actor) -> None:
        _put(self._owners, key_id, actor)

    def get_actor(self, uri: str) -> Actor | None:
        return _get(self._actors, uri)

    def put_actor(self, actor: Actor) -> None:
        if actor.uri is not None:
            _put(self._actors, actor.uri, actor)

    def forget(self, actor: Actor) -> None:
        """Drop an actor and its keys (it changed or was deleted); rare, so a scan will do."""
        for known in (self._owners, self._actors):
            for key in [k for k, (_, a) in known.items() if a.id == actor.id]:
                del known[key]


def _get(known: dict[str, tuple[float, Actor]], key: str) -> Actor | None:
    entry = known.get(key)
    if entry is None:
        return None
    if entry[0] < time.monotonic():
        del known[key]
        return None
    return entry[1]


def _put(known: dict[str, tuple[float, Actor]], key: str, actor: Actor) -> None:
    known.pop(key, None)
    while len(known) >= KEY_OWNERS_MAX:
        del known[next(iter(known))]
    known[key] = (time.monotonic() + KEY_OWNER_SECONDS, actor)
