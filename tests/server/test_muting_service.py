"""Personal mutes and blocks against a real database: what each hides, refuses and sends."""

from __future__ import annotations

import json

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import Account, Actor, RemoteNote, TimelineRange
from server.services import actors, follows, inbound, muting, notifications, posts, timelines
from server.services.muting import SEND_BLOCK
from server.services.posts import SEND_LIKE
from tests.factories import make_accounts, make_group, make_member, make_post, snapshot
from tests.server.test_moderation_service import remote_person

WINDOW = TimelineRange(max_id=None, since_id=None, min_id=None, limit=40)


async def texts(db: Pool, account: Account) -> list[str]:
    return [n.text for n in await notifications.list_notifications(db, account, "en")]


async def home(db: Pool, account: Account) -> list[str]:
    return [v.post.content for v in await timelines.home_timeline(db, account, WINDOW)]


async def jobs(db: Pool, kind: str) -> list[dict[str, object]]:
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT payload FROM jobs WHERE kind = $1 ORDER BY id", kind)
    return [json.loads(r["payload"]) for r in rows]


async def test_a_mute_hides_posts_replies_and_notifications_from_the_muter_alone(
    db: Pool, config: Config
) -> None:
    ana, bea, cam = await make_accounts(db, config, "ana", "bea", "cam")
    group = await make_group(db, config, ana)
    await make_member(db, group, bea)
    await make_member(db, group, cam)
    first = await make_post(db, config, group, ana, "Qui vient samedi ?")
    await make_post(db, config, group, bea, "Moi !", in_reply_to_id=first.id)
    await make_post(db, config, group, bea, "Un message de bea")
    assert await texts(db, ana) == ["bea replied to your post"]

    await muting.mute(db, ana, bea.id)
    await make_post(db, config, group, bea, "Et @ana aussi", in_reply_to_id=first.id)

    # Group page, thread, home timeline and notifications (old and new) as ana sees them
    page = await posts.list_group_posts(db, group, ana)
    assert [p.content for p in page.posts] == ["Qui vient samedi ?"]
    assert (await posts.get_thread(db, first.id, ana)).replies == []
    assert await home(db, ana) == ["Qui vient samedi ?"]
    assert await texts(db, ana) == []
    assert await notifications.count_unread(db, ana) == 0
    # Cam sees everything: a mute is ana's alone
    assert len((await posts.get_thread(db, first.id, cam)).replies) == 2
    assert "Un message de bea" in await home(db, cam)

    await muting.unmute(db, ana, bea.id)
    assert len((await posts.get_thread(db, first.id, ana)).replies) == 2


async def test_a_block_refuses_replies_and_likes_and_hides_both_ways(
    db: Pool, config: Config
) -> None:
    ana, bea = await make_accounts(db, config, "ana", "bea")
    group = await make_group(db, config, ana)
    await make_member(db, group, bea)
    mine = await make_post(db, config, group, ana, "Le post d'ana")
    theirs = await make_post(db, config, group, bea, "Le post de bea")

    await muting.block(db, config, ana, bea.id)
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await make_post(db, config, group, bea, "Réponse", in_reply_to_id=mine.id)
    with pytest.raises(Forbidden):
        await posts.toggle_like(db, config, mine, bea)
    with pytest.raises(Forbidden):  # nor the blocker with the blocked
        await posts.toggle_like(db, config, theirs, ana)
    assert await snapshot(db) == before

    await make_post(db, config, group, bea, "Coucou @ana")  # a mention reaches no one
    assert await texts(db, ana) == []
    # Each is hidden from the other: bea no longer sees ana's posts, nor ana bea's
    assert [p.content for p in (await posts.list_group_posts(db, group, bea)).posts] == [
        "Coucou @ana",
        "Le post de bea",
    ]
    assert [p.content for p in (await posts.list_group_posts(db, group, ana)).posts] == [
        "Le post d'ana"
    ]
    relation = (await timelines.relationships(db, ana, [bea.id]))[0]
    assert (relation.blocking, relation.blocked_by) == (True, False)
    assert (await timelines.relationships(db, bea, [ana.id]))[0].blocked_by
    assert [p.id for p in await muting.list_blocked(db, ana)] == [bea.id]
    assert await jobs(db, SEND_BLOCK) == []  # a local person: nothing to send

    await muting.unblock(db, ana, bea.id)
    await make_post(db, config, group, bea, "Réponse", in_reply_to_id=mine.id)


async def test_self_and_groups_and_strangers_cannot_be_muted(db: Pool, config: Config) -> None:
    (ana,) = await make_accounts(db, config, "ana")
    group = await make_group(db, config, ana)
    before = await snapshot(db)
    with pytest.raises(Invalid):
        await muting.mute(db, ana, ana.id)
    with pytest.raises(NotFound):
        await muting.block(db, config, ana, group.id)
    with pytest.raises(NotFound):
        await muting.mute(db, ana, 987654)
    with pytest.raises(Invalid):
        await muting.silence_by_handle(db, config, ana, "nobody@nowhere.example", "block")
    with pytest.raises(Invalid):
        await muting.silence_by_handle(db, config, ana, "ana", "shout")
    assert await snapshot(db) == before


async def remote_reply(
    db: Pool, author: Actor, parent_id: int, uri: str, content: str = "Réponse"
) -> int | None:
    note = RemoteNote(
        uri=uri, url=None, content_html=f"<p>{content}</p>", content_warning="",
        in_reply_to_id=parent_id, in_reply_to_uri=None, addressed_group_ids=(),
    )  # fmt: skip
    return await inbound.receive_note(db, author, note)


async def test_a_remote_block_is_sent_follows_end_and_their_activities_are_dropped(
    db: Pool, config: Config
) -> None:
    (ana,) = await make_accounts(db, config, "ana")
    group = await make_group(db, config, ana)
    mine = await make_post(db, config, group, ana, "Le post d'ana")
    mallory = await remote_person(db)
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO follows (follower_id, target_id, uri, state)"
            " VALUES ($1, $2, 'https://x.example/f1', 'accepted'),"
            " ($2, $1, 'https://ailleurs.example/f2', 'accepted')",
            ana.id,
            mallory.id,
        )

    await muting.block(db, config, ana, mallory.id)

    sent = await jobs(db, SEND_BLOCK)
    assert len(sent) == 1 and sent[0]["target_id"] == mallory.id and not sent[0]["undo"]
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM follows") == 0
    assert [j["undo"] for j in await jobs(db, follows.SEND_FOLLOW)] == [True]
    # A remote reply, like or follow from the blocked person is dropped at processing
    assert await remote_reply(db, mallory, mine.id, "https://ailleurs.example/n/1") is None
    with pytest.raises(Forbidden):
        await inbound.receive_like(db, mallory, mine.id, "https://ailleurs.example/l/1")
    assert await texts(db, ana) == []

    await muting.unblock(db, ana, mallory.id)
    sent = await jobs(db, SEND_BLOCK)
    assert [j["undo"] for j in sent] == [False, True]
    assert sent[0]["block_uri"] == sent[1]["block_uri"]


async def test_a_received_block_hides_the_blocker_from_the_local_person(
    db: Pool, config: Config
) -> None:
    (ana,) = await make_accounts(db, config, "ana")
    group = await make_group(db, config, ana)
    mine = await make_post(db, config, group, ana, "Le post d'ana")
    mallory = await remote_person(db)
    reply_id = await remote_reply(db, mallory, mine.id, "https://ailleurs.example/n/1")
    assert reply_id is not None
    assert len((await posts.get_thread(db, mine.id, ana)).replies) == 1

    target = await actors.get_actor(db, ana.id)
    block_uri = "https://ailleurs.example/b/1"
    assert await muting.receive_block(db, mallory, target, block_uri) == "blocked"
    assert await muting.receive_block(db, mallory, target, block_uri) == "already blocked"

    assert (await posts.get_thread(db, mine.id, ana)).replies == []
    reply = (await posts.get_thread(db, reply_id, ana)).post
    with pytest.raises(Forbidden):
        await posts.toggle_like(db, config, reply, ana)
    assert await jobs(db, SEND_LIKE) == []
    assert await muting.receive_undo_block(db, mallory, block_uri)
    assert len((await posts.get_thread(db, mine.id, ana)).replies) == 1
