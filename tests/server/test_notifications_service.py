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
from server.models import Account, RemoteActorData, RemoteNote
from server.services import (
    board,
    events,
    follows,
    groups,
    inbound,
    moderation,
    notifications,
    participation,
    petitions,
    posts,
)
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


async def test_a_matching_need_tells_the_author_of_the_offer_in_its_own_transaction(
    db: Pool, config: Config
) -> None:
    ana, bea, cam = await make_accounts(db, config, "ana", "bea", "cam")
    group = await make_group(db, config, ana)
    for person in (bea, cam):
        await make_member(db, group, person)
    until = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    item = {"category": "transport", "details": "", "valid_until": until}
    offer = await board.create_item(
        db, config, group, bea, kind="offer", title="Voiture le mardi", area="Belleville", **item
    )
    await board.create_item(  # another category: no match
        db, config, group, cam, kind="offer", title="Soupe", area="", **{**item, "category": "food"}
    )

    need = await board.create_item(
        db, config, group, ana, kind="need", title="Trajet à l'hôpital", area="belleville", **item
    )

    assert await texts(db, bea) == ["ana posted “Trajet à l'hôpital”, which matches yours"]
    assert await texts(db, bea, "fr") == [
        "ana a publié «\u00a0Trajet à l'hôpital\u00a0», qui correspond au vôtre"
    ]
    [told] = await notifications.list_notifications(db, bea, "en")
    assert told.link == f"/board/{need.id}"
    assert await texts(db, cam) == [] and await texts(db, ana) == []
    assert offer.id != need.id
    assert await mailed(db) == [told.id]  # by e-mail at once unless chosen otherwise

    # A need that fails to be written tells nobody.
    before = await snapshot(db)
    with pytest.raises(Invalid):
        await board.create_item(db, config, group, cam, kind="need", title="", area="", **item)
    assert await snapshot(db) == before


async def test_a_report_tells_the_group_moderators_and_the_admins_never_the_reporter(
    db: Pool, config: Config
) -> None:
    admin = await make_account(db, config, "alix", is_admin=True)
    ana, bea, cam = await make_accounts(db, config, "ana", "bea", "cam")
    group = await make_group(db, config, ana)
    for person in (bea, cam):
        await make_member(db, group, person)
    post = await make_post(db, config, group, cam, "Des propos blessants")

    await moderation.report(db, bea, post_id=post.id, reason="Blessant")

    assert await texts(db, ana) == ["A report about @cam awaits moderation"]
    assert await texts(db, admin, "fr") == ["Un signalement concernant @cam attend la modération"]
    [to_moderator] = await notifications.list_notifications(db, ana, "en")
    [to_admin] = await notifications.list_notifications(db, admin, "en")
    assert to_moderator.link == f"/groups/{group.slug}/moderation"
    assert to_admin.link == "/admin/moderation"
    assert await texts(db, bea) == [] and await texts(db, cam) == []
    assert set(await mailed(db)) == {to_moderator.id, to_admin.id}


async def test_a_flag_from_another_server_tells_the_moderators_once(
    db: Pool, config: Config
) -> None:
    ana, bea = await make_accounts(db, config, "ana", "bea")
    group = await make_group(db, config, ana)
    await make_member(db, group, bea)
    post = await make_post(db, config, group, bea, "Un message")
    sender = await inbound.store_remote_actor(
        db,
        RemoteActorData(
            uri="https://ailleurs.example/actor", name="ailleurs.example",
            domain="ailleurs.example", kind="application", display_name="", summary_html="",
            avatar=None, url=None, inbox="https://ailleurs.example/inbox", shared_inbox=None,
            outbox=None, followers_uri=None, key_id="https://ailleurs.example/actor#main-key",
            public_key_pem="", manually_approves=False,
        ),
    )  # fmt: skip
    flag = "https://ailleurs.example/flags/1"

    await moderation.receive_flag(db, sender, flag, "Spam", [bea.id], [post.id])
    await moderation.receive_flag(db, sender, flag, "Spam", [bea.id], [post.id])  # replayed

    assert await texts(db, ana) == ["A report about @bea awaits moderation"]


def remote_person_data(name: str, domain: str) -> RemoteActorData:
    return RemoteActorData(
        uri=f"https://{domain}/users/{name}", name=name, domain=domain, kind="person",
        display_name=name, summary_html="", avatar=None, url=None,
        inbox=f"https://{domain}/users/{name}/inbox", shared_inbox=None, outbox=None,
        followers_uri=None, key_id=f"https://{domain}/users/{name}#main-key",
        public_key_pem="", manually_approves=False,
    )  # fmt: skip


def mentioning(uri: str, *people: int, public: bool = True) -> RemoteNote:
    return RemoteNote(
        uri=uri, url=None, content_html="<p>@bea tu as vu ?</p>", content_warning="",
        in_reply_to_id=None, in_reply_to_uri=None, addressed_group_ids=(), public=public,
        mentioned_person_ids=people,
    )  # fmt: skip


async def test_a_remote_mention_notifies_the_person_named_though_nobody_follows_its_author(
    db: Pool, config: Config
) -> None:
    admin = await make_account(db, config, "alix", is_admin=True)
    bea, cam = await make_accounts(db, config, "bea", "cam")
    zoe = await inbound.store_remote_actor(db, remote_person_data("zoe", "ailleurs.example"))

    post_id = await inbound.receive_note(
        db, zoe, mentioning("https://ailleurs.example/n/1", bea.id)
    )

    assert post_id is not None  # kept, for the person it names, though nobody follows zoe
    assert await texts(db, bea) == ["zoe mentioned you"]
    [told] = await notifications.list_notifications(db, bea, "en")
    assert told.link == f"/posts/{post_id}"
    assert await texts(db, cam) == []
    # Not public, and not addressed to her: no one is told, nothing is kept.
    before = await snapshot(db)
    note = mentioning("https://ailleurs.example/n/2", bea.id, public=False)
    assert await inbound.receive_note(db, zoe, note) is None
    assert await snapshot(db) == before

    # From a blocked person, or a blocked server: nothing is kept, no one is told.
    mallory = await inbound.store_remote_actor(db, remote_person_data("mallory", "pire.example"))
    await moderation.block_remote_actor(db, admin, "@zoe@ailleurs.example")
    await moderation.block_domain(db, admin, "pire.example")
    before = await snapshot(db)
    for author, uri in (
        (zoe, "https://ailleurs.example/n/3"),
        (mallory, "https://pire.example/n/1"),
    ):
        assert await inbound.receive_note(db, author, mentioning(uri, bea.id)) is None
    assert await snapshot(db) == before
    assert await texts(db, bea) == ["zoe mentioned you"]
