"""Notifications: each kind written by the service that causes it, in its transaction; grouping,
reading, preferences, and the e-mail job of those who want a kind at once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from server.config import Config
from server.db import Pool
from server.errors import Invalid, NotFound
from server.models import Account
from server.services import events, follows, groups, notifications, participation, petitions, posts
from server.storage.notifications import SEND_NOTIFICATION_EMAIL
from tests.factories import (
    event_form,
    make_account,
    make_accounts,
    make_event,
    make_group,
    make_member,
    make_post,
    snapshot,
)


async def texts(db: Pool, account: Account, language: str = "en") -> list[str]:
    return [n.text for n in await notifications.list_notifications(db, account, language)]


async def mailed(db: Pool) -> list[int]:
    async with db.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload FROM jobs WHERE kind = $1 ORDER BY id", SEND_NOTIFICATION_EMAIL
        )
    return [int(json.loads(r["payload"])["notification_id"]) for r in rows]


async def test_a_reply_and_a_mention_notify_the_author_and_the_person_named(
    db: Pool, config: Config
) -> None:
    ana, bea, cam = await make_accounts(db, config, "ana", "bea", "cam")
    group = await make_group(db, config, ana)
    await make_member(db, group, bea)
    post = await make_post(db, config, group, ana, "Qui vient samedi ?")

    await make_post(db, config, group, bea, "Moi, et @cam aussi !", in_reply_to_id=post.id)

    assert await texts(db, ana) == ["bea replied to your post"]
    assert await texts(db, cam, "fr") == ["bea vous a mentionné·e"]
    assert await texts(db, bea) == []  # nobody is told of their own doing


async def test_likes_of_one_post_are_grouped_until_read(db: Pool, config: Config) -> None:
    ana, *others = await make_accounts(db, config, "ana", "bea", "cam", "dan", "eve", "fay")
    group = await make_group(db, config, ana)
    post = await make_post(db, config, group, ana, "Merci à toutes et tous")
    for person in others:
        await make_member(db, group, person)
        await posts.toggle_like(db, config, post, person)

    assert await texts(db, ana) == ["5 people liked your post"]
    assert await texts(db, ana, "fr") == ["5 personnes ont aimé votre publication"]
    assert await notifications.count_unread(db, ana) == 1

    await notifications.mark_read(db, ana)
    liker = await make_account(db, config, "gil")
    await make_member(db, group, liker)
    await posts.toggle_like(db, config, post, liker)
    assert await texts(db, ana) == ["gil liked your post", "5 people liked your post"]
    assert await notifications.count_unread(db, ana) == 1


async def test_a_request_to_join_tells_moderators_and_the_decision_tells_the_person(
    db: Pool, config: Config
) -> None:
    ana, bea = await make_accounts(db, config, "ana", "bea")
    group = await make_group(db, config, ana, "voisins", name="Voisins", join_policy="approval")

    await groups.join_group(db, group, bea)
    assert await texts(db, ana) == ["bea asks to join Voisins"]
    (request,) = await notifications.list_notifications(db, ana, "en")
    assert request.link == "/groups/voisins/members"
    # Moderators are told of requests by e-mail unless they choose otherwise.
    assert await mailed(db) == [request.id]

    await groups.decide_request(db, group, ana, bea.id, approve=True)
    assert await texts(db, bea, "fr") == ["Votre demande pour rejoindre Voisins a été acceptée"]


async def test_a_failed_remote_follow_is_told_in_plain_words(db: Pool, config: Config) -> None:
    ana = await make_account(db, config, "ana")

    await follows.record_failed_lookup(db, ana.id, "@nobody@example.net", "not_found")

    (item,) = await notifications.list_notifications(db, ana, "en")
    assert item.text == "Could not follow @nobody@example.net: that server has no such account"
    assert item.link == "/following"


async def test_participants_hear_of_changes_cancellation_and_a_freed_place(
    db: Pool, config: Config
) -> None:
    ana, bea, cam = await make_accounts(db, config, "ana", "bea", "cam")
    group = await make_group(db, config, ana)
    for person in (bea, cam):
        await make_member(db, group, person)
    event = await make_event(db, group, ana, title="Repas", capacity="1")
    await participation.join_event(db, config, event, bea)
    await participation.join_event(db, config, event, cam)  # waits for a place

    await participation.leave_event(db, event, bea)
    assert await texts(db, cam) == ["A place freed up for you: Repas"]

    event = await events.update_event(db, event, ana, event_form(title="Repas", capacity="1"))
    await events.cancel_event(db, event, ana)
    assert await texts(db, cam) == [
        "Repas is cancelled",
        "Repas was changed",
        "A place freed up for you: Repas",
    ]
    assert await texts(db, ana) == []  # the organizer made the changes


async def test_participants_are_reminded_the_day_before_once(db: Pool, config: Config) -> None:
    ana, bea = await make_accounts(db, config, "ana", "bea")
    group = await make_group(db, config, ana)
    await make_member(db, group, bea)
    start = datetime.now(UTC) + timedelta(hours=20)
    end = start + timedelta(hours=1)
    soon = await make_event(db, group, ana, title="Soon", timezone="UTC",
                            start_date=start.date().isoformat(), start_time=f"{start:%H:%M}",
                            end_date=end.date().isoformat(), end_time=f"{end:%H:%M}")  # fmt: skip
    later = await make_event(db, group, ana, title="Later")
    for event in (soon, later):
        await participation.join_event(db, config, event, bea)

    assert await notifications.send_event_reminders(db) == 1
    assert await notifications.send_event_reminders(db) == 0
    assert await texts(db, bea) == ["Soon is tomorrow"]


async def test_organizers_are_told_when_a_petition_reaches_its_goal(
    db: Pool, config: Config
) -> None:
    ana, bea, cam = await make_accounts(db, config, "ana", "bea", "cam")
    group = await make_group(db, config, ana)
    petition = await petitions.create_petition(
        db, config, group, ana, title="Un abri", body="Pour le parc.", addressee="Mairie", goal="2"
    )
    await petitions.sign(db, config, petition, bea, public=True)
    assert await texts(db, ana) == []
    await petitions.sign(db, config, petition, cam, public=True)
    assert await texts(db, ana) == ["The petition “Un abri” reached its goal"]


async def test_a_sign_up_awaiting_approval_tells_the_admins(db: Pool, config: Config) -> None:
    admin = await make_account(db, config, "alix", is_admin=True)
    approving = replace(config, registrations="approval")

    await make_account(db, approving, "newcomer", by_operator=False)

    assert await texts(db, admin) == ["newcomer signed up and awaits approval"]


async def test_preferences_change_the_delivery_and_bad_values_change_nothing(
    db: Pool, config: Config
) -> None:
    ana, bea = await make_accounts(db, config, "ana", "bea")
    await notifications.save_preferences(db, ana, {"join_request": "app", "like": "email"})
    chosen = {p.kind: p.delivery for p in await notifications.list_preferences(db, ana, "en")}
    assert (chosen["join_request"], chosen["like"], chosen["reply"]) == ("app", "email", "digest")

    before = await snapshot(db)
    with pytest.raises(Invalid):
        await notifications.save_preferences(db, ana, {"like": "sms"})
    with pytest.raises(NotFound):
        await notifications.mark_read(db, ana, "1; DROP TABLE notifications")
    assert await snapshot(db) == before
    # Another person's notification cannot be marked read.
    group = await make_group(db, config, bea, join_policy="approval")
    await groups.join_group(db, group, ana)
    (theirs,) = await notifications.list_notifications(db, bea, "en")
    before = await snapshot(db)
    assert await notifications.mark_read(db, ana, str(theirs.id)) == 0
    assert await snapshot(db) == before
    group2 = await make_group(db, config, ana, join_policy="approval")
    await groups.join_group(db, group2, bea)
    assert await mailed(db) == [theirs.id]  # ana chose the app only for requests
