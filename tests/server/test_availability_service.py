"""Availability: members say when they can listen; members alone see it; bad input changes
nothing; weekly windows follow the member's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid
from server.models import Account, Actor, Availability, Group
from server.services import actors, availability, follows, groups
from server.services.availability import next_window
from tests.factories import make_account, make_accounts, make_group, make_member, snapshot
from tests.server.test_moderation_service import remote_person


async def test_available_now_is_seen_by_members_only(db: Pool, config: Config) -> None:
    owner, member, stranger = await make_accounts(db, config, "av1", "av2", "av3")
    group = await make_group(db, config, owner)
    await make_member(db, group, member)

    await availability.set_available_now(db, group, owner, minutes="60", note="Pour écouter")

    [seen] = await availability.list_available(db, group, member)
    assert seen.now and seen.availability.note == "Pour écouter"
    assert seen.availability.actor_id == owner.id
    for outsider in (stranger, None):
        with pytest.raises(Forbidden):
            await availability.list_available(db, group, outsider)


async def test_a_new_now_replaces_the_previous_one_and_no_job_is_queued(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config)
    group = await make_group(db, config, owner)
    await availability.set_available_now(db, group, owner, minutes="30", note="a")
    await availability.set_available_now(db, group, owner, minutes="120", note="b")
    assert [a.availability.note for a in await availability.list_available(db, group, owner)] == [
        "b"
    ]
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM jobs") == 0


async def test_asking_for_a_conversation_reaches_the_available_member(
    db: Pool, config: Config
) -> None:
    owner, member = await make_accounts(db, config, "av4", "av5")
    group = await make_group(db, config, owner)
    await make_member(db, group, member)
    await availability.set_available_now(db, group, owner, minutes="60", note="")

    await availability.ask_for_conversation(db, group, member, owner.id, message="On parle ?")

    [request] = await availability.list_conversation_requests(db, group, owner)
    assert (request.from_id, request.message) == (member.id, "On parle ?")


def weekly(weekday: int, start: int, end: int, timezone: str) -> Availability:
    return Availability(1, 1, 1, "n", "", "weekly", None, weekday, start, end, timezone, "")


def test_a_weekly_window_is_read_in_the_members_time_zone() -> None:
    # Wednesday 2026-12-09 at 10:00 UTC is 11:00 in Paris; a Wednesday 18:00-20:00 window in
    # Montreal (UTC-5) is 23:00-01:00 UTC.
    now = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    starts, ends = next_window(weekly(2, 18 * 60, 20 * 60, "America/Montreal"), now) or (now, now)
    assert (starts, ends) == (
        datetime(2026, 12, 9, 23, 0, tzinfo=UTC), datetime(2026, 12, 10, 1, 0, tzinfo=UTC),
    )  # fmt: skip
    # Past this week's window, the next one is a week later.
    later = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
    assert (next_window(weekly(2, 18 * 60, 20 * 60, "America/Montreal"), later) or (now,))[0] == (
        datetime(2026, 12, 16, 23, 0, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("kind", "form", "field"),
    [
        ("now", {"minutes": "600000", "note": ""}, "minutes"),
        ("now", {"minutes": "60", "note": "x" * 281}, "note"),
        ("weekly", {"weekday": "7", "start": "18:00", "end": "20:00", "note": ""}, "weekday"),
        ("weekly", {"weekday": "1", "start": "25:00", "end": "20:00", "note": ""}, "start"),
        ("weekly", {"weekday": "1", "start": "20:00", "end": "18:00", "note": ""}, "end"),
    ],
)
async def test_bad_input_changes_nothing(
    db: Pool, config: Config, kind: str, form: dict[str, str], field: str
) -> None:
    owner = await make_account(db, config)
    group = await make_group(db, config, owner)
    before = await snapshot(db)
    with pytest.raises(Invalid) as caught:
        if kind == "now":
            await availability.set_available_now(db, group, owner, **form)
        else:
            await availability.add_weekly_window(db, group, owner, **form)
    assert field in caught.value.fields
    assert await snapshot(db) == before


async def _remote_member(db: Pool, group: Group, owner: Account, name: str) -> Actor:
    """A person of another instance let into a members-only group by its owner."""
    person = await remote_person(db, name)
    group_actor = await actors.get_actor(db, group.id)
    await follows.receive_follow(db, person, group_actor, f"{person.uri}#follows/1")
    await groups.decide_request(db, group, owner, person.id, approve=True)
    return person


async def test_asking_a_member_of_another_instance_queues_a_private_message(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "cv1")
    group = await make_group(db, config, owner, visibility="members", join_policy="approval")
    bob = await _remote_member(db, group, owner, "bob")

    [listed] = await availability.list_remote_members(db, group, owner)
    assert (listed.actor_id, listed.domain) == (bob.id, "ailleurs.example")
    await availability.ask_for_conversation(db, group, owner, bob.id, message="Un café jeudi ?")

    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT payload FROM jobs WHERE kind = $1",
                                availability.SEND_CONVERSATION_REQUEST)  # fmt: skip
    assert len(rows) == 1
    # Nobody else was asked: the message is nowhere but in the request (never in a job).
    assert "café" not in rows[0]["payload"]


async def test_a_request_from_another_instance_reaches_the_member_it_names(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "cv3")
    group = await make_group(db, config, owner, visibility="members", join_policy="approval")
    bob = await _remote_member(db, group, owner, "bob2")
    group_actor = await actors.get_actor(db, group.id)
    recipient = await actors.get_actor(db, owner.id)

    outcome = await availability.receive_conversation_request(
        db, group_actor, bob, recipient, message="Je suis libre ce soir", uri=f"{bob.uri}#c/1"
    )
    again = await availability.receive_conversation_request(
        db, group_actor, bob, recipient, message="Je suis libre ce soir", uri=f"{bob.uri}#c/1"
    )

    assert outcome.startswith("conversation request") and again == "already received"
    [request] = await availability.list_conversation_requests(db, group, owner)
    assert (request.from_id, request.from_domain, request.message) == (
        bob.id, "ailleurs.example", "Je suis libre ce soir",
    )  # fmt: skip
    async with db.acquire() as conn:
        kinds = await conn.fetch(
            "SELECT subject FROM notifications WHERE account_id = $1 AND kind = $2",
            owner.id, "conversation_request",
        )  # fmt: skip
    assert [k["subject"] for k in kinds] == ["Je suis libre ce soir"]


async def test_a_request_from_a_non_member_of_another_instance_changes_nothing(
    db: Pool, config: Config
) -> None:
    owner = await make_account(db, config, "cv4")
    group = await make_group(db, config, owner, visibility="members", join_policy="approval")
    stranger = await remote_person(db, "mallory")
    group_actor = await actors.get_actor(db, group.id)
    recipient = await actors.get_actor(db, owner.id)
    before = await snapshot(db)

    with pytest.raises(Forbidden):
        await availability.receive_conversation_request(
            db, group_actor, stranger, recipient, message="Bonjour", uri=f"{stranger.uri}#c/1"
        )

    assert await snapshot(db) == before
