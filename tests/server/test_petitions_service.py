"""Petitions: organizers publish and close them; people sign once, withdraw; bad input changes
nothing; count updates are batched."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Conflict, Forbidden, Invalid
from server.models import Account, Group, Petition
from server.services import petitions
from tests.factories import make_account, make_group, make_member, snapshot

FORM = {
    "title": "Gardez la maison de quartier ouverte",
    "body": "Nous demandons le maintien des horaires du soir.",
    "addressee": "Mairie du 11e",
    "goal": "100",
}


async def jobs(db: Pool, kind: str = petitions.FEDERATE_PETITION) -> list[dict[str, object]]:
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT payload FROM jobs WHERE kind = $1 ORDER BY id", kind)
    return [json.loads(r["payload"]) for r in rows]


async def published(db: Pool, config: Config, **form: str) -> tuple[Account, Group, Petition]:
    owner = await make_account(db, config)
    group = await make_group(db, config, owner)
    petition = await petitions.create_petition(db, config, group, owner, **{**FORM, **form})
    return owner, group, petition


async def test_organizer_publishes_a_petition_and_queues_its_federation(
    db: Pool, config: Config
) -> None:
    _owner, group, petition = await published(db, config)

    assert (petition.title, petition.addressee, petition.goal) == (
        FORM["title"], FORM["addressee"], 100,
    )  # fmt: skip
    assert petition.is_open and petition.status == "open" and petition.signature_count == 0
    assert petition.group_id == group.id
    assert await jobs(db) == [{"petition_id": petition.id, "action": "create"}]


async def test_a_member_who_is_not_an_organizer_cannot_publish(db: Pool, config: Config) -> None:
    owner = await make_account(db, config)
    member = await make_account(db, config)
    group = await make_group(db, config, owner)
    await make_member(db, group, member)
    before = await snapshot(db)

    with pytest.raises(Forbidden):
        await petitions.create_petition(db, config, group, member, **FORM)

    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "  ", "This field is required."),
        ("addressee", "", "This field is required."),
        ("body", "", "This field is required."),
        ("goal", "", "This field is required."),
        ("goal", "0", "The goal must be between 1 and 10,000,000 signatures."),
        ("goal", "-5", "Enter a whole number."),
        ("goal", "cent", "Enter a whole number."),
        ("deadline", "2020-01-01", "The deadline must be in the future."),
        ("deadline", "tomorrow", "Enter a date like 2026-12-31 or 2026-12-31T18:00."),
    ],
)
async def test_bad_petition_form_is_refused_with_a_clear_error_and_changes_nothing(
    db: Pool, config: Config, field: str, value: str, message: str
) -> None:
    owner = await make_account(db, config)
    group = await make_group(db, config, owner)
    before = await snapshot(db)

    with pytest.raises(Invalid) as caught:
        await petitions.create_petition(db, config, group, owner, **{**FORM, field: value})

    assert caught.value.fields == {field: message}
    assert await snapshot(db) == before


async def test_one_signature_per_person_and_withdrawal(db: Pool, config: Config) -> None:
    _owner, _group, petition = await published(db, config)
    signer = await make_account(db, config)

    assert await petitions.sign(db, config, petition, signer, public=False) is True
    before = await snapshot(db)
    assert await petitions.sign(db, config, petition, signer, public=True) is False
    assert await snapshot(db) == before
    petition = await petitions.get_petition(db, petition.id, signer)
    assert petition.signature_count == 1
    assert await petitions.list_public_signatures(db, petition) == []

    assert await petitions.withdraw(db, petition, signer) is True
    assert (await petitions.get_petition(db, petition.id, signer)).signature_count == 0
    assert await petitions.withdraw(db, petition, signer) is False


async def test_count_updates_are_batched_one_job_per_interval(db: Pool, config: Config) -> None:
    _owner, _group, petition = await published(db, config)
    signers = [await make_account(db, config) for _ in range(3)]

    for signer in signers:
        await petitions.sign(db, config, petition, signer, public=True)

    assert [j["action"] for j in await jobs(db)] == ["create", "count"]
    # Sent: the next signature queues the next update, no sooner than the interval after.
    sent = await petitions.take_count_update(db, petition.id)
    assert sent.signature_count == 3
    await petitions.withdraw(db, petition, signers[0])
    async with db.acquire() as conn:
        run_at, sent_at = await conn.fetchrow(
            "SELECT j.run_at, p.count_sent_at FROM jobs j, petitions p"
            " WHERE p.id = $1 ORDER BY j.id DESC LIMIT 1",
            petition.id,
        )
    assert [j["action"] for j in await jobs(db)] == ["create", "count", "count"]
    assert run_at - sent_at >= timedelta(seconds=petitions.COUNT_UPDATE_SECONDS)


async def test_closed_petition_or_passed_deadline_takes_no_signature(
    db: Pool, config: Config
) -> None:
    owner, _group, petition = await published(db, config)
    signer = await make_account(db, config)
    petition = await petitions.change_status(db, petition, owner, status="closed", note="Remise")
    before = await snapshot(db)

    with pytest.raises(Conflict):
        await petitions.sign(db, config, petition, signer, public=True)

    assert await snapshot(db) == before
    _owner, _group, later = await published(db, config, deadline="2099-01-01")
    async with db.acquire() as conn:  # the deadline passes
        await conn.execute(
            "UPDATE petitions SET deadline = $2 WHERE id = $1",
            later.id,
            datetime.now(UTC) - timedelta(minutes=1),
        )
    later = await petitions.get_petition(db, later.id, signer)
    assert not later.is_open
    before = await snapshot(db)
    with pytest.raises(Conflict):
        await petitions.sign(db, config, later, signer, public=True)
    assert await snapshot(db) == before


async def test_status_change_keeps_history_and_is_federated(db: Pool, config: Config) -> None:
    owner, _group, petition = await published(db, config)

    updated = await petitions.change_status(
        db, petition, owner, status="delivered", note="Remise au maire le 3 décembre"
    )

    assert (updated.status, updated.status_note) == ("delivered", "Remise au maire le 3 décembre")
    history = await petitions.list_status_changes(db, updated)
    assert [(h.status, h.note) for h in history] == [
        ("delivered", "Remise au maire le 3 décembre"),
        ("open", ""),
    ]
    assert [j["action"] for j in await jobs(db)] == ["create", "update"]


async def test_bad_status_change_is_refused_and_changes_nothing(db: Pool, config: Config) -> None:
    owner, group, petition = await published(db, config)
    stranger = await make_account(db, config)
    await make_member(db, group, stranger)
    before = await snapshot(db)

    with pytest.raises(Invalid) as caught:
        await petitions.change_status(db, petition, owner, status="abandoned", note="")
    assert caught.value.fields == {"status": "Choose one of the options."}
    with pytest.raises(Forbidden):
        await petitions.change_status(db, petition, stranger, status="won", note="")

    assert await snapshot(db) == before


async def test_export_lists_private_signers_for_organizers_only(db: Pool, config: Config) -> None:
    owner, _group, petition = await published(db, config)
    shown = await make_account(db, config, "camille")
    hidden = await make_account(db, config, "dominique")
    await petitions.sign(db, config, petition, shown, public=True)
    await petitions.sign(db, config, petition, hidden, public=False)

    text = await petitions.export_signatures(db, config, petition, owner)

    lines = text.strip().splitlines()
    assert lines[0] == "name,address,public,signed_at"
    assert [line.split(",")[1:3] for line in lines[1:]] == [
        [f"@camille@{config.host}", "yes"],
        [f"@dominique@{config.host}", "no"],
    ]
    assert [s.name for s in await petitions.list_public_signatures(db, petition)] == ["camille"]
    with pytest.raises(Forbidden):
        await petitions.export_signatures(db, config, petition, shown)
