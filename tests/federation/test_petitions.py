"""Petitions across instances: A's group publishes one; a member of B signs on B; a Mastodon
user (a fake peer) votes; the count agrees everywhere. Hostile votes change nothing.

The Mastodon vote has the shape Mastodon sends (mastodon/documentation,
content/en/spec/activitypub.md §Polls, the vote `Create` blocks; app/services/vote_service.rb):
a `Create` of a `Note` with `name` and `inReplyTo`, no `content`, `to` the poll's author as a
string, ids that are fragments of the voter's id, POSTed to the author's own inbox.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.federation.instances import LiveInstance, Member, live_instances, wait_until
from tests.federation.remote import FakeActor, FakePeer, fake_peers, wait_processed, wait_quiet
from tests.federation.test_live import Followed, browser, followed_group, publish

OPTION = "Je signe"  # the instances speak French by default (ENTRAIDE_LANGUAGE)
PETITION = {
    "title": "Rouvrez la halte de nuit",
    "addressee": "Préfecture du Rhône",
    "body": "Nous demandons un local chauffé.",
    "goal": "10",
    "deadline": "",
}


@dataclass
class World:
    a: LiveInstance
    b: LiveInstance
    peer: FakePeer
    bob: FakeActor  # a Mastodon user
    mallory: FakeActor
    client: httpx.Client

    def vote(self, actor: FakeActor, in_reply_to: str, name: str, **extra: Any) -> dict[str, Any]:
        """Return a vote as Mastodon shapes it (VoteSerializer), with fresh ids."""
        vote_id = f"{actor.uri}#votes/{secrets.randbelow(10**6)}"
        author = in_reply_to.rsplit("/petitions/", 1)[0]
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{vote_id}/activity",
            "to": author,
            "actor": actor.uri,
            "type": "Create",
            "object": {
                "id": vote_id,
                "type": "Note",
                "name": name,
                "attributedTo": actor.uri,
                "to": author,
                "inReplyTo": in_reply_to,
                **extra,
            },
        }

    def send(self, actor: FakeActor, activity: dict[str, Any], inbox: str) -> httpx.Response:
        body = json.dumps(activity).encode()
        return self.client.post(inbox, content=body, headers=actor.sign(inbox, body))


@pytest.fixture(scope="module")
def world(pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with (
        fake_peers("127.0.0.41") as (peer,),
        live_instances(tmp_path_factory.mktemp("petitions"), 2) as (a, b),
        httpx.Client(timeout=15) as client,
    ):
        bob = peer.add_actor("/users/bob", "bob")
        mallory = peer.add_actor("/users/mallory", "mallory")
        yield World(a, b, peer, bob, mallory, client)


def publish_petition(a: LiveInstance, group: Followed, **form: str) -> int:
    response = group.owner.post_form(
        f"/groups/{group.slug}/petitions", {**PETITION, **form}, page=f"/groups/{group.slug}"
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def count_on_a(a: LiveInstance, petition_id: int) -> int:
    rows = a.sql(
        "SELECT count(*) AS n FROM petition_signatures WHERE petition_id = $1", petition_id
    )
    return int(rows[0]["n"])


def copy_on_b(b: LiveInstance, uri: str) -> dict[str, Any] | None:
    rows = b.sql(
        "SELECT id, remote_count, status, goal, addressee FROM petitions WHERE uri = $1", uri
    )
    return rows[0] if rows else None


def test_petition_signed_from_b_and_by_a_mastodon_vote_counts_the_same_everywhere(
    world: World,
) -> None:
    a, b = world.a, world.b
    group = followed_group(a, b)
    # Bob, on "Mastodon", follows the group too: he receives the Question and its Updates.
    group_uri = a.actor_uri(group.slug, "groups")
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{world.bob.uri}#follows/{secrets.token_hex(4)}",
        "type": "Follow",
        "actor": world.bob.uri,
        "object": group_uri,
    }
    assert world.send(world.bob, follow, f"{group_uri}/inbox").status_code == 202
    wait_until(lambda: a.sql("SELECT 1 FROM follows WHERE uri = $1", follow["id"]))
    petition_id = publish_petition(a, group)
    uri = f"{a.base_url}/petitions/{petition_id}"

    # B keeps the whole petition: goal, addressee, status.
    on_b = wait_until(lambda: copy_on_b(b, uri))
    assert (on_b["goal"], on_b["addressee"], on_b["status"]) == (10, PETITION["addressee"], "open")
    # B's member signs with one action on B.
    signer = browser(b, group.follower_name)
    page = f"/petitions/{on_b['id']}"
    assert f'href="{page}"' in signer.get("/following").text  # listed among calls to action
    response = signer.post_form(f"{page}/sign", {"public": "yes"}, page=page)
    assert response.status_code == 303, response.text
    wait_until(lambda: count_on_a(a, petition_id) == 1)

    # Bob votes from Mastodon: a signature, kept private (he chose nothing).
    vote = world.vote(world.bob, uri, OPTION)
    assert world.send(world.bob, vote, f"{group_uri}/inbox").status_code == 202
    assert wait_processed(a.database_url, vote["id"]) == "signed"
    # His second vote changes nothing.
    again = world.vote(world.bob, uri, OPTION)
    assert world.send(world.bob, again, f"{a.base_url}/inbox").status_code == 202
    assert wait_processed(a.database_url, again["id"]) == "already signed"
    assert count_on_a(a, petition_id) == 2
    rows = a.sql(
        "SELECT a.name, s.public FROM petition_signatures s JOIN actors a ON a.id = s.actor_id"
        " WHERE s.petition_id = $1 ORDER BY a.name",
        petition_id,
    )
    assert [(r["name"], r["public"]) for r in rows] == [
        ("bob", False), (group.follower_name, True),
    ]  # fmt: skip

    # The count agrees on B, on A's page, and in the Question served to Mastodon.
    wait_until(lambda: (copy_on_b(b, uri) or {}).get("remote_count") == 2, timeout=40)
    question = a.ap_get(uri).json()
    assert question["votersCount"] == 2
    assert question["oneOf"] == [
        {"type": "Note", "name": OPTION, "replies": {"type": "Collection", "totalItems": 2}}
    ]
    b_page = signer.get(page).text
    assert 'value="2"' in b_page and "You signed this petition." in b_page
    # Bob's server received the Announce of the Question and an Update with the new count.
    wait_quiet(a.database_url)
    bodies = [json.loads(r.body) for r in world.peer.requests_to("/inbox", "POST")]
    announces = [x for x in bodies if x["type"] == "Announce" and x["object"] == uri]
    updates = [x for x in bodies if x["type"] == "Update" and x["object"]["id"] == uri]
    assert len(announces) == 1
    assert updates and updates[-1]["object"]["votersCount"] == 2
    assert "Question" in updates[-1]["object"]["type"]

    # The signer withdraws on B: A forgets the signature, B's count follows.
    response = signer.post_form(f"{page}/withdraw", {}, page=page)
    assert response.status_code == 303
    wait_until(lambda: count_on_a(a, petition_id) == 1)
    wait_until(lambda: (copy_on_b(b, uri) or {}).get("remote_count") == 1, timeout=40)


# Hostile votes: each is answered, and changes nothing but its own inbox row.

SNAPSHOT = (
    "SELECT petition_id, actor_id, public, uri FROM petition_signatures ORDER BY 1, 2",
    "SELECT id, status, remote_count, count_update_due FROM petitions ORDER BY id",
    "SELECT id, uri, content_html FROM posts ORDER BY id",
    "SELECT id, kind, payload::text FROM jobs ORDER BY id",
)


def snapshot(instance: LiveInstance) -> list[list[dict[str, Any]]]:
    wait_quiet(instance.database_url)
    return [instance.sql(query) for query in SNAPSHOT]


@pytest.fixture(scope="module")
def target(world: World) -> tuple[str, str, Member]:
    """An open petition of a group of A (its id and its group's inbox), and its organizer."""
    group = followed_group(world.a, world.b)
    petition_id = publish_petition(world.a, group)
    wait_quiet(world.a.database_url)
    uri = f"{world.a.base_url}/petitions/{petition_id}"
    return uri, f"{world.a.actor_uri(group.slug, 'groups')}/inbox", group.owner


def refused(world: World, actor: FakeActor, activity: dict[str, Any], inbox: str) -> str:
    before = snapshot(world.a)
    assert world.send(actor, activity, inbox).status_code == 202
    outcome = wait_processed(world.a.database_url, activity["id"])
    assert snapshot(world.a) == before
    return outcome


def test_vote_for_an_option_that_does_not_exist_changes_nothing(
    world: World, target: tuple[str, str, Member]
) -> None:
    uri, inbox, _ = target
    outcome = refused(world, world.mallory, world.vote(world.mallory, uri, "Non"), inbox)
    assert outcome == "refused: This petition has no such option."


def test_second_vote_by_the_same_actor_changes_nothing(
    world: World, target: tuple[str, str, Member]
) -> None:
    uri, inbox, _ = target
    first = world.vote(world.mallory, uri, OPTION)
    assert world.send(world.mallory, first, inbox).status_code == 202
    assert wait_processed(world.a.database_url, first["id"]) in ("signed", "already signed")
    assert refused(world, world.mallory, world.vote(world.mallory, uri, OPTION), inbox) == (
        "already signed"
    )


def test_vote_whose_in_reply_to_is_a_plain_post_changes_nothing(world: World) -> None:
    group = followed_group(world.a, world.b)
    post_uri = f"{world.a.base_url}/posts/{publish(world.a, group, 'Soupe samedi')}"
    inbox = f"{world.a.actor_uri(group.slug, 'groups')}/inbox"
    outcome = refused(world, world.mallory, world.vote(world.mallory, post_uri, OPTION), inbox)
    assert outcome == "refused: the vote answers no petition"


def test_vote_on_a_closed_petition_changes_nothing(world: World) -> None:
    group = followed_group(world.a, world.b)
    petition_id = publish_petition(world.a, group)
    page = f"/petitions/{petition_id}"
    response = group.owner.post_form(f"{page}/status", {"status": "closed", "note": ""}, page=page)
    assert response.status_code == 303
    uri = f"{world.a.base_url}{page}"
    inbox = f"{world.a.actor_uri(group.slug, 'groups')}/inbox"
    outcome = refused(world, world.bob, world.vote(world.bob, uri, OPTION), inbox)
    assert outcome == "refused: This petition is closed."


def test_vote_after_the_deadline_changes_nothing(world: World) -> None:
    group = followed_group(world.a, world.b)
    petition_id = publish_petition(world.a, group, deadline="2099-01-01T12:00")
    world.a.sql(
        "UPDATE petitions SET deadline = now() - interval '1 minute' WHERE id = $1", petition_id
    )
    uri = f"{world.a.base_url}/petitions/{petition_id}"
    inbox = f"{world.a.actor_uri(group.slug, 'groups')}/inbox"
    outcome = refused(world, world.bob, world.vote(world.bob, uri, OPTION), inbox)
    assert outcome == "refused: This petition is closed."


def test_forged_or_unsigned_vote_is_refused_at_the_door(
    world: World, target: tuple[str, str, Member]
) -> None:
    uri, inbox, _ = target
    before = snapshot(world.a)
    forged = world.vote(world.bob, uri, OPTION)
    body = json.dumps(forged).encode()
    # Mallory signs Bob's vote with her own key; then nobody signs it at all.
    assert (
        world.client.post(inbox, content=body, headers=world.mallory.sign(inbox, body)).status_code
        == 401
    )
    unsigned = {"Content-Type": "application/activity+json"}
    assert world.client.post(inbox, content=body, headers=unsigned).status_code == 401
    assert snapshot(world.a) == before
    assert not world.a.sql("SELECT 1 FROM inbox_activities WHERE activity_id = $1", forged["id"])
