"""A members-only group of A with a member on B: what reaches whom, and what never leaks.

The member on B asks to join by following the group; a moderator of A approves; A's posts
then reach the member's own inbox, addressed to them alone; strangers, unsigned fetches and
non-members with valid signatures get nothing; a walk of every public URL of both instances
and of every outgoing activity finds none of the group's texts.
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
from tests.federation.leaks import addressed_outside, public_outbox_leaks, walk
from tests.federation.test_live import browser, follow_from_b, follow_state, unique


@pytest.fixture(scope="module")
def pair(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveInstance, LiveInstance]]:
    with live_instances(tmp_path_factory.mktemp("members"), 2) as (a, b):
        yield a, b


@dataclass
class Circle:
    """A members-only group on A, its owner, and a person of B who was let in."""

    slug: str
    owner: Member
    owner_name: str
    member: Member
    member_name: str
    member_id_on_a: int


def signed_get(instance: LiveInstance, signer: str | None, url: str) -> httpx.Response:
    """GET `url` as `instance` would, signed by a local person, or by its instance actor."""
    from federation.signatures import sign_request

    if signer is None:
        rows = instance.sql("SELECT private_key_pem FROM actors WHERE kind = 'application'")
        key_id = f"{instance.base_url}/actor#main-key"
    else:
        rows = instance.sql(
            "SELECT private_key_pem FROM actors WHERE name = $1 AND domain IS NULL", signer
        )
        key_id = instance.actor_uri(signer) + "#main-key"
    headers = sign_request(
        "GET", url, {"Accept": "application/activity+json"}, None, key_id,
        rows[0]["private_key_pem"],
    )  # fmt: skip
    return httpx.get(url, headers=headers, timeout=10)


def remote_id(a: LiveInstance, name: str, domain: str) -> int:
    [row] = a.sql("SELECT id FROM actors WHERE name = $1 AND domain = $2", name, domain)
    return int(row["id"])


def membership(a: LiveInstance, slug: str, actor_id: int) -> str | None:
    rows = a.sql(
        "SELECT m.state FROM memberships m JOIN actors g ON g.id = m.group_id"
        " WHERE g.name = $1 AND g.domain IS NULL AND m.actor_id = $2",
        slug,
        actor_id,
    )
    return str(rows[0]["state"]) if rows else None


def circle(a: LiveInstance, b: LiveInstance) -> Circle:
    """Create a members-only group on A and let a person of B in through a moderator."""
    owner_name, slug, member_name = unique("alice"), unique("cercle"), unique("bob")
    a.create_user(owner_name)
    a.create_group(slug, owner_name, join="approval", visibility="members")
    b.create_user(member_name)
    owner, member = browser(a, owner_name), browser(b, member_name)
    follow_from_b(b, member, a, slug)
    wait_until(lambda: follow_state(a, member_name, slug) == "pending")
    actor_id = remote_id(a, member_name, b.domain)
    assert membership(a, slug, actor_id) == "pending"
    assert follow_state(b, member_name, slug) == "pending"
    response = owner.post_form(
        f"/groups/{slug}/members/{actor_id}/decide",
        {"decision": "approve"},
        page=f"/groups/{slug}/members",
    )
    assert response.status_code == 303, response.text
    wait_until(lambda: follow_state(b, member_name, slug) == "accepted")
    assert membership(a, slug, actor_id) == "active"
    return Circle(slug, owner, owner_name, member, member_name, actor_id)


def publish(a: LiveInstance, group: Circle, text: str) -> int:
    response = group.owner.post_form(
        f"/groups/{group.slug}/posts",
        {"content": text, "content_warning": ""},
        page=f"/groups/{group.slug}",
    )
    assert response.status_code == 303, response.text
    return int(a.sql("SELECT id FROM posts WHERE content = $1", text)[0]["id"])


def copy_on(b: LiveInstance, uri: str) -> dict[str, Any] | None:
    rows = b.sql("SELECT id, group_id, content_html FROM posts WHERE uri = $1", uri)
    return rows[0] if rows else None


def test_members_only_post_reaches_the_remote_member_alone(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = circle(a, b)
    stranger_name = unique("carol")
    b.create_user(stranger_name)
    stranger = browser(b, stranger_name)
    text = f"Je narrive plus à dormir depuis la séparation {secrets.token_hex(4)}"
    post_id = publish(a, group, text)
    post_uri = f"{a.base_url}/posts/{post_id}"

    copy = wait_until(lambda: copy_on(b, post_uri))
    assert text in copy["content_html"]
    # B keeps the group as a members-only group whose only member is the person let in.
    [mirror] = b.sql("SELECT visibility FROM groups WHERE actor_id = $1", copy["group_id"])
    assert mirror["visibility"] == "members"
    members_on_b = b.sql(
        "SELECT a.name FROM memberships m JOIN actors a ON a.id = m.actor_id WHERE m.group_id = $1",
        copy["group_id"],
    )
    assert [m["name"] for m in members_on_b] == [group.member_name]
    # The member reads it on B; another person of B and a visitor do not.
    assert text in group.member.get(f"/posts/{copy['id']}").text
    assert text not in stranger.get(f"/posts/{copy['id']}").text
    assert text not in b.browser().get(f"/posts/{copy['id']}").text
    # It is in the member's feed, in no one else's, and the group is on no profile.
    assert copy["id"] and text[:30] in group.member.get("/following").text
    assert text[:30] not in stranger.get("/following").text
    assert group.slug not in b.browser().get(f"/users/{group.member_name}").text

    # What A sent: the author's Create, to the member alone, to their own inbox, not listed.
    member_uri = b.actor_uri(group.member_name)
    rows = a.sql(
        "SELECT type, public, delivered, payload::text AS body FROM outbox_activities"
        " WHERE post_id = $1",
        post_id,
    )
    assert [(r["type"], r["public"], r["delivered"]) for r in rows] == [("Create", False, 1)]
    sent = json.loads(rows[0]["body"])
    assert sent["to"] == [member_uri] and sent["cc"] == []
    assert sent["object"]["to"] == [member_uri] and sent["object"]["cc"] == []
    assert sent["audience"] == a.actor_uri(group.slug, "groups")
    assert "#Public" not in rows[0]["body"] and "/followers" not in rows[0]["body"]

    # Fetching the post: 404 unsigned, 404 signed by a non-member, the Note to the member
    # and to the member's instance actor.
    assert a.ap_get(post_uri).status_code == 404
    refused = signed_get(b, stranger_name, post_uri)
    assert refused.status_code == 404 and text not in refused.text
    assert signed_get(b, group.member_name, post_uri).json()["content"].count(text[:20]) == 1
    on_behalf = signed_get(b, None, post_uri)
    assert on_behalf.status_code == 200 and on_behalf.json()["to"] == [member_uri]
    assert a.ap_get(f"{post_uri}/activity").status_code == 404


def test_remote_member_replies_and_nothing_leaks(pair: tuple[LiveInstance, LiveInstance]) -> None:
    a, b = pair
    group = circle(a, b)
    text = f"Groupe de parole, ma sœur est à lhôpital {secrets.token_hex(4)}"
    post_id = publish(a, group, text)
    post_uri = f"{a.base_url}/posts/{post_id}"
    wait_until(lambda: copy_on(b, post_uri))

    # The member answers from B, addressed to the group only.
    reply_text = f"Courage, je pense à toi {secrets.token_hex(4)}"
    author = b.actor_uri(group.member_name)
    group_uri = a.actor_uri(group.slug, "groups")
    note_id = f"{author}/notes/{secrets.token_hex(6)}"
    note = {
        "id": note_id, "type": "Note", "attributedTo": author,
        "content": f"<p>{reply_text}</p>", "inReplyTo": post_uri,
        "to": [group_uri], "cc": [], "audience": group_uri,
    }  # fmt: skip
    create = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity", "type": "Create", "actor": author, "object": note,
        "to": [group_uri], "cc": [], "audience": group_uri,
    }  # fmt: skip
    response = b.post_signed(group.member_name, f"{group_uri}/inbox", create)
    assert response.status_code == 202, response.text
    reply = wait_until(lambda: a.sql("SELECT group_id FROM posts WHERE uri = $1", note_id))
    assert reply[0]["group_id"] == remote_id_of_group(a, group.slug)
    assert reply_text in group.owner.get(f"/posts/{post_id}").text

    # Each text ends with a token of its own: found whatever escaping a page or document uses.
    secrets_ = [text.rsplit(" ", 1)[1], reply_text.rsplit(" ", 1)[1]]
    terms = ["parole", "Courage", "hôpital"]  # the query is echoed: never the tokens
    leaks = walk(a, secrets_, terms) + walk(b, secrets_, terms)
    assert leaks == []
    assert public_outbox_leaks(a, secrets_) + public_outbox_leaks(b, secrets_) == []
    members = {author}
    assert addressed_outside(a, secrets_, members) == []
    # Nothing holding the texts waits for delivery anywhere but to the member's inbox.
    queued = a.sql(
        "SELECT d.inbox FROM deliveries d JOIN outbox_activities o ON o.id = d.activity_id"
        " WHERE o.payload::text LIKE $1",
        f"%{secrets_[0]}%",
    )
    assert all(row["inbox"] == f"{author}/inbox" for row in queued)
    # NodeInfo counts no members-only post.
    public_posts = a.sql(
        "SELECT count(*) AS n FROM posts p JOIN groups g ON g.actor_id = p.group_id"
        " WHERE p.uri IS NULL AND p.deleted_at IS NULL AND g.visibility = 'public'"
    )[0]["n"]
    assert a.ap_get("/nodeinfo/2.1").json()["usage"]["localPosts"] == public_posts


def remote_id_of_group(a: LiveInstance, slug: str) -> int:
    return int(a.sql("SELECT id FROM actors WHERE name = $1 AND domain IS NULL", slug)[0]["id"])


def test_removed_member_stops_receiving_at_once(pair: tuple[LiveInstance, LiveInstance]) -> None:
    a, b = pair
    group = circle(a, b)
    first = f"Avant le départ {secrets.token_hex(4)}"
    first_id = publish(a, group, first)
    copy = wait_until(lambda: copy_on(b, f"{a.base_url}/posts/{first_id}"))

    response = group.owner.post_form(
        f"/groups/{group.slug}/members/{group.member_id_on_a}/remove",
        {"confirm": "yes"},
        page=f"/groups/{group.slug}/members",
    )
    assert response.status_code == 303, response.text
    assert membership(a, group.slug, group.member_id_on_a) is None
    assert follow_state(a, group.member_name, group.slug) is None
    # B hears of it (a Reject of the Follow) and stops showing the group's posts to them.
    wait_until(lambda: follow_state(b, group.member_name, group.slug) is None)
    assert first not in group.member.get(f"/posts/{copy['id']}").text

    second = f"Après le départ {secrets.token_hex(4)}"
    second_id = publish(a, group, second)
    wait_until(lambda: not a.sql("SELECT 1 FROM jobs WHERE kind = 'federate_post'"))
    assert a.sql("SELECT 1 FROM outbox_activities WHERE post_id = $1", second_id) == []
    second_uri = f"{a.base_url}/posts/{second_id}"
    assert signed_get(b, group.member_name, second_uri).status_code == 404
    assert signed_get(b, None, second_uri).status_code == 404
    assert copy_on(b, second_uri) is None


def test_member_who_leaves_from_b_stops_receiving(pair: tuple[LiveInstance, LiveInstance]) -> None:
    a, b = pair
    group = circle(a, b)
    [target] = b.sql("SELECT id FROM actors WHERE uri = $1", a.actor_uri(group.slug, "groups"))
    response = group.member.post_form(f"/following/{target['id']}/unfollow", {}, page="/following")
    assert response.status_code == 303, response.text
    wait_until(lambda: membership(a, group.slug, group.member_id_on_a) is None)
    text = f"Après son départ {secrets.token_hex(4)}"
    post_id = publish(a, group, text)
    wait_until(lambda: not a.sql("SELECT 1 FROM jobs WHERE kind = 'federate_post'"))
    assert a.sql("SELECT 1 FROM outbox_activities WHERE post_id = $1", post_id) == []


def test_the_rules_reach_a_remote_person_before_moderators_decide(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    owner_name, slug, member_name = unique("alice"), unique("cercle"), unique("bob")
    a.create_user(owner_name)
    a.create_group(slug, owner_name, join="approval", visibility="members")
    rules = f"Ce qui est dit ici reste ici {secrets.token_hex(4)}\nPas de conseils non sollicités"
    # (the settings form that writes rules is tested with the group pages)
    a.sql("UPDATE groups SET rules = $2 WHERE actor_id ="
          " (SELECT id FROM actors WHERE name = $1 AND domain IS NULL)", slug, rules)  # fmt: skip
    b.create_user(member_name)
    owner, member = browser(a, owner_name), browser(b, member_name)
    follow_from_b(b, member, a, slug)

    # A sends the rules to the person alone, as the group, in answer to their Follow.
    [sent] = wait_until(
        lambda: a.sql("SELECT payload::text AS body FROM outbox_activities WHERE type = 'Create'"
                      " AND delivered = 1 AND payload::text LIKE '%/rules/%'"
                      " AND payload::text LIKE $1", f"%{member_name}%")
    )  # fmt: skip
    create = json.loads(sent["body"])
    bob_uri = b.actor_uri(member_name)
    assert create["actor"] == a.actor_uri(slug, "groups")
    assert create["to"] == [bob_uri] and create["cc"] == []
    assert create["object"]["to"] == [bob_uri] and create["object"]["cc"] == []
    assert "awaits its moderators" in create["object"]["content"]
    assert rules.splitlines()[0] in create["object"]["content"]
    [follow] = wait_until(
        lambda: b.sql(
            "SELECT f.uri FROM follows f JOIN actors p ON p.id = f.follower_id"
            " WHERE f.rules_received IS NOT NULL AND p.name = $1",
            member_name,
        )
    )
    assert create["object"]["inReplyTo"] == follow["uri"]
    assert httpx.get(create["object"]["id"], timeout=10).status_code == 404
    # B keeps them with the request: the person reads them, and is told.
    page = member.get("/following").text
    assert rules.splitlines()[0] in page and "waiting for approval" in page
    assert "sent you its rules" in member.get("/notifications").text
    assert b.sql("SELECT 1 FROM posts WHERE content_html LIKE '%awaits its moderators%'") == []

    # A's moderators see the request with the rules it was shown.
    members = owner.get(f"/groups/{slug}/members").text
    assert "Rules shown with this request" in members
    assert rules.splitlines()[0] in members


def test_a_members_only_event_reaches_the_remote_member_alone(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    from tests.federation.test_live_events import NEXT_WEEK

    a, b = pair
    group = circle(a, b)
    stranger_name = unique("carol")
    b.create_user(stranger_name)
    stranger = browser(b, stranger_name)
    title = f"Cercle de parole du jeudi {secrets.token_hex(4)}"
    form = {
        "title": title, "description": "On se retrouve.", "start_date": NEXT_WEEK,
        "start_time": "19:00", "end_date": NEXT_WEEK, "end_time": "21:00",
        "timezone": "Europe/Paris", "place_name": "Local", "locality": "Lyon", "capacity": "",
        "join_mode": "free", "category": "MEETING", "status": "confirmed",
        "visibility": "members",
    }  # fmt: skip
    response = group.owner.post_form(
        f"/groups/{group.slug}/events", form, page=f"/groups/{group.slug}/events/new"
    )
    assert response.status_code == 303, response.text[-3000:]
    event_id = int(response.headers["location"].rsplit("/", 1)[1])
    uri = f"{a.base_url}/events/{event_id}"

    # Sent to the member's own inbox alone, addressed to them, never listed (waited for until
    # the delivery is recorded: the row exists before its delivery).
    [sent] = wait_until(
        lambda: a.sql("SELECT public, delivered, payload::text AS body FROM outbox_activities"
                      " WHERE type = 'Create' AND payload::text LIKE $1 AND delivered > 0",
                      f"%{uri}%")
    )  # fmt: skip
    create = json.loads(sent["body"])
    bob_uri = b.actor_uri(group.member_name)
    assert sent["public"] is False and sent["delivered"] == 1
    assert (create["to"], create["cc"]) == ([bob_uri], [])
    assert (create["object"]["to"], create["object"]["cc"]) == ([bob_uri], [])
    # B keeps it for the member alone.
    [copy] = wait_until(lambda: b.sql("SELECT id, visibility FROM events WHERE uri = $1", uri))
    assert copy["visibility"] == "members"
    assert title in group.member.get(f"/events/{copy['id']}").text
    assert title not in stranger.get(f"/events/{copy['id']}").text
    assert title not in b.browser().get(f"/events/{copy['id']}").text
    # Fetching it: a member's signed fetch only; anyone else is told nothing exists.
    assert signed_get(b, group.member_name, uri).status_code == 200
    assert signed_get(b, stranger_name, uri).status_code == 404
    assert httpx.get(uri, headers={"Accept": "application/activity+json"}).status_code == 404
    token = [title.rsplit(" ", 1)[1]]
    assert walk(a, token, ["parole"]) + walk(b, token, ["parole"]) == []
    assert public_outbox_leaks(a, token) + public_outbox_leaks(b, token) == []
