"""Mobilizations and alliances between groups of one instance: organizers publish, allies
relay once each (at once or after approval), nothing loops back, bad input changes nothing."""

from __future__ import annotations

import json

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import Account, Group
from server.services import mobilizations
from tests.factories import make_account, make_group, make_member, snapshot

FORM = {
    "what": "Rassemblement contre l'expulsion de la famille Diallo",
    "place": "Devant le 12 rue des Lilas",
    "starts_at": "2099-03-01T08:00",
    "why": "Expulsion prévue à 9 h.",
    "how_to_help": "Venez nombreux, apportez du café.",
    "urgency": "critical",
}


async def jobs(db: Pool) -> list[tuple[str, dict[str, object]]]:
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT kind, payload FROM jobs ORDER BY id")
    return [(r["kind"], json.loads(r["payload"])) for r in rows]


async def organized_group(db: Pool, config: Config, slug: str) -> tuple[Account, Group]:
    owner = await make_account(db, config, f"orga_{slug}")
    return owner, await make_group(db, config, owner, slug)


async def allied(
    db: Pool, config: Config, a: tuple[Account, Group], b: tuple[Account, Group]
) -> None:
    await mobilizations.propose_alliance(db, config, a[1], a[0], b[1].slug)
    await mobilizations.accept_alliance(db, b[1], b[0], a[1].id)


async def test_mobilization_goes_ahead_of_the_queue_and_allies_relay_it_once(
    db: Pool, config: Config
) -> None:
    a, b, c, d = [
        await organized_group(db, config, s) for s in ("soutien", "voisins", "paroisse", "ecole")
    ]
    await allied(db, config, a, b)  # an alliance goes both ways: B never relays back to A
    await allied(db, config, a, c)
    await allied(db, config, c, b)  # B hears it from A and from C: it relays once
    await allied(db, config, c, d)  # D is C's ally only: it relays C's relay (one hop more)

    mobilization = await mobilizations.publish_mobilization(db, config, a[1], a[0], **FORM)

    assert "URGENT" in mobilization.content_html and "12 rue des Lilas" in mobilization.content_html
    kinds = [(kind, payload.get("group_id")) for kind, payload in await jobs(db)]
    assert kinds == [
        (mobilizations.FEDERATE_MOBILIZATION, None),
        (mobilizations.RELAY_MOBILIZATION, b[1].id),
        (mobilizations.RELAY_MOBILIZATION, c[1].id),
        (mobilizations.RELAY_MOBILIZATION, d[1].id),
    ]
    async with db.acquire() as conn:
        ahead = await conn.fetchval("SELECT bool_and(run_at < now()) FROM jobs")
    assert ahead  # due before anything queued now
    reach = await mobilizations.get_reach(db, mobilization, a[0])
    assert sorted(reach.relayed_by) == ["ecole", "paroisse", "voisins"]


async def test_an_ally_that_approves_first_relays_only_when_approved(
    db: Pool, config: Config
) -> None:
    a, b = [await organized_group(db, config, s) for s in ("soutien", "voisins")]
    await allied(db, config, a, b)
    await mobilizations.set_relay_policy(db, b[1], b[0], a[1].id, "approve")

    mobilization = await mobilizations.publish_mobilization(db, config, a[1], a[0], **FORM)

    assert [k for k, _ in await jobs(db)] == [mobilizations.FEDERATE_MOBILIZATION]
    assert [m.id for m in await mobilizations.list_pending_relays(db, b[1])] == [mobilization.id]
    await mobilizations.approve_relay(db, b[1], b[0], mobilization.id)
    assert [k for k, _ in await jobs(db)][-1] == mobilizations.RELAY_MOBILIZATION
    with pytest.raises(NotFound):  # approved once: never relayed twice
        await mobilizations.approve_relay(db, b[1], b[0], mobilization.id)


async def test_an_unallied_or_unaccepted_group_makes_nobody_relay(db: Pool, config: Config) -> None:
    a, b = [await organized_group(db, config, s) for s in ("soutien", "voisins")]
    await mobilizations.propose_alliance(db, config, a[1], a[0], b[1].slug)  # not accepted

    await mobilizations.publish_mobilization(db, config, a[1], a[0], **FORM)

    assert [k for k, _ in await jobs(db)] == [mobilizations.FEDERATE_MOBILIZATION]


async def test_only_the_other_groups_organizers_accept_an_alliance(
    db: Pool, config: Config
) -> None:
    a, b = [await organized_group(db, config, s) for s in ("soutien", "voisins")]
    member = await make_account(db, config)
    await make_member(db, b[1], member)
    await mobilizations.propose_alliance(db, config, a[1], a[0], b[1].slug)
    before = await snapshot(db)

    with pytest.raises(Forbidden):
        await mobilizations.accept_alliance(db, b[1], member, a[1].id)
    with pytest.raises(NotFound):  # the proposer cannot accept its own offer
        await mobilizations.accept_alliance(db, a[1], a[0], b[1].id)

    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("what", "", "This field is required."),
        ("place", " ", "This field is required."),
        ("starts_at", "", "This field is required."),
        ("starts_at", "2001-01-01T10:00", "This moment is already past."),
        ("urgency", "panic", "Choose one of the options."),
    ],
)
async def test_bad_mobilization_form_changes_nothing(
    db: Pool, config: Config, field: str, value: str, message: str
) -> None:
    owner, group = await organized_group(db, config, "soutien")
    before = await snapshot(db)

    with pytest.raises(Invalid) as caught:
        await mobilizations.publish_mobilization(db, config, group, owner, **{**FORM, field: value})

    assert caught.value.fields == {field: message}
    assert await snapshot(db) == before


async def test_bad_alliance_proposals_change_nothing(db: Pool, config: Config) -> None:
    owner, group = await organized_group(db, config, "soutien")
    before = await snapshot(db)

    for handle, message in (
        ("", "This field is required."),
        ("nobody", "No group has this address."),
        ("soutien", "A group cannot ally with itself."),
    ):
        with pytest.raises(Invalid) as caught:
            await mobilizations.propose_alliance(db, config, group, owner, handle)
        assert caught.value.fields == {"handle": message}

    assert await snapshot(db) == before
