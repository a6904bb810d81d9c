"""A members-only group's rules reach whoever asks to join, before moderators decide; the rules
a remote group sends back are kept with the request, and a forged answer changes nothing."""

from __future__ import annotations

import json

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, NotFound
from server.models import RemoteActorData
from server.services import actors, follows, groups, inbound, notifications
from server.services.follows import SEND_GROUP_RULES
from tests.factories import make_account, make_group, snapshot
from tests.server.test_moderation_service import remote_person

RULES = "Ce qui est dit ici reste ici."


async def test_a_remote_request_is_sent_the_rules_and_moderators_read_them(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config)
    group = await make_group(db, config, owner, visibility="members", join_policy="approval")
    async with db.acquire() as conn:
        await conn.execute("UPDATE groups SET rules = $2 WHERE actor_id = $1", group.id, RULES)
    bob = await remote_person(db, "bob")
    target = await actors.get_actor(db, group.id)

    state = await follows.receive_follow(db, bob, target, "https://ailleurs.example/f/1")

    assert state == "pending"
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT payload FROM jobs WHERE kind = $1", SEND_GROUP_RULES)
    assert [json.loads(r["payload"])["follower_id"] for r in rows] == [bob.id]
    assert await follows.get_rules_shown(db, group.id, bob.id) == RULES
    [pending] = await groups.list_members(db, group, owner, state="pending")
    assert pending.rules_shown == RULES


def remote_group(name: str) -> RemoteActorData:
    return RemoteActorData(
        uri=f"https://ailleurs.example/groups/{name}", name=name, domain="ailleurs.example",
        kind="group", display_name=name, summary_html="", avatar=None, url=None,
        inbox=f"https://ailleurs.example/groups/{name}/inbox", shared_inbox=None, outbox=None,
        followers_uri=None, key_id=f"https://ailleurs.example/groups/{name}#main-key",
        public_key_pem="", manually_approves=True,
    )  # fmt: skip


async def test_rules_from_the_group_asked_are_kept_and_a_forged_answer_changes_nothing(
    db: Pool, config: Config
) -> None:
    ana = await make_account(db, config)
    circle = await inbound.store_remote_actor(db, remote_group("cercle"))
    other = await inbound.store_remote_actor(db, remote_group("autre"))
    mallory = await remote_person(db, "mallory")
    follow_uri = f"{config.base_url}/users/{ana.username}/follows/abc"
    await follows.follow_actor(db, ana.id, circle, follow_uri)
    before = await snapshot(db)

    with pytest.raises(Forbidden):
        await follows.receive_group_rules(db, other, follow_uri, "<p>Fausses règles</p>")
    with pytest.raises(Forbidden):
        await follows.receive_group_rules(db, mallory, follow_uri, "<p>Fausses règles</p>")
    with pytest.raises(NotFound):
        await follows.receive_group_rules(db, circle, f"{follow_uri}x", "<p>Règles</p>")
    assert await snapshot(db) == before

    await follows.receive_group_rules(
        db, circle, follow_uri, "<p>Règles<script>alert(1)</script></p>"
    )
    kept = await follows.list_rules_received(db, ana)
    assert list(kept) == [circle.id] and "<script" not in kept[circle.id]
    [told] = await notifications.list_notifications(db, ana, "fr")
    assert "vous a envoyé ses règles" in told.text
