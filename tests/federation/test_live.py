"""Two live instances, A and B, talking ActivityPub over loopback HTTP.

A holds the groups; B's members follow them from afar. Every scenario acts through the web pages
where they exist, and checks both sides: what people see and what each database keeps.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.federation.instances import (
    PASSWORD,
    LiveInstance,
    Member,
    live_instances,
    wait_until,
)

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture(scope="module")
def pair(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveInstance, LiveInstance]]:
    """Start A and B once for the module: each test works with its own people and groups."""
    with live_instances(tmp_path_factory.mktemp("live"), 2) as (a, b):
        yield a, b


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(3)}"


def browser(instance: LiveInstance, username: str) -> Member:
    member = instance.browser(username)
    member.client.headers["Accept-Language"] = "en"
    return member


@dataclass
class Followed:
    """A group on A with its owner, and a member of B who follows it (or asked to)."""

    slug: str
    owner: Member
    follower: Member
    follower_name: str
    group_id_on_a: int
    group_id_on_b: int


def follow_from_b(b: LiveInstance, member: Member, a: LiveInstance, slug: str) -> None:
    response = member.post_form("/following", {"handle": f"@{slug}@{a.domain}"}, page="/following")
    assert response.status_code == 303
    assert response.headers["location"].endswith("/following?queued=1")


def follow_state(instance: LiveInstance, follower_name: str, target: str) -> str | None:
    """Return the state of a follow on `instance`, or None (actors by name, remote or local)."""
    rows = instance.sql(
        """
        SELECT f.state FROM follows f
        JOIN actors fa ON fa.id = f.follower_id JOIN actors ta ON ta.id = f.target_id
        WHERE fa.name = $1 AND ta.name = $2
        """,
        follower_name,
        target,
    )
    return str(rows[0]["state"]) if rows else None


def followed_group(a: LiveInstance, b: LiveInstance, *, join: str = "open") -> Followed:
    """Create a group on A and a member of B who follows it (accepted when the group is open)."""
    owner_name, slug, follower_name = unique("alice"), unique("grp"), unique("bob")
    a.create_user(owner_name)
    a.create_group(slug, owner_name, join=join)
    b.create_user(follower_name)
    owner, follower = browser(a, owner_name), browser(b, follower_name)
    follow_from_b(b, follower, a, slug)
    if join == "open":
        wait_until(lambda: follow_state(b, follower_name, slug) == "accepted")
    else:
        wait_until(lambda: follow_state(a, follower_name, slug) == "pending")
    [on_a] = a.sql("SELECT id FROM actors WHERE name = $1", slug)
    [on_b] = b.sql("SELECT id FROM actors WHERE uri = $1", a.actor_uri(slug, "groups"))
    return Followed(slug, owner, follower, follower_name, on_a["id"], on_b["id"])


def publish(a: LiveInstance, group: Followed, content: str) -> int:
    """Write a post in the group from A's web page; return its id on A."""
    response = group.owner.post_form(
        f"/groups/{group.slug}/posts",
        {"content": content, "content_warning": ""},
        page=f"/groups/{group.slug}",
    )
    assert response.status_code == 303, response.text
    return int(a.sql("SELECT id FROM posts WHERE content = $1", content)[0]["id"])


def copy_on_b(b: LiveInstance, uri: str) -> dict[str, Any] | None:
    rows = b.sql(
        "SELECT id, content_html, deleted_at, via_actor_id, author_id FROM posts WHERE uri = $1",
        uri,
    )
    return rows[0] if rows else None


def published_post(a: LiveInstance, b: LiveInstance) -> tuple[Followed, int, int, str]:
    """A followed group with one post that reached B; return (group, A id, B id, text)."""
    group = followed_group(a, b)
    text = f"Soupe solidaire {secrets.token_hex(3)}"
    post_id = publish(a, group, text)
    copy = wait_until(lambda: copy_on_b(b, f"{a.base_url}/posts/{post_id}"))
    return group, post_id, int(copy["id"]), text


def outbox_rows(a: LiveInstance, post_id: int) -> list[dict[str, Any]]:
    rows = a.sql(
        """
        SELECT o.type, o.delivered, o.failed, o.payload, act.name AS actor
        FROM outbox_activities o JOIN actors act ON act.id = o.actor_id
        WHERE o.post_id = $1 ORDER BY o.id
        """,
        post_id,
    )
    return [{**r, "payload": json.loads(r["payload"])} for r in rows]


def followers_shown(page: str) -> int:
    match = re.search(r"(\d+) followers?\b", page)
    assert match, "no follower count on the page"
    return int(match.group(1))


def reply_from_b(
    a: LiveInstance, b: LiveInstance, group: Followed, parent_id: int, text: str
) -> str:
    """Send B's member's reply to A as B would deliver it: a signed Create; return the Note id.

    B has no page to answer a post of its feed yet, so the test builds the activity itself.
    """
    author = b.actor_uri(group.follower_name)
    note_id = f"{author}/notes/{secrets.token_hex(6)}"
    group_uri = a.actor_uri(group.slug, "groups")
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": author,
        "content": f"<p>{text}</p>",
        "inReplyTo": f"{a.base_url}/posts/{parent_id}",
        "to": [AS_PUBLIC],
        "cc": [group_uri, f"{author}/followers"],
        "audience": group_uri,
        "url": note_id,
        "published": "2025-01-01T12:00:00Z",
    }
    create = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": author,
        "object": note,
        "to": note["to"],
        "cc": note["cc"],
        "audience": group_uri,
    }
    response = b.post_signed(group.follower_name, f"{group_uri}/inbox", create)
    assert response.status_code == 202, response.text
    return note_id


def test_member_of_b_follows_open_group_of_a(pair: tuple[LiveInstance, LiveInstance]) -> None:
    a, b = pair
    group = followed_group(a, b)

    wait_until(lambda: follow_state(a, group.follower_name, group.slug) == "accepted")
    following = group.follower.get("/following").text
    assert f"@{group.slug}@{a.domain}" in following
    assert "waiting for approval" not in following
    assert followers_shown(group.owner.get(f"/groups/{group.slug}").text) == 1
    # A's group is known on B as a remote group, with its inbox on A.
    [known] = b.sql("SELECT kind, domain, inbox FROM actors WHERE id = $1", group.group_id_on_b)
    assert known == {
        "kind": "group",
        "domain": a.domain,
        "inbox": f"{a.actor_uri(group.slug, 'groups')}/inbox",
    }
    # The Accept went from the group to the member's own inbox, and was delivered.
    wait_until(
        lambda: a.sql(
            "SELECT 1 FROM outbox_activities WHERE type = 'Accept' AND actor_id = $1"
            " AND delivered = 1",
            group.group_id_on_a,
        )
    )


def test_approval_group_follow_waits_for_a_moderator(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = followed_group(a, b, join="approval")
    second_name = unique("bob")
    b.create_user(second_name)
    second = browser(b, second_name)
    follow_from_b(b, second, a, group.slug)
    wait_until(lambda: follow_state(a, second_name, group.slug) == "pending")

    assert follow_state(b, group.follower_name, group.slug) == "pending"
    assert "waiting for approval" in group.follower.get("/following").text
    members = group.owner.get(f"/groups/{group.slug}/members").text
    assert f"@{group.follower_name}@{b.domain}" in members
    assert f"@{second_name}@{b.domain}" in members
    assert followers_shown(group.owner.get(f"/groups/{group.slug}").text) == 0

    def decide(name: str, decision: str) -> None:
        [actor] = a.sql("SELECT id FROM actors WHERE name = $1 AND domain = $2", name, b.domain)
        response = group.owner.post_form(
            f"/groups/{group.slug}/followers/{actor['id']}/decide",
            {"decision": decision},
            page=f"/groups/{group.slug}/members",
        )
        assert response.status_code == 303, response.text

    decide(group.follower_name, "accept")
    wait_until(lambda: follow_state(b, group.follower_name, group.slug) == "accepted")
    assert follow_state(a, group.follower_name, group.slug) == "accepted"
    assert "waiting for approval" not in group.follower.get("/following").text
    assert followers_shown(group.owner.get(f"/groups/{group.slug}").text) == 1

    decide(second_name, "reject")
    wait_until(lambda: follow_state(b, second_name, group.slug) is None)
    assert follow_state(a, second_name, group.slug) is None
    assert f"@{group.slug}@{a.domain}" not in second.get("/following").text
    members = group.owner.get(f"/groups/{group.slug}/members").text
    assert f"@{second_name}@{b.domain}" not in members
    assert followers_shown(group.owner.get(f"/groups/{group.slug}").text) == 1


def test_group_post_reaches_follower_feed_through_announce(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group, post_id, copy_id, text = published_post(a, b)

    copy = copy_on_b(b, f"{a.base_url}/posts/{post_id}")
    assert copy is not None
    assert copy["via_actor_id"] == group.group_id_on_b
    assert text in copy["content_html"]
    [author] = b.sql("SELECT name, domain FROM actors WHERE id = $1", copy["author_id"])
    assert author["domain"] == a.domain
    feed = group.follower.get("/following").text
    assert text in feed
    assert f'id="post-{copy_id}"' in feed
    assert f"@{author['name']}@{a.domain}" in feed
    # A published the author's Create and the group's Announce; the Announce reached B.
    wait_until(lambda: any(r["delivered"] for r in outbox_rows(a, post_id)))
    rows = outbox_rows(a, post_id)
    assert [(r["type"], r["actor"]) for r in rows] == [
        ("Create", author["name"]),
        ("Announce", group.slug),
    ]
    announce = rows[1]
    assert (announce["delivered"], announce["failed"]) == (1, 0)
    assert announce["payload"]["object"] == f"{a.base_url}/posts/{post_id}"
    page = group.owner.get(f"/posts/{post_id}").text
    assert "Delivered: 1" in page
    assert "Failed: 0" in page
    wait_until(
        lambda: b.sql(
            "SELECT 1 FROM inbox_activities WHERE activity_id = $1 AND outcome = $2",
            announce["payload"]["id"],
            f"stored post {copy_id}",
        )
    )


def test_reply_from_b_joins_the_thread_on_a_and_is_announced(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group, post_id, _copy_id, _text = published_post(a, b)
    reply_text = f"Je peux aider {secrets.token_hex(3)}"

    note_id = reply_from_b(a, b, group, post_id, reply_text)

    reply = wait_until(
        lambda: a.sql(
            "SELECT id, group_id, in_reply_to_id, author_id FROM posts WHERE uri = $1", note_id
        )
    )[0]
    assert (reply["group_id"], reply["in_reply_to_id"]) == (group.group_id_on_a, post_id)
    [author] = a.sql("SELECT name, domain FROM actors WHERE id = $1", reply["author_id"])
    assert author == {"name": group.follower_name, "domain": b.domain}
    page = group.owner.get(f"/posts/{post_id}").text
    assert reply_text in page
    assert f"@{group.follower_name}@{b.domain}" in page
    assert f"on {b.domain}" in page
    # FEP-1b12: the group relays the reply to its followers, B among them.
    wait_until(lambda: any(r["delivered"] for r in outbox_rows(a, reply["id"])))
    [announce] = outbox_rows(a, reply["id"])
    assert (announce["type"], announce["actor"]) == ("Announce", group.slug)
    assert announce["payload"]["object"] == note_id
    assert (announce["delivered"], announce["failed"]) == (1, 0)
    # B already holds its member's words: the Announce arrives and changes nothing there.
    wait_until(
        lambda: b.sql(
            "SELECT 1 FROM inbox_activities WHERE activity_id = $1 AND outcome IS NOT NULL",
            announce["payload"]["id"],
        )
    )
    assert b.sql("SELECT 1 FROM posts WHERE uri = $1", note_id) == []


def test_reply_from_b_to_a_members_only_group_is_refused(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    owner_name, slug, outsider = unique("alice"), unique("grp"), unique("bob")
    a.create_user(owner_name)
    a.create_group(slug, owner_name, visibility="members")
    b.create_user(outsider)
    owner = browser(a, owner_name)
    group = Followed(slug, owner, owner, outsider, 0, 0)
    post_id = publish(a, group, f"Entre nous {secrets.token_hex(3)}")
    assert a.ap_get(f"/posts/{post_id}").status_code == 404

    # Post ids are easy to guess: a stranger who answers one must not get into the thread.
    note_id = reply_from_b(a, b, group, post_id, "Je m'invite")

    [received] = wait_until(
        lambda: a.sql(
            "SELECT outcome FROM inbox_activities WHERE activity_id = $1 AND outcome IS NOT NULL",
            f"{note_id}/activity",
        )
    )
    assert received["outcome"] == "not for us"
    assert a.sql("SELECT 1 FROM posts WHERE uri = $1", note_id) == []
    assert "Je m'invite" not in owner.get(f"/posts/{post_id}").text


def likes_on_a(a: LiveInstance, post_id: int) -> list[str]:
    rows = a.sql(
        "SELECT act.name FROM likes l JOIN actors act ON act.id = l.actor_id WHERE l.post_id = $1",
        post_id,
    )
    return [r["name"] for r in rows]


def like_count_shown(page: str, post_id: int) -> int:
    card = page.split(f'id="post-{post_id}"', 1)[1].split("</article>", 1)[0]
    # "♥ 3" to visitors, "♥ Like, 3" (the words for screen readers) on a member's button.
    text = re.sub(r"<[^>]+>", "", card)
    match = re.search(r"♥ (?:Like, )?(\d+)", text)
    assert match, "no like count on the post"
    return int(match.group(1))


def test_like_from_b_is_counted_on_a_and_unlike_removes_it(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group, post_id, copy_id, _text = published_post(a, b)

    def toggle_like() -> None:
        response = group.follower.post_form(f"/posts/{copy_id}/like", {}, page="/following")
        assert response.status_code == 303
        assert response.headers["location"] == f"/following#post-{copy_id}"

    toggle_like()
    assert like_count_shown(group.follower.get("/following").text, copy_id) == 1
    wait_until(lambda: likes_on_a(a, post_id) == [group.follower_name])
    assert like_count_shown(group.owner.get(f"/posts/{post_id}").text, post_id) == 1

    toggle_like()
    assert like_count_shown(group.follower.get("/following").text, copy_id) == 0
    wait_until(lambda: likes_on_a(a, post_id) == [])
    assert like_count_shown(group.owner.get(f"/posts/{post_id}").text, post_id) == 0


def test_like_again_after_unlike_is_counted_again(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group, post_id, copy_id, _text = published_post(a, b)

    def toggle_like(expected: list[str]) -> None:
        response = group.follower.post_form(f"/posts/{copy_id}/like", {}, page="/following")
        assert response.status_code == 303
        wait_until(lambda: likes_on_a(a, post_id) == expected)

    toggle_like([group.follower_name])
    toggle_like([])
    response = group.follower.post_form(f"/posts/{copy_id}/like", {}, page="/following")
    assert response.status_code == 303
    assert like_count_shown(group.follower.get("/following").text, copy_id) == 1
    # Each Like has its own id: A counts the second one instead of taking it for a replay.
    wait_until(lambda: likes_on_a(a, post_id) == [group.follower_name])
    ids = b.sql("SELECT uri FROM outbox_activities WHERE type = 'Like' ORDER BY id")
    assert len({row["uri"] for row in ids}) == len(ids) >= 2


def test_edit_and_deletion_on_a_reach_the_copy_on_b(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group, post_id, copy_id, text = published_post(a, b)
    uri = f"{a.base_url}/posts/{post_id}"
    edited = f"Soupe solidaire, jeudi plutôt {secrets.token_hex(3)}"

    response = group.owner.post_form(
        f"/posts/{post_id}/edit",
        {"content": edited, "content_warning": ""},
        page=f"/posts/{post_id}/edit",
    )
    assert response.status_code == 303, response.text
    wait_until(lambda: edited in (copy_on_b(b, uri) or {}).get("content_html", ""))
    feed = group.follower.get("/following").text
    assert edited in feed
    assert text not in feed
    assert "(edited)" in feed.split(f'id="post-{copy_id}"', 1)[1].split("</article>", 1)[0]
    assert edited in group.owner.get(f"/posts/{post_id}").text

    response = group.owner.post_form(
        f"/posts/{post_id}/delete", {"confirm": "yes"}, page=f"/posts/{post_id}"
    )
    assert response.status_code == 303, response.text
    copy = wait_until(lambda: (c := copy_on_b(b, uri)) and c["deleted_at"] and c)
    assert copy["content_html"] == ""
    assert f'id="post-{copy_id}"' not in group.follower.get("/following").text
    assert edited not in group.follower.get("/following").text
    gone = a.ap_get(uri)
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone"
    assert gone.json()["id"] == uri
    assert group.owner.get(f"/posts/{post_id}").status_code == 404
    types = [(r["type"], r["actor"]) for r in outbox_rows(a, post_id)]
    author = types[0][1]
    assert types == [
        ("Create", author),
        ("Announce", group.slug),
        ("Update", author),
        ("Announce", group.slug),
        ("Delete", author),
        ("Announce", group.slug),
    ]

    # B applied the author's own Update and Delete; the group's Announces of them were checked
    # against A (the post fetched again) and found applied already, or applied.
    def outcomes() -> list[tuple[str, str]]:
        rows = b.sql(
            "SELECT type, outcome FROM inbox_activities WHERE activity_id LIKE $1"
            " AND outcome IS NOT NULL",
            f"{uri}/%",
        )
        return sorted((r["type"], r["outcome"]) for r in rows)

    wait_until(lambda: len(outcomes()) == 5)
    results = outcomes()
    assert ("Announce", f"stored post {copy_id}") in results
    assert ("Delete", f"deleted post {copy_id}") in results
    assert ("Update", f"updated post {copy_id}") in results
    relayed = [o for kind, o in results if kind == "Announce" and not o.startswith("stored")]
    assert len(relayed) == 2
    assert all(not outcome.startswith("failed") for outcome in relayed), results


def test_unfollow_from_b_lowers_the_follower_count_on_a(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = followed_group(a, b)
    wait_until(lambda: follow_state(a, group.follower_name, group.slug) == "accepted")
    assert followers_shown(group.owner.get(f"/groups/{group.slug}").text) == 1

    response = group.follower.post_form(
        f"/following/{group.group_id_on_b}/unfollow", {}, page="/following"
    )
    assert response.status_code == 303
    assert follow_state(b, group.follower_name, group.slug) is None
    assert f"@{group.slug}@{a.domain}" not in group.follower.get("/following").text
    wait_until(lambda: follow_state(a, group.follower_name, group.slug) is None)
    assert followers_shown(group.owner.get(f"/groups/{group.slug}").text) == 0
    [undo] = wait_until(
        lambda: b.sql(
            "SELECT delivered FROM outbox_activities WHERE type = 'Undo' AND payload::text LIKE $1"
            " AND delivered = 1",
            f"%{a.actor_uri(group.slug, 'groups')}%",
        )
    )
    assert undo["delivered"] == 1


def test_account_deleted_on_b_is_forgotten_on_a(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group, post_id, copy_id, _text = published_post(a, b)
    response = group.follower.post_form(f"/posts/{copy_id}/like", {}, page="/following")
    assert response.status_code == 303
    note_id = reply_from_b(a, b, group, post_id, "Je serai là")
    wait_until(
        lambda: likes_on_a(a, post_id) and a.sql("SELECT 1 FROM posts WHERE uri = $1", note_id)
    )
    [remote] = a.sql(
        "SELECT id FROM actors WHERE name = $1 AND domain = $2", group.follower_name, b.domain
    )

    response = group.follower.post_form(
        "/settings/delete", {"password": PASSWORD}, page="/settings/password"
    )
    assert response.status_code == 303, response.text

    wait_until(lambda: not a.sql("SELECT 1 FROM actors WHERE id = $1", remote["id"]))
    assert a.sql("SELECT 1 FROM posts WHERE author_id = $1", remote["id"]) == []
    assert a.sql("SELECT 1 FROM posts WHERE uri = $1", note_id) == []
    assert (
        a.sql("SELECT 1 FROM follows WHERE follower_id = $1 OR target_id = $1", remote["id"]) == []
    )
    assert likes_on_a(a, post_id) == []
    page = group.owner.get(f"/posts/{post_id}").text
    assert "Je serai là" not in page
    assert like_count_shown(page, post_id) == 0
    assert followers_shown(group.owner.get(f"/groups/{group.slug}").text) == 0
    # On B the account is gone too: no follow, no like, 410 Gone with a Tombstone at its id.
    [account] = b.sql(
        "SELECT status FROM accounts JOIN actors ON actors.id = accounts.actor_id"
        " WHERE actors.name = $1",
        group.follower_name,
    )
    assert account["status"] == "deleted"
    assert follow_state(b, group.follower_name, group.slug) is None
    assert b.sql("SELECT 1 FROM likes WHERE post_id = $1", copy_id) == []
    gone = b.ap_get(b.actor_uri(group.follower_name))
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone"
