"""A members-only group of A with members on B and C: a reply from B's member reaches C's member
(relayed by the group, addressed to members alone) and A's members; a non-member's reply is
refused; a walk of the three instances finds none of the texts anywhere public."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.federation.instances import LiveInstance, Member, live_instances, wait_until
from tests.federation.leaks import addressed_outside, public_outbox_leaks, walk
from tests.federation.test_live import browser, follow_from_b, follow_state, unique
from tests.federation.test_live_members_only import copy_on, membership, remote_id


@pytest.fixture(scope="module")
def trio(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveInstance, LiveInstance, LiveInstance]]:
    with live_instances(tmp_path_factory.mktemp("relay"), 3) as (a, b, c):
        yield a, b, c


def let_in(a: LiveInstance, owner: Member, slug: str, other: LiveInstance) -> tuple[str, Member]:
    """Have a person of `other` ask to join A's group, and a moderator of A approve them."""
    name = unique("membre")
    other.create_user(name)
    person = browser(other, name)
    follow_from_b(other, person, a, slug)
    wait_until(lambda: follow_state(a, name, slug) == "pending")
    actor_id = remote_id(a, name, other.domain)
    response = owner.post_form(
        f"/groups/{slug}/members/{actor_id}/decide",
        {"decision": "approve"},
        page=f"/groups/{slug}/members",
    )
    assert response.status_code == 303, response.text
    wait_until(lambda: follow_state(other, name, slug) == "accepted")
    assert membership(a, slug, actor_id) == "active"
    return name, person


def reply(
    sender: LiveInstance, name: str, a: LiveInstance, slug: str, post_id: int, text: str
) -> dict[str, Any]:
    """Send a reply to the group, as a peer's member would; return the Create sent."""
    author = sender.actor_uri(name)
    group_uri = a.actor_uri(slug, "groups")
    note_id = f"{author}/notes/{secrets.token_hex(6)}"
    note = {
        "id": note_id, "type": "Note", "attributedTo": author, "content": f"<p>{text}</p>",
        "inReplyTo": f"{a.base_url}/posts/{post_id}", "to": [group_uri], "cc": [],
        "audience": group_uri,
    }  # fmt: skip
    create = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity", "type": "Create", "actor": author, "object": note,
        "to": [group_uri], "cc": [], "audience": group_uri,
    }  # fmt: skip
    assert sender.post_signed(name, f"{group_uri}/inbox", create).status_code == 202
    return create


def test_a_members_reply_reaches_members_on_a_third_instance_and_nothing_leaks(
    trio: tuple[LiveInstance, LiveInstance, LiveInstance],
) -> None:
    a, b, c = trio
    owner_name, slug = unique("alice"), unique("cercle")
    a.create_user(owner_name)
    a.create_group(slug, owner_name, join="approval", visibility="members")
    owner = browser(a, owner_name)
    bob, _bob_browser = let_in(a, owner, slug, b)
    carol, carol_browser = let_in(a, owner, slug, c)
    text = f"Je rechute en ce moment {secrets.token_hex(4)}"
    response = owner.post_form(
        f"/groups/{slug}/posts", {"content": text, "content_warning": ""}, page=f"/groups/{slug}"
    )
    assert response.status_code == 303, response.text
    post_id = int(a.sql("SELECT id FROM posts WHERE content = $1", text)[0]["id"])
    post_uri = f"{a.base_url}/posts/{post_id}"
    on_c = wait_until(lambda: copy_on(c, post_uri))
    wait_until(lambda: copy_on(b, post_uri))

    reply_text = f"Tu nes pas seule, on est là {secrets.token_hex(4)}"
    create = reply(b, bob, a, slug, post_id, reply_text)
    note_id = create["object"]["id"]

    # A keeps it and shows it to its members; C receives it from the group and shows it to
    # its member, in the thread of the group's post.
    wait_until(lambda: a.sql("SELECT 1 FROM posts WHERE uri = $1", note_id))
    assert reply_text in owner.get(f"/posts/{post_id}").text
    [kept] = wait_until(lambda: c.sql("SELECT group_id, in_reply_to_id FROM posts WHERE uri = $1",
                                      note_id))  # fmt: skip
    assert (kept["group_id"], kept["in_reply_to_id"]) == (on_c["group_id"], on_c["id"])
    assert reply_text in carol_browser.get(f"/posts/{on_c['id']}").text
    # The relay went to C's member alone, never listed, never to the author's server again.
    [relay] = wait_until(lambda: a.sql(
        "SELECT public, delivered, payload::text AS body FROM outbox_activities"
        " WHERE type = 'Announce' AND payload::text LIKE $1 AND delivered > 0", f"%{note_id}%",
    ))  # fmt: skip
    carol_uri = c.actor_uri(carol)
    announce = json.loads(relay["body"])
    assert relay["public"] is False and relay["delivered"] == 1
    assert (announce["to"], announce["cc"]) == ([carol_uri], [])
    assert (announce["object"]["to"], announce["object"]["cc"]) == ([carol_uri], [])
    assert b.sql("SELECT 1 FROM inbox_activities WHERE payload::text LIKE $1"
                 " AND type = 'Announce'", f"%{note_id}%") == []  # fmt: skip

    # A stranger of C (no member) answers too: refused at A, and C never gets it.
    stranger = unique("dave")
    c.create_user(stranger)
    refused = reply(c, stranger, a, slug, post_id, f"Je ne suis pas membre {secrets.token_hex(4)}")
    [row] = wait_until(
        lambda: a.sql("SELECT outcome FROM inbox_activities WHERE activity_id = $1"
                      " AND outcome IS NOT NULL", refused["id"])
    )  # fmt: skip
    assert row["outcome"] == "not for us"
    assert a.sql("SELECT 1 FROM posts WHERE uri = $1", refused["object"]["id"]) == []

    tokens = [text.rsplit(" ", 1)[1], reply_text.rsplit(" ", 1)[1]]
    terms = ["rechute", "seule"]
    assert walk(a, tokens, terms) + walk(b, tokens, terms) + walk(c, tokens, terms) == []
    assert [leak for i in (a, b, c) for leak in public_outbox_leaks(i, tokens)] == []
    members = {b.actor_uri(bob), carol_uri}
    assert addressed_outside(a, tokens, members) == []
