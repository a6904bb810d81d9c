"""What every federation part needs, built once per process: pool, settings, ids, HTTP client."""

from __future__ import annotations

from dataclasses import dataclass, field

from federation.fetch import HttpClient, Signer
from federation.known import KnownActors
from federation.urls import Urls
from server.config import Config
from server.db import Pool
from server.models import Actor
from server.services import actors


@dataclass
class Federation:
    db: Pool
    config: Config
    urls: Urls
    http: HttpClient
    instance_actor: Actor
    # Shared by the inbox and the in-process worker, whose processing of an Update or Delete
    # of an actor forgets it here at once.
    known: KnownActors = field(default_factory=KnownActors)

    def signer(self, actor: Actor) -> Signer:
        """Return the key that signs for a local actor."""
        assert actor.private_key_pem is not None
        return Signer(self.urls.key_id(actor), actor.private_key_pem)

    @property
    def instance_signer(self) -> Signer:
        return self.signer(self.instance_actor)

    async def close(self) -> None:
        await self.http.close()


async def open_federation(db: Pool, config: Config) -> Federation:
    """Build the federation context, creating the instance actor the first time."""
    instance = await actors.ensure_instance_actor(db)
    return Federation(
        db=db,
        config=config,
        urls=Urls(config.base_url),
        http=HttpClient(config.base_url, allow_private=config.allow_private_addresses),
        instance_actor=instance,
    )
