"""Real payload shapes from Mastodon, Lemmy and Mobilizon, replayed through the real inbox.

The payloads live in tests/data/<software>/*.json, each with a `_source` note on where its shape
comes from. Their hosts are rewritten to fake peers on loopback (127.0.0.41-43), which serve the
actors with fresh keys and record what the instance sends back; the activities are signed as
those servers sign them (draft-cavage, Digest) and POSTed to a live instance, whose worker
processes them. Each test then checks what the instance kept, and what it answered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation.jsondoc import id_of
from federation.signatures import parse_request_signature, verify_signature
from server.config import load_config
from server.db import create_pool
from server.services import accounts, board, groups
from tests.federation.instances import LiveInstance, live_instances
from tests.federation.remote import (
    FakeActor,
    FakePeer,
    LocalGroup,
    fake_peers,
    seed_group,
    wait_for,
    wait_processed,
)

DATA = Path(__file__).resolve().parents[1] / "data"
SOFTWARE_HOSTS = {
    "mastodon": ("127.0.0.41", "https://mastodon.example"),
    "lemmy": ("127.0.0.42", "https://lemmy.example"),
    "mobilizon": ("127.0.0.43", "https://mobilizon.example"),
}
# The payloads name the group's first post /posts/1 and the group @voisins on entraide.example.
PAYLOAD_POST = "https://entraide.example/posts/1"
PAYLOAD_GROUP = "https://entraide.example/groups/voisins"
PAYLOAD_INSTANCE = "https://entraide.example"


@dataclass
class Peer:
    """A fake Mastodon, Lemmy or Mobilizon server and the actors on it."""

    software: str
    server: FakePeer
    actors: dict[str, FakeActor]
    rewrites: dict[str, str]

    @property
    def actor(self) -> FakeActor:
        return self.actors["person"]

    def payload(self, name: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
        """Load tests/data/<software>/<name>.json with its hosts rewritten to the fake peers."""
        text = (DATA / self.software / f"{name}.json").read_text()
        rewrites = {**self.rewrites, **(extra or {})}
        for old in sorted(rewrites, key=len, reverse=True):
            text = text.replace(old, rewrites[old])
        document: dict[str, Any] = json.loads(text)
        assert document.pop("_source")
        return document


@dataclass
class World:
    instance: LiveInstance
    client: httpx.Client
    group: LocalGroup
    peers: dict[str, Peer]

    def replay(
        self,
        software: str,
        name: str,
        inbox: str = "/inbox",
        *,
        signer: str = "person",
        rewrites: dict[str, str] | None = None,
    ) -> tuple[dict[str, Any], str]:
        """Sign and POST a payload as its server would; return it with the worker's outcome."""
        peer = self.peers[software]
        activity = peer.payload(name, rewrites)
        actor = peer.actors[signer]
        # Embedded copies of the sender's profile (Update) carry the key it really has.
        if isinstance(activity.get("object"), dict) and "publicKey" in activity["object"]:
            activity["object"]["publicKey"]["publicKeyPem"] = actor.public_key_pem
        body = json.dumps(activity).encode()
        url = self.instance.base_url + inbox
        response = self.client.post(url, content=body, headers=actor.sign(url, body))
        assert response.status_code == 202, response.text
        return activity, wait_processed(self.instance.database_url, activity["id"])

    def sql(self, query: str, *args: Any) -> list[dict[str, Any]]:
        return self.instance.sql(query, *args)

    def post_by_uri(self, uri: str) -> dict[str, Any] | None:
        rows = self.sql(
            """
            SELECT p.id, p.group_id, p.in_reply_to_id, p.content_html, p.deleted_at, p.url,
                   a.uri AS author_uri
            FROM posts p JOIN actors a ON a.id = p.author_id WHERE p.uri = $1
            """,
            uri,
        )
        return rows[0] if rows else None

    def follow_state(self, follower_uri: str) -> str | None:
        rows = self.sql(
            """
            SELECT f.state FROM follows f JOIN actors a ON a.id = f.follower_id
            WHERE a.uri = $1 AND f.target_id = $2
            """,
            follower_uri,
            self.group.id,
        )
        return rows[0]["state"] if rows else None

    def likes_of_group_post(self) -> list[str]:
        rows = self.sql("SELECT uri FROM likes WHERE post_id = $1", self.group.post_id)
        return [r["uri"] for r in rows]

    def received(self, software: str, type: str, object_id: str) -> list[Any]:
        """Return (request, activity) pairs the peer got of `type` about `object_id`."""
        found = []
        for request in self.peers[software].server.received:
            if request.method != "POST":
                continue
            activity = json.loads(request.body)
            if activity.get("type") == type and id_of(activity.get("object")) == object_id:
                found.append((request, activity))
        return found

    def assert_signed_by_group(self, request: Any) -> None:
        """The group signed what it sent, with the key its actor document publishes."""
        document = self.instance.ap_get(self.group.uri).json()
        parsed = parse_request_signature(
            request.method, request.path, request.headers, request.body, scheme="http"
        )
        assert parsed.key_id == document["publicKey"]["id"]
        verify_signature(parsed, document["publicKey"]["publicKeyPem"])


ACTORS = {
    # software: {role: (payload holding the actor document, its path on the server)}
    "mastodon": {"person": ("actor", "/users/camille"), "instance": ("instance_actor", "/actor")},
    "lemmy": {"person": ("person", "/u/dominique"), "community": ("group", "/c/jardins")},
    "mobilizon": {"person": ("person", "/@sacha")},
}
# Objects the servers serve at their ids, for the instance to fetch: (software, payload, path).
OBJECTS = [("lemmy", "page", "/post/7350")]


@pytest.fixture(scope="module")
def world(pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    hosts = [SOFTWARE_HOSTS[name][0] for name in ACTORS]
    with (
        live_instances(tmp_path_factory.mktemp("replay"), count=1) as (instance,),
        fake_peers(*hosts) as servers,
        httpx.Client(timeout=15) as client,
    ):
        group = seed_group(instance, "voisins", "Qui peut prêter une échelle samedi ?")
        peers = {}
        for (software, roles), server in zip(ACTORS.items(), servers, strict=True):
            rewrites = {
                SOFTWARE_HOSTS[software][1]: server.base,
                PAYLOAD_POST: group.post_url,
                PAYLOAD_GROUP: group.uri,
                PAYLOAD_INSTANCE: instance.base_url,
            }
            peer = Peer(software, server, {}, rewrites)
            for role, (document_name, path) in roles.items():
                # The actor document is itself a payload: served as is, with a fresh key.
                peer.actors[role] = server.add_actor(
                    path, "", document=peer.payload(document_name), pkcs1=software == "mobilizon"
                )
            peers[software] = peer
        for software, name, path in OBJECTS:
            peers[software].server.serve_json(path, peers[software].payload(name))
        yield World(instance, client, group, peers)


# --- Mastodon ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mastodon_follow(world: World) -> dict[str, Any]:
    # Mastodon sends a Follow to the personal inbox of the followed actor.
    follow, outcome = world.replay("mastodon", "follow", "/groups/voisins/inbox")
    assert outcome == "accepted"
    return follow


def test_mastodon_follow_of_a_group_is_accepted_and_answered(
    world: World, mastodon_follow: dict[str, Any]
) -> None:
    camille = world.peers["mastodon"].actor
    assert world.follow_state(camille.uri) == "accepted"
    request, accept = wait_for(lambda: world.received("mastodon", "Accept", mastodon_follow["id"]))[
        0
    ]
    # Mastodon wants the Accept at the follower's personal inbox, by the followed actor.
    assert request.path == "/users/camille/inbox"
    assert accept["actor"] == world.group.uri
    assert accept["object"]["actor"] == camille.uri
    assert accept["object"]["object"] == world.group.uri
    world.assert_signed_by_group(request)
    # The profile was read from the actor document Mastodon serves.
    actor = world.sql(
        "SELECT name, display_name, inbox, shared_inbox FROM actors WHERE uri = $1", camille.uri
    )[0]
    assert actor["name"] == "camille" and actor["display_name"] == "Camille"
    assert actor["shared_inbox"] == f"{world.peers['mastodon'].server.base}/inbox"


@pytest.fixture(scope="module")
def mastodon_reply(world: World, mastodon_follow: dict[str, Any]) -> dict[str, Any]:
    create, outcome = world.replay("mastodon", "create_note_reply")
    assert outcome.startswith("stored post"), outcome
    return dict(create["object"])


def test_mastodon_reply_to_a_group_post_joins_the_thread(
    world: World, mastodon_reply: dict[str, Any]
) -> None:
    post = world.post_by_uri(mastodon_reply["id"])
    assert post is not None
    assert post["group_id"] == world.group.id
    assert post["in_reply_to_id"] == world.group.post_id
    assert post["author_uri"] == world.peers["mastodon"].actor.uri
    assert post["url"] == mastodon_reply["url"]
    assert "passe la prendre samedi matin" in post["content_html"]
    assert 'class="u-url mention"' in post["content_html"]  # Mastodon's mention markup is kept
    # FEP-1b12: the group announces the reply to its followers, Camille's server among them.
    request, announce = wait_for(
        lambda: world.received("mastodon", "Announce", mastodon_reply["id"])
    )[0]
    assert announce["actor"] == world.group.uri
    world.assert_signed_by_group(request)


def test_mastodon_pictures_are_kept_with_their_descriptions_and_sensitive_flag(
    world: World, mastodon_follow: dict[str, Any]
) -> None:
    create, outcome = world.replay("mastodon", "create_note_pictures")
    assert outcome.startswith("stored post"), outcome

    rows = world.sql(
        "SELECT id, attachments, sensitive FROM posts WHERE uri = $1", create["object"]["id"]
    )

    attachments = json.loads(rows[0]["attachments"])
    assert [(a["media_type"], a["alt"]) for a in attachments] == [
        ("image/jpeg", "Un frigo ouvert, rempli de légumes et de pain."),
        ("image/png", "Horaires d'ouverture : tous les jours de 8 h à 20 h."),
    ]  # the video is left to its page
    assert attachments[0]["url"].startswith("https://files.mastodon.example/")
    assert rows[0]["sensitive"] is True
    page = world.client.get(f"{world.instance.base_url}/posts/{rows[0]['id']}").text
    hidden = page.split('<details class="sensitive">', 1)[1].split("</details>", 1)[0]
    assert 'alt="Un frigo ouvert, rempli de légumes et de pain."' in hidden


def test_mastodon_edit_of_a_reply_is_applied(world: World, mastodon_reply: dict[str, Any]) -> None:
    _update, outcome = world.replay("mastodon", "update_note")
    assert outcome.startswith("updated post"), outcome
    rows = world.sql(
        "SELECT content_html, content_warning, updated_at FROM posts WHERE uri = $1",
        mastodon_reply["id"],
    )
    assert "passe plutôt dimanche" in rows[0]["content_html"]
    assert "samedi matin" not in rows[0]["content_html"]
    assert rows[0]["content_warning"] == "échelle"  # Mastodon's content warning is `summary`
    assert rows[0]["updated_at"] is not None


def test_mastodon_like_then_undo_like(world: World) -> None:
    like, outcome = world.replay("mastodon", "like")
    assert outcome == "liked"
    assert world.likes_of_group_post() == [like["id"]]
    _undo, outcome = world.replay("mastodon", "undo_like")
    assert outcome == "unliked"
    assert world.likes_of_group_post() == []


def test_mastodon_delete_of_a_note_erases_it(world: World, mastodon_reply: dict[str, Any]) -> None:
    _delete, outcome = world.replay("mastodon", "delete_note")
    assert outcome.startswith("deleted post"), outcome
    post = world.post_by_uri(mastodon_reply["id"])
    assert post is not None and post["deleted_at"] is not None
    assert post["content_html"] == ""
    # The group's thread no longer shows it.
    page = world.client.get(world.group.post_url).text
    assert "passe la prendre samedi matin" not in page


def test_mastodon_flag_lands_in_the_report_queue(world: World) -> None:
    flag, outcome = world.replay("mastodon", "flag", signer="instance")
    assert outcome.startswith("report "), outcome
    [report] = world.sql(
        "SELECT origin_domain, post_id, reporter_id, reason, state FROM reports"
        " WHERE flag_uri = $1",
        flag["id"],
    )
    assert report["origin_domain"] == world.peers["mastodon"].server.base.split("://")[1]
    assert report["post_id"] == world.group.post_id and report["reporter_id"] is None
    assert report["reason"] == "Ce message vise une personne du groupe."
    assert report["state"] == "open"


def test_mastodon_update_person_refreshes_the_profile(
    world: World, mastodon_follow: dict[str, Any]
) -> None:
    camille = world.peers["mastodon"].actor
    _update, outcome = world.replay("mastodon", "update_person")
    assert outcome == "actor refreshed"
    actor = world.sql(
        "SELECT display_name, summary_html, avatar, public_key_pem FROM actors WHERE uri = $1",
        camille.uri,
    )[0]
    assert actor["display_name"] == "Camille 🌱"
    assert "vélo" in actor["summary_html"] and "<a " in actor["summary_html"]
    assert actor["avatar"].endswith("/original/7c2e9d1f.png")
    assert actor["public_key_pem"] == camille.public_key_pem  # still the key it signs with
    assert world.follow_state(camille.uri) == "accepted"


def post_need(world: World, title: str, answers: str = "private") -> str:
    """Post a need on the group's board as its owner, by the services; return its id."""

    async def run() -> int:
        pool = await create_pool(world.instance.database_url, min_size=1, max_size=2)
        try:
            config = load_config(world.instance.env)
            group = await groups.get_group_by_slug(pool, "voisins")
            owner = await accounts.get_account_by_username(pool, "owner")
            until = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
            item = await board.create_item(
                pool, config, group, owner, kind="need", category="transport", title=title,
                details="", area="Belleville", valid_until=until, answers=answers,
            )  # fmt: skip
            return item.id
        finally:
            await pool.close()

    return f"{world.instance.base_url}/board/{asyncio.run(run())}"


def answers_of(world: World, item_uri: str) -> list[dict[str, Any]]:
    return world.sql(
        "SELECT r.uri, r.public, r.content_html FROM board_answers r"
        " WHERE r.item_id = $1 ORDER BY r.id",
        int(item_uri.rsplit("/", 1)[1]),
    )


def test_mastodon_private_mention_answering_a_need_is_a_private_answer(
    world: World, mastodon_follow: dict[str, Any]
) -> None:
    item = post_need(world, "Trajet jusqu'à l'hôpital mardi")
    posts_before = world.sql("SELECT count(*) AS n FROM posts")[0]["n"]

    create, outcome = world.replay(
        "mastodon",
        "create_note_direct_mention",
        rewrites={"https://entraide.example/board/1": item},
    )

    assert outcome.startswith("answer "), outcome
    answers = answers_of(world, item)
    assert [(a["uri"], a["public"]) for a in answers] == [(create["object"]["id"], False)]
    assert "je peux vous emmener" in answers[0]["content_html"]
    # Never a group post, never relayed to the group's followers (Camille's server among them).
    assert world.sql("SELECT count(*) AS n FROM posts")[0]["n"] == posts_before
    assert world.received("mastodon", "Announce", create["object"]["id"]) == []
    # Nobody but the poster reads it: not on the item's public page.
    page = world.client.get(item, headers={"accept": "text/html"})
    assert page.status_code == 200 and "je peux vous emmener" not in page.text


def reply_as_poster(world: World, item_uri: str, answer_uri: str, content: str) -> None:
    """Reply to an answer as the item's poster (the group's owner), by the services."""

    async def run() -> None:
        pool = await create_pool(world.instance.database_url, min_size=1, max_size=2)
        try:
            owner = await accounts.get_account_by_username(pool, "owner")
            item = await board.get_item(pool, int(item_uri.rsplit("/", 1)[1]), owner)
            [answer] = [a for a in await board.list_answers(pool, item, owner)
                        if a.uri == answer_uri]  # fmt: skip
            await board.reply_to_answer(pool, item, owner, answer.id, content=content)
        finally:
            await pool.close()

    asyncio.run(run())


def replies_to(world: World, note_id: str) -> list[tuple[Any, dict[str, Any]]]:
    """Return the Creates Camille's server received that reply to one of her notes."""
    found = []
    for request in world.peers["mastodon"].server.received:
        if request.method == "POST":
            activity = json.loads(request.body)
            obj = activity.get("object")
            if (
                activity.get("type") == "Create"
                and isinstance(obj, dict)
                and (obj.get("inReplyTo") == note_id)
            ):
                found.append((request, activity))
    return found


def assert_signed_by_owner(world: World, request: Any) -> None:
    owner = world.instance.ap_get(f"{world.instance.base_url}/users/owner").json()
    parsed = parse_request_signature(
        request.method, request.path, request.headers, request.body, scheme="http"
    )
    assert parsed.key_id == owner["publicKey"]["id"]
    verify_signature(parsed, owner["publicKey"]["publicKeyPem"])


def test_posters_reply_to_a_private_mastodon_answer_goes_back_to_its_author_only(
    world: World, mastodon_follow: dict[str, Any]
) -> None:
    item = post_need(world, "Des cartons pour un déménagement")
    create, outcome = world.replay(
        "mastodon",
        "create_note_direct_mention",
        rewrites={"https://entraide.example/board/1": item,
                  "113512093441990001": "113512093441990004"},
    )  # fmt: skip
    assert outcome.startswith("answer "), outcome
    camille = world.peers["mastodon"].actor

    reply_as_poster(world, item, create["object"]["id"], "Merci ! Mardi à 8 h 30 ?")

    request, sent = wait_for(lambda: replies_to(world, create["object"]["id"]))[0]
    note = sent["object"]
    # A private mention of Camille alone, to her own inbox, as Mastodon sends one.
    assert request.path == "/users/camille/inbox"
    assert (sent["to"], sent["cc"]) == (note["to"], note["cc"]) == ([camille.uri], [])
    assert "https://www.w3.org/ns/activitystreams#Public" not in request.body.decode()
    assert {"type": "Mention", "href": camille.uri} == {
        k: v for k, v in note["tag"][0].items() if k != "name"
    }
    assert 'class="u-url mention"' in note["content"] and "Mardi à 8 h 30" in note["content"]
    assert note["attributedTo"] == sent["actor"] == f"{world.instance.base_url}/users/owner"
    assert_signed_by_owner(world, request)
    # Kept private here too: not on the item's public page, not in the outbox listing.
    page = world.client.get(item, headers={"accept": "text/html"})
    assert page.status_code == 200 and "Mardi à 8 h 30" not in page.text
    outbox = world.instance.ap_get(f"{world.instance.base_url}/users/owner/outbox?page=true")
    assert "Mardi à 8 h 30" not in outbox.text


def test_posters_reply_to_a_public_mastodon_answer_is_public_and_mentions_its_author(
    world: World, mastodon_follow: dict[str, Any]
) -> None:
    item = post_need(world, "Une perceuse pour l'après-midi", answers="public")
    public = "https://www.w3.org/ns/activitystreams#Public"
    create, outcome = world.replay(
        "mastodon",
        "create_note_direct_mention",
        rewrites={"https://entraide.example/board/1": item,
                  "https://entraide.example/groups/voisins/followers": public,
                  "113512093441990001": "113512093441990005"},
    )  # fmt: skip
    assert outcome.startswith("answer "), outcome
    assert [a["public"] for a in answers_of(world, item)] == [True]
    camille = world.peers["mastodon"].actor

    reply_as_poster(world, item, create["object"]["id"], "Parfait, je passe la prendre.")

    _request, sent = wait_for(lambda: replies_to(world, create["object"]["id"]))[0]
    note = sent["object"]
    assert (note["to"], note["cc"]) == ([public], [camille.uri])
    assert note["tag"][0]["href"] == camille.uri


def test_mastodon_answer_to_a_missing_or_closed_item_changes_nothing(
    world: World, mastodon_follow: dict[str, Any]
) -> None:
    item = post_need(world, "Un carton de livres")
    world.sql(
        "UPDATE board_items SET state = 'withdrawn' WHERE id = $1", int(item.rsplit("/", 1)[1])
    )
    for target, suffix in ((item, "2"), (f"{world.instance.base_url}/board/999999", "3")):
        before = world.sql("SELECT count(*) AS n FROM board_answers")[0]["n"]
        _create, outcome = world.replay(
            "mastodon",
            "create_note_direct_mention",
            rewrites={
                "https://entraide.example/board/1": target,
                "113512093441990001": f"11351209344199000{suffix}",
            },
        )
        assert outcome.startswith("refused"), outcome
        assert world.sql("SELECT count(*) AS n FROM board_answers")[0]["n"] == before


# --- Lemmy ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lemmy_follow(world: World) -> dict[str, Any]:
    # Lemmy sends community activities to the community's inbox.
    follow, outcome = world.replay("lemmy", "follow", "/groups/voisins/inbox")
    assert outcome == "accepted"
    return follow


def test_lemmy_follow_of_a_group_is_accepted_and_answered(
    world: World, lemmy_follow: dict[str, Any]
) -> None:
    dominique = world.peers["lemmy"].actor
    assert world.follow_state(dominique.uri) == "accepted"
    request, accept = wait_for(lambda: world.received("lemmy", "Accept", lemmy_follow["id"]))[0]
    assert request.path == "/u/dominique/inbox"
    assert accept["actor"] == world.group.uri
    world.assert_signed_by_group(request)


def test_lemmy_comment_with_audience_joins_the_thread(world: World) -> None:
    create, outcome = world.replay("lemmy", "create_note", "/groups/voisins/inbox")
    assert outcome.startswith("stored post"), outcome
    post = world.post_by_uri(create["object"]["id"])
    assert post is not None
    assert post["group_id"] == world.group.id
    assert post["in_reply_to_id"] == world.group.post_id
    assert "escabeau" in post["content_html"]


def test_lemmy_like_is_counted(world: World) -> None:
    like, outcome = world.replay("lemmy", "like", "/groups/voisins/inbox")
    assert outcome == "liked"
    assert like["id"] in world.likes_of_group_post()


def test_lemmy_post_of_a_follower_addressed_to_the_group_is_kept_there(
    world: World, lemmy_follow: dict[str, Any]
) -> None:
    create, outcome = world.replay("lemmy", "create_page", "/groups/voisins/inbox")
    assert outcome.startswith("stored post"), outcome
    post = world.post_by_uri(create["object"]["id"])
    assert post is not None
    assert post["group_id"] == world.group.id and post["in_reply_to_id"] is None
    assert "on répare ensemble" in post["content_html"]


def test_lemmy_community_followed_from_here_accepts_then_announces_its_posts(world: World) -> None:
    community = world.peers["lemmy"].actors["community"]
    owner = world.instance.browser("owner")
    response = owner.post_form("/following", {"handle": community.uri}, page="/following")
    assert response.status_code == 303
    # The instance resolves the community and sends it a Follow, signed by the member.
    request, follow = wait_for(lambda: world.received("lemmy", "Follow", community.uri))[0]
    assert request.path == "/c/jardins/inbox"
    assert follow["actor"] == f"{world.instance.base_url}/users/owner"
    placeholder = f"{world.instance.base_url}/users/owner/follows/FOLLOW-ID"
    _accept, outcome = world.replay(
        "lemmy",
        "accept",
        "/users/owner/inbox",
        signer="community",
        rewrites={"https://entraide.example/users/owner/follows/FOLLOW-ID": follow["id"]},
    )
    assert placeholder != follow["id"]
    assert outcome == "follow accepted"
    rows = world.sql(
        """
        SELECT f.state FROM follows f JOIN actors a ON a.id = f.target_id
        WHERE a.uri = $1 AND f.uri = $2
        """,
        community.uri,
        follow["id"],
    )
    assert rows == [{"state": "accepted"}]
    # Lemmy announces the whole Create; the instance fetches the Page from its origin.
    announce, outcome = world.replay("lemmy", "announce_create_page", "/inbox", signer="community")
    assert outcome.startswith("stored post"), outcome
    page_id = announce["object"]["object"]["id"]
    assert world.peers["lemmy"].server.hits("/post/7350") >= 1
    post = world.post_by_uri(page_id)
    assert post is not None
    assert post["group_id"] is None  # a followed community's post goes to the member's feed
    assert post["author_uri"] == world.peers["lemmy"].actor.uri
    assert "graines de tomates" in post["content_html"]
    via = world.sql(
        "SELECT a.uri FROM posts p JOIN actors a ON a.id = p.via_actor_id WHERE p.uri = $1", page_id
    )
    assert via == [{"uri": community.uri}]


# --- Mobilizon --------------------------------------------------------------------------------


def test_mobilizon_follow_of_a_group_is_accepted_and_answered(world: World) -> None:
    sacha = world.peers["mobilizon"].actor
    assert "BEGIN RSA PUBLIC KEY" in sacha.public_key_pem  # Mobilizon's PKCS#1 keys verify too
    follow, outcome = world.replay("mobilizon", "follow", "/groups/voisins/inbox")
    assert outcome == "accepted"
    assert world.follow_state(sacha.uri) == "accepted"
    request, accept = wait_for(lambda: world.received("mobilizon", "Accept", follow["id"]))[0]
    assert request.path == "/@sacha/inbox"
    assert accept["actor"] == world.group.uri
    world.assert_signed_by_group(request)


def test_mobilizon_comment_joins_the_thread(world: World) -> None:
    create, outcome = world.replay("mobilizon", "create_comment")
    assert outcome.startswith("stored post"), outcome
    post = world.post_by_uri(create["object"]["id"])
    assert post is not None
    assert post["group_id"] == world.group.id
    assert post["in_reply_to_id"] == world.group.post_id
    assert post["author_uri"] == world.peers["mobilizon"].actor.uri
    assert "Je peux aider à porter" in post["content_html"]
