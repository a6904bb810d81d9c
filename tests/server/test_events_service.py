"""Events: the form's rules, the waiting list moving up in order, approval, and what is queued."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, date, timedelta

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.models import Account, Event, Group
from server.services import events, participation
from server.services.events import FEDERATE_EVENT, EventForm
from tests.factories import make_account, make_accounts, make_group, make_member, snapshot

NEXT_WEEK = (date.today() + timedelta(days=7)).isoformat()
FORM = EventForm(
    title="Repas partagé",
    description="Chacun apporte un plat.",
    start_date=NEXT_WEEK,
    start_time="19:00",
    end_time="22:00",
    timezone="Europe/Paris",
    place_name="Salle des fêtes",
    street_address="3 rue de la Paix",
    postal_code="69001",
    locality="Lyon",
    country="France",
)


async def setup(db: Pool, config: Config, **form: object) -> tuple[Group, Account, Event]:
    owner = await make_account(db, config)
    group = await make_group(db, config, owner)
    event = await events.create_event(db, group, owner, replace(FORM, **form))  # type: ignore[arg-type]
    return group, owner, event


async def states(db: Pool, event: Event) -> list[tuple[str, str]]:
    async with db.acquire() as conn:
        rows = await conn.fetch(
            "SELECT a.name, p.state FROM event_participants p JOIN actors a ON a.id = p.actor_id"
            " WHERE p.event_id = $1 ORDER BY p.id",
            event.id,
        )
    return [(r["name"], r["state"]) for r in rows]


async def queued(db: Pool, kind: str) -> list[dict[str, object]]:
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT payload FROM jobs WHERE kind = $1 ORDER BY id", kind)
    return [json.loads(r["payload"]) for r in rows]


async def test_create_event_keeps_the_time_in_its_zone_and_queues_its_create(
    db: Pool, config: Config
) -> None:
    _group, _owner, event = await setup(db, config)

    assert event.timezone == "Europe/Paris"
    assert event.starts_at.astimezone(UTC).hour in (17, 18)  # 19:00 in Paris, DST or not
    assert event.ends_at - event.starts_at == timedelta(hours=3)
    assert event.sequence == 0
    assert await queued(db, FEDERATE_EVENT) == [{"event_id": event.id, "action": "create"}]


async def test_all_day_event_runs_from_midnight_to_the_next_midnight(
    db: Pool, config: Config
) -> None:
    _g, _o, event = await setup(db, config, all_day=True, start_time="", end_time="")

    assert event.all_day
    assert event.ends_at - event.starts_at == timedelta(days=1)
    assert EventForm.of_event(event).end_date == NEXT_WEEK


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": NEXT_WEEK, "end_time": "18:00"}, "end_date"),  # ends before it starts
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"capacity": "0"}, "capacity"),
        ({"capacity": "-3"}, "capacity"),
        ({"capacity": "deux"}, "capacity"),
        ({"title": "  "}, "title"),
        ({"start_date": ""}, "start_date"),
        ({"start_time": ""}, "start_time"),
        ({"start_date": "9999-12-31"}, "start_date"),
        ({"latitude": "91"}, "latitude"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"join_mode": "external"}, "external_url"),
    ],
)
async def test_bad_event_forms_are_refused_with_the_field_and_nothing_written(
    db: Pool, config: Config, change: dict[str, str], field: str
) -> None:
    owner = await make_account(db, config)
    group = await make_group(db, config, owner)
    before = await snapshot(db)

    with pytest.raises(Invalid) as error:
        await events.create_event(db, group, owner, replace(FORM, **change))  # type: ignore[arg-type]

    assert field in error.value.fields
    assert await snapshot(db) == before


async def test_bad_edit_changes_nothing(db: Pool, config: Config) -> None:
    _group, owner, event = await setup(db, config)
    before = await snapshot(db)

    with pytest.raises(Invalid):
        await events.update_event(db, event, owner, replace(FORM, capacity="0"))

    assert await snapshot(db) == before


async def test_waiting_list_moves_up_in_order_when_a_place_frees(db: Pool, config: Config) -> None:
    group, _owner, event = await setup(db, config, capacity="2")
    ana, ben, chloe, dan = await make_accounts(db, config, "ana", "ben", "chloe", "dan")
    for person in (ana, ben, chloe, dan):
        await make_member(db, group, person)
        await participation.join_event(db, config, event, person)
    assert await states(db, event) == [
        ("ana", "going"), ("ben", "going"), ("chloe", "waiting"), ("dan", "waiting"),
    ]  # fmt: skip

    await participation.leave_event(db, event, ben)

    assert await states(db, event) == [("ana", "going"), ("chloe", "going"), ("dan", "waiting")]
    chloe_view = await events.get_event(db, event.id, chloe)
    assert chloe_view.participation is not None
    assert chloe_view.participation.promoted_at is not None  # what the page tells her
    assert chloe_view.event.going_count == 2 and chloe_view.event.waiting_count == 1


async def test_larger_capacity_moves_the_waiting_list_up(db: Pool, config: Config) -> None:
    _group, owner, event = await setup(db, config, capacity="1")
    ana, ben = await make_accounts(db, config, "ana", "ben")
    for person in (ana, ben):
        await participation.join_event(db, config, event, person)

    updated = await events.update_event(db, event, owner, replace(FORM, capacity="5"))

    assert await states(db, event) == [("ana", "going"), ("ben", "going")]
    assert updated.sequence == 1


async def test_concurrent_joins_never_overshoot_the_capacity(db: Pool, config: Config) -> None:
    _group, _owner, event = await setup(db, config, capacity="2")
    people = await make_accounts(db, config, *(f"p{i}" for i in range(6)))

    await asyncio.gather(*(participation.join_event(db, config, event, p) for p in people))

    found = await states(db, event)
    assert [s for _, s in found].count("going") == 2
    assert [s for _, s in found].count("waiting") == 4


async def test_joining_twice_is_refused_and_changes_nothing(db: Pool, config: Config) -> None:
    _group, _owner, event = await setup(db, config)
    ana = await make_account(db, config, "ana")
    await participation.join_event(db, config, event, ana)
    before = await snapshot(db)

    with pytest.raises(Conflict):
        await participation.join_event(db, config, event, ana)

    assert await snapshot(db) == before


async def test_leaving_an_event_one_never_joined_is_not_found(db: Pool, config: Config) -> None:
    _group, _owner, event = await setup(db, config)
    ana = await make_account(db, config, "ana")
    before = await snapshot(db)

    with pytest.raises(NotFound):
        await participation.leave_event(db, event, ana)

    assert await snapshot(db) == before


async def test_cancelled_event_takes_no_participant(db: Pool, config: Config) -> None:
    _group, owner, event = await setup(db, config)
    await events.cancel_event(db, event, owner)
    ana = await make_account(db, config, "ana")
    before = await snapshot(db)

    with pytest.raises(Conflict):
        await participation.join_event(db, config, event, ana)

    assert await snapshot(db) == before


async def test_approval_mode_waits_for_an_organizer(db: Pool, config: Config) -> None:
    group, owner, event = await setup(db, config, join_mode="approval", capacity="1")
    ana, ben = await make_accounts(db, config, "ana", "ben")
    await make_member(db, group, ben)
    a = await participation.join_event(db, config, event, ana, message="Je viens avec ma fille")
    b = await participation.join_event(db, config, event, ben)
    assert (a.state, b.state) == ("pending", "pending")

    with pytest.raises(Forbidden):  # a plain member is no organizer
        await participation.decide_participant(db, event, ben, a.id, accept=True)
    await participation.decide_participant(db, event, owner, a.id, accept=True)
    await participation.decide_participant(db, event, owner, b.id, accept=True)

    assert await states(db, event) == [("ana", "going"), ("ben", "waiting")]
    people = await participation.list_participants_for_export(db, event, owner)
    assert people[0].message == "Je viens avec ma fille"


async def test_only_organizers_edit_cancel_delete_and_export(db: Pool, config: Config) -> None:
    group, _owner, event = await setup(db, config)
    ana = await make_account(db, config, "ana")
    await make_member(db, group, ana)
    before = await snapshot(db)

    with pytest.raises(Forbidden):
        await events.update_event(db, event, ana, FORM)
    with pytest.raises(Forbidden):
        await events.cancel_event(db, event, ana)
    with pytest.raises(Forbidden):
        await events.delete_event(db, event, ana)
    with pytest.raises(Forbidden):
        await participation.list_participants_for_export(db, event, ana)

    assert await snapshot(db) == before


async def test_a_burst_of_joins_queues_one_update_of_the_counts(db: Pool, config: Config) -> None:
    _group, _owner, event = await setup(db, config)
    people = await make_accounts(db, config, "ana", "ben", "chloe")

    for person in people:
        await participation.join_event(db, config, event, person)

    assert await queued(db, FEDERATE_EVENT) == [
        {"event_id": event.id, "action": "create"},
        {"event_id": event.id, "action": "update"},
    ]


async def test_members_only_group_keeps_its_events_among_members(db: Pool, config: Config) -> None:
    owner, stranger = await make_accounts(db, config, "owner", "stranger")
    group = await make_group(db, config, owner, visibility="members")
    event = await events.create_event(db, group, owner, FORM)

    assert event.visibility == "members"
    with pytest.raises(Forbidden):
        await events.get_event(db, event.id, stranger)
    with pytest.raises(Forbidden):
        await participation.join_event(db, config, event, stranger)
    assert await events.list_public_events(db) == []
