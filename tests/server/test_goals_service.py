"""Goals: a member shares one, posts follow-ups; others encourage; members-only by default."""

from __future__ import annotations

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import Actor, RemoteActorData, RemoteGoal
from server.services import goals, inbound
from tests.factories import make_accounts, make_group, make_member, snapshot


async def test_goal_timeline_has_follow_ups_and_encouragement(db: Pool, config: Config) -> None:
    owner, member, stranger = await make_accounts(db, config, "gl1", "gl2", "gl3")
    group = await make_group(db, config, owner)
    await make_member(db, group, member)

    goal = await goals.share_goal(db, group, member, title="Marcher chaque jour", body="")
    await goals.add_update(db, goal, member, content="Trois jours de suite !")
    await goals.add_update(db, goal, owner, content="Bravo, continue")
    await goals.like(db, goal, owner, liked=True)
    await goals.like(db, goal, owner, liked=True)  # once only

    assert goal.visibility == "members"
    timeline = await goals.list_timeline(db, goal)
    assert [(u.kind, u.author_id) for u in timeline] == [
        ("followup", member.id), ("encouragement", owner.id),
    ]  # fmt: skip
    assert (await goals.get_goal(db, goal.id, owner)).likes == 1
    # Members-only by default, even in a public group.
    for outsider in (stranger, None):
        with pytest.raises(Forbidden):
            await goals.get_goal(db, goal.id, outsider)
        assert await goals.list_goals(db, group, outsider) == []
    with pytest.raises(Forbidden):
        await goals.add_update(db, goal, stranger, content="Je passe")


async def test_a_public_goal_is_read_by_everyone(db: Pool, config: Config) -> None:
    [owner] = await make_accounts(db, config, "gl4")
    group = await make_group(db, config, owner)
    goal = await goals.share_goal(db, group, owner, title="Apprendre", body="", visibility="public")
    assert (await goals.get_goal(db, goal.id, None)).title == "Apprendre"


async def test_a_long_encouragement_is_refused_and_changes_nothing(
    db: Pool, config: Config
) -> None:
    owner, member = await make_accounts(db, config, "gl5", "gl6")
    group = await make_group(db, config, owner)
    await make_member(db, group, member)
    goal = await goals.share_goal(db, group, member, title="Objectif", body="")
    before = await snapshot(db)
    with pytest.raises(Invalid):
        await goals.add_update(db, goal, owner, content="x" * 501)
    assert await snapshot(db) == before


async def _remote_goal(
    db: Pool, author_name: str, group_name: str, author_domain: str
) -> tuple[Actor, Actor]:
    from tests.server.test_moderation_service import remote_person

    author = await remote_person(db, author_name, author_domain)
    group = await inbound.store_remote_actor(
        db,
        RemoteActorData(
            uri=f"https://ailleurs.example/groups/{group_name}", name=group_name,
            domain="ailleurs.example", kind="group", display_name=group_name, summary_html="",
            avatar=None, url=None, inbox=f"https://ailleurs.example/groups/{group_name}/inbox",
            shared_inbox=None, outbox=None, followers_uri=None,
            key_id=f"https://ailleurs.example/groups/{group_name}#main-key", public_key_pem="",
            manually_approves=True,
        ),
    )  # fmt: skip
    return author, group


def _goal_data(uri: str, addressed: tuple[int, ...]) -> RemoteGoal:
    return RemoteGoal(uri=uri, url=None, title="Courir", body_html="<p>Un peu</p>",
                      public=False, addressed_person_ids=addressed)  # fmt: skip


async def test_a_goal_or_follow_up_from_the_wrong_author_changes_nothing(
    db: Pool, config: Config
) -> None:
    [local] = await make_accounts(db, config, "gl7")
    author, group = await _remote_goal(db, "rita", "coureurs", "ailleurs.example")
    other, _ = await _remote_goal(db, "mallory", "coureurs2", "ailleurs.example")
    outsider, _ = await _remote_goal(db, "eve", "coureurs3", "autre.example")
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO follows (follower_id, target_id, state, uri)"
            " VALUES ($1, $2, 'accepted', 'https://x.example/f/1')",
            local.id, group.id,
        )  # fmt: skip
    goal_uri = "https://ailleurs.example/goals/1"
    assert await goals.receive_goal(db, author, group, _goal_data(goal_uri, (local.id,)))
    before = await snapshot(db)

    with pytest.raises(Forbidden):  # someone else's follow-up
        await goals.receive_followup(db, other, goal_uri, uri=f"{goal_uri}/u/1",
                                     content_html="<p>Faux</p>")  # fmt: skip
    with pytest.raises(Forbidden):  # someone else rewriting the goal
        await goals.receive_goal(db, other, group, _goal_data(goal_uri, (local.id,)))
    with pytest.raises(Forbidden):  # an author who does not live where the group does
        await goals.receive_goal(db, outsider, group, _goal_data("https://autre.example/g/2", ()))
    with pytest.raises(NotFound):  # a follow-up of a goal nobody here knows
        await goals.receive_followup(db, author, "https://ailleurs.example/goals/9",
                                     uri=f"{goal_uri}/u/2", content_html="<p>?</p>")  # fmt: skip

    assert await snapshot(db) == before
    # Nobody here is addressed: a members-only goal is not kept.
    assert await goals.receive_goal(db, author, group, _goal_data(f"{goal_uri}0", ())) is None
