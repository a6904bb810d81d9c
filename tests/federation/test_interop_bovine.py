"""Interoperability with bovine, an ActivityPub implementation written by others (PyPI `bovine`).

A bovine peer (tests/federation/bovine_peer.py) finds a group by WebFinger, follows it, receives
its Accept and Announces, and replies; bovine signs every request it sends and checks the
signatures of every request our live instance sends it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bovine.crypto import generate_rsa_public_private_key

from tests.federation.bovine_peer import BovinePeer, Received, bovine_peer
from tests.federation.instances import LiveInstance, live_instances, wait_until

POST_TEXT = "Who can drive Mrs Martin to the clinic on Tuesday?"
REPLY_HTML = "<p>I can, I have a car that morning.</p>"


def _setup(entraide: LiveInstance) -> str:
    """Give the instance alice and her open group; return the group's id."""
    entraide.create_user("alice")
    entraide.create_group("voisins", "alice")
    return f"{entraide.base_url}/groups/voisins"


def _alice_posts(entraide: LiveInstance) -> None:
    alice = entraide.browser("alice")
    response = alice.post_form(
        "/groups/voisins/posts",
        {"content": POST_TEXT, "content_warning": ""},
        page="/groups/voisins",
    )
    assert response.status_code == 303, response.text


def _reply_to(peer: BovinePeer, note: dict[str, Any], content: str) -> dict[str, Any]:
    """Build the peer's Create of a reply to `note` with bovine's factories, and serve both."""
    reply = peer.object_factory.reply(note, content=content).build()
    create = peer.activity_factory.create(reply).build()
    peer.publish(reply, create)
    return create


def _announces_of(peer: BovinePeer, object_id: str) -> list[Received]:
    return [
        a for a in peer.arrivals("Announce") if a.activity and a.activity["object"] == object_id
    ]


def test_bovine_peer_follows_group_gets_its_announces_and_replies(
    pg_server: Any, tmp_path: Path
) -> None:
    with live_instances(tmp_path, count=1) as (entraide,), bovine_peer() as peer:
        group_uri = _setup(entraide)

        # bovine's WebFinger lookup, told the scheme: it would otherwise ask https://.
        found = peer.run(peer.webfinger(f"voisins@{entraide.domain}", entraide.base_url))
        assert found == group_uri
        group = peer.run(peer.get(group_uri))
        assert group["type"] == "Group"
        assert group["publicKey"]["owner"] == group_uri

        follow = peer.activity_factory.follow(group_uri).build()
        peer.publish(follow)
        assert peer.run(peer.post(group["inbox"], follow)) == 202

        (accept,) = wait_until(lambda: peer.arrivals("Accept"))
        assert accept.signer == group_uri  # bovine's checker verified the group's signature
        assert accept.activity is not None
        accepted = accept.activity["object"]
        assert (accepted["id"] if isinstance(accepted, dict) else accepted) == follow["id"]
        wait_until(lambda: entraide.sql("SELECT 1 FROM follows WHERE state = 'accepted'"))

        _alice_posts(entraide)
        (announce,) = wait_until(lambda: peer.arrivals("Announce"))
        assert announce.signer == group_uri
        assert announce.activity is not None
        assert announce.activity["actor"] == group_uri
        post_uri = announce.activity["object"]
        assert isinstance(post_uri, str)
        assert post_uri.startswith(f"{entraide.base_url}/posts/")

        note = peer.run(peer.get(post_uri))
        assert note["type"] == "Note"
        assert note["id"] == post_uri
        assert note["attributedTo"] == f"{entraide.base_url}/users/alice"
        assert note["audience"] == group_uri
        assert POST_TEXT in note["content"]

        create = _reply_to(peer, note, REPLY_HTML)
        reply = create["object"]
        assert reply["inReplyTo"] == post_uri
        assert group_uri in reply["to"] + reply["cc"]
        assert peer.run(peer.post(group["inbox"], create)) == 202

        post_page = post_uri.removeprefix(entraide.base_url)
        visitor = entraide.browser()
        wait_until(lambda: REPLY_HTML in visitor.get(post_page).text)
        (relayed,) = wait_until(lambda: _announces_of(peer, reply["id"]))
        assert relayed.signer == group_uri
        assert relayed.activity is not None
        assert relayed.activity["actor"] == group_uri
        assert relayed.activity["id"] != announce.activity["id"]

        # Every delivery, and every signed fetch of the peer's actor, passed bovine's checker.
        posts = [r for r in peer.received if r.method == "POST"]
        assert len(posts) == 3
        assert all(r.signer is not None for r in posts)
        fetches = peer.signed_fetches()
        assert fetches
        assert all(r.signer == f"{entraide.base_url}/actor" for r in fetches)


def test_reply_signed_with_another_key_is_refused_and_not_stored(
    pg_server: Any, tmp_path: Path
) -> None:
    with live_instances(tmp_path, count=1) as (entraide,), bovine_peer() as peer:
        group_uri = _setup(entraide)
        _alice_posts(entraide)
        (row,) = entraide.sql("SELECT id FROM posts")
        post_uri = f"{entraide.base_url}/posts/{row['id']}"
        note = peer.run(peer.get(post_uri))
        group = peer.run(peer.get(group_uri))
        _, wrong_key = generate_rsa_public_private_key()  # not the key the actor publishes

        forged = _reply_to(peer, note, REPLY_HTML)
        assert peer.run(peer.post(group["inbox"], forged, private_key=wrong_key)) == 401
        # The same reply, signed with the peer's own key, is taken: the 401 was the key's doing.
        genuine = _reply_to(peer, note, REPLY_HTML)
        assert peer.run(peer.post(group["inbox"], genuine)) == 202

        wait_until(
            lambda: entraide.sql("SELECT 1 FROM posts WHERE uri = $1", genuine["object"]["id"])
        )
        stored = entraide.sql("SELECT activity_id FROM inbox_activities")
        assert [r["activity_id"] for r in stored] == [genuine["id"]]
        assert not entraide.sql("SELECT 1 FROM posts WHERE uri = $1", forged["object"]["id"])
