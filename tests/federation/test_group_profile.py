"""A group's topics, place and language on the wire: our Group actor carries them (schema.org
`location` and `inLanguage`, `entraide:topics`); a remote Entraide group's are read and kept,
and a Mobilizon group's place is read from its `location` as Mobilizon sends it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from federation.documents import actor_document
from federation.remote_actors import parse_actor
from federation.urls import Urls
from server.config import Config
from server.db import Pool
from server.services import actors, groups, inbound
from tests.factories import make_account

DATA = Path(__file__).parent.parent / "data"


async def test_our_group_actor_says_its_topics_place_and_language_and_a_peer_reads_them(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "ana")
    group = await groups.create_group(
        db, config, owner, slug="repair", name="Repair café", topics=["material", "social"],
        place="Lyon 7e", language="fr",
    )  # fmt: skip
    actor = await actors.get_local_actor(db, "repair")
    document = actor_document(Urls(config.base_url), actor, group=group)

    assert document["topics"] == ["material", "social"]
    assert document["location"] == {"type": "Place", "name": "Lyon 7e"}
    assert document["inLanguage"] == "fr"
    terms = document["@context"][-1]
    assert terms["inLanguage"] == "sc:inLanguage" and terms["topics"] == "entraide:topics"
    assert terms["location"]["@id"] == "sc:location"

    # Another Entraide instance reads the same document (a peer's copy, on its own host).
    theirs = json.loads(json.dumps(document).replace(config.base_url, "https://ailleurs.example"))
    data = parse_actor(theirs)
    assert (data.topics, data.place, data.language) == (("material", "social"), "Lyon 7e", "fr")
    stored = await inbound.store_remote_actor(db, data)
    assert (stored.topics, stored.place, stored.language) == (
        ("material", "social"), "Lyon 7e", "fr",
    )  # fmt: skip


def mobilizon_group(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / "mobilizon" / "group.json").read_text())
    return {**document, **changes}


def test_a_mobilizon_group_place_is_read_from_its_location() -> None:
    # Mobilizon's group `location` (lib/federation/activity_stream/converter/actor.ex):
    # a Place with a name and a PostalAddress.
    location = {
        "type": "Place", "id": "https://mobilizon.example/address/0438c134", "name": "Lyon",
        "address": {"type": "PostalAddress", "addressLocality": "Lyon", "postalCode": "69007",
                    "addressCountry": "France"},
    }  # fmt: skip
    assert parse_actor(mobilizon_group(location=location)).place == "Lyon"
    unnamed = {**location, "name": None}
    assert parse_actor(mobilizon_group(location=unnamed)).place == "Lyon"
    assert parse_actor(mobilizon_group()).place == ""


def test_unknown_or_hostile_topics_place_and_language_are_dropped() -> None:
    data = parse_actor(
        mobilizon_group(
            topics=["material", "<script>", 7, "advocacy"],
            location={"type": "Place", "name": "\u202eLyon" + " " * 50 + "x" * 500},
            inLanguage=["fr"],
        )
    )
    assert data.topics == ("material", "advocacy")
    assert data.place.startswith("Lyon x") and len(data.place) <= 120
    assert data.language is None
    assert parse_actor(mobilizon_group(topics="material", inLanguage="tlh")).topics == ()
