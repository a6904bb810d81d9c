"""A members-only group's rules reach whoever asks to join, before moderators decide; the rules
a remote group sends back are kept with the request, and a forged answer changes nothing; a
remote group's relay of a member's reply is kept only in a thread of that group."""

from __future__ import annotations

import json

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, NotFound
from server.models import RemoteActorData, RemoteNote
from server.services import actors, follows, groups, inbound, notifications, posts
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


async def test_a_relay_is_kept_only_for_a_reply_to_a_post_of_the_relaying_group(
    db: Pool, config: Config
) -> None:
    ana = await make_account(db, config)
    circle = await inbound.store_remote_actor(db, remote_group("cercle"))
    other = await inbound.store_remote_actor(db, remote_group("autre"))
    bob = await remote_person(db, "bob")
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO groups (actor_id, visibility) VALUES ($1, 'members'), ($2, 'members')",
            circle.id,
            other.id,
        )
        parent_id = await conn.fetchval(
            "INSERT INTO posts (uri, group_id, author_id, content_html)"
            " VALUES ('https://ailleurs.example/posts/1', $1, $1, '<p>Bonjour</p>') RETURNING id",
            circle.id,
        )
        await conn.execute(
            "INSERT INTO memberships (group_id, actor_id, state) VALUES ($1, $2, 'active')",
            circle.id,
            ana.id,
        )

    def note(uri: str, reply_to: int | None) -> RemoteNote:
        return RemoteNote(
            uri=uri, url=None, content_html="<p>Courage</p>", content_warning="",
            in_reply_to_id=reply_to, in_reply_to_uri=None, addressed_group_ids=(),
            public=False,
        )  # fmt: skip

    before = await snapshot(db)
    # Another group relaying a reply in a thread of the first, or a reply to nothing here
    assert (
        await inbound.receive_members_relay(db, other, bob, note("https://b/1", parent_id)) is None
    )
    assert await inbound.receive_members_relay(db, circle, bob, note("https://b/2", None)) is None
    assert await snapshot(db) == before

    kept = await inbound.receive_members_relay(db, circle, bob, note("https://b/3", parent_id))
    assert kept is not None
    thread = await posts.get_thread(db, parent_id, ana)
    assert [r.id for r in thread.replies] == [kept]
