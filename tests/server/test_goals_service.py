"""Goals: a member shares one, posts follow-ups; others encourage; members-only by default."""

from __future__ import annotations

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid
from server.services import goals
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
