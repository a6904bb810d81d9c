"""Mutual support between two live instances, beyond the board: a member asks a member of
another instance for a conversation (a private message to them alone, filed there as a request);
libraries and goals travel to who may read them, and nowhere else."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.federation.instances import LiveInstance, live_instances, wait_until
from tests.federation.leaks import addressed_outside, public_outbox_leaks, walk
from tests.federation.test_live import browser, followed_group, unique
from tests.federation.test_live_members_only import circle


@pytest.fixture(scope="module")
def pair(pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with live_instances(tmp_path_factory.mktemp("mutual"), 2) as instances:
        yield instances


def requests_on(instance: LiveInstance, text: str) -> list[dict[str, Any]]:
    return instance.sql(
        "SELECT c.to_id, c.from_id, c.uri, a.name AS to_name FROM conversation_requests c"
        " JOIN actors a ON a.id = c.to_id WHERE c.message LIKE $1",
        f"%{text}%",
    )


@pytest.mark.parametrize("direction", ["a_to_b", "b_to_a"])
def test_a_member_asks_a_member_of_another_instance_for_a_conversation(
    pair: tuple[LiveInstance, LiveInstance], direction: str
) -> None:
    home, other = pair if direction == "a_to_b" else pair[::-1]
    group = circle(home, other)  # a members-only group of `home`, with a member on `other`
    page = f"/groups/{group.slug}/availability"
    handle = f"@{group.member_name}@{other.domain}"
    # The page says whose availability it cannot show, and offers to ask them all the same.
    shown = group.owner.get(page).text
    assert handle in shown and "availability of members who live on other instances" in shown
    message = f"Un café jeudi pour en parler ? {secrets.token_hex(4)}"

    response = group.owner.post_form(
        f"{page}/ask/{group.member_id_on_a}", {"message": message}, page=page
    )

    assert response.status_code == 303, response.text
    # Filed on the other instance as a request for the member, who is told.
    [request] = wait_until(lambda: requests_on(other, message))
    assert request["to_name"] == group.member_name and request["uri"]
    kinds = other.sql(
        "SELECT n.subject FROM notifications n JOIN actors a ON a.id = n.account_id"
        " WHERE a.name = $1 AND n.kind = 'conversation_request'",
        group.member_name,
    )
    assert [k["subject"] for k in kinds] == [message]
    assert message in group.member.get("/notifications").text
    # What travelled: a private Note to the member alone (a direct message in Mastodon),
    # mentioning them, with the group as audience and a link back to it.
    member_uri = other.actor_uri(group.member_name)
    [row] = home.sql(
        "SELECT public, payload::text AS body FROM outbox_activities WHERE payload::text LIKE $1",
        f"%{message}%",
    )
    sent = json.loads(row["body"])
    note = sent["object"]
    assert row["public"] is False
    assert (sent["to"], sent["cc"], note["to"], note["cc"]) == ([member_uri], [], [member_uri], [])
    assert "#Public" not in row["body"] and "/followers" not in row["body"]
    assert {"type": "Mention", "href": member_uri} == {
        k: v for k, v in note["tag"][0].items() if k != "name"
    }
    group_uri = home.actor_uri(group.slug, "groups")
    assert note["audience"] == group_uri and f'href="{group_uri}"' in note["content"]
    assert note["conversationRequest"] is True
    # Nobody else on the other instance holds it.
    assert other.sql("SELECT 1 FROM posts WHERE content_html LIKE $1", f"%{message}%") == []


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def library_copy(b: LiveInstance, uri: str) -> dict[str, Any] | None:
    rows = b.sql(
        "SELECT id, title, link, media_type, original_name FROM resources WHERE uri = $1", uri
    )
    return rows[0] if rows else None


def test_a_public_groups_library_reaches_followers_and_its_removal_too(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = followed_group(a, b)
    page = f"/groups/{group.slug}/library"
    response = group.owner.post_form(
        page,
        {"title": "Carte des distributions", "description": "Les lieux et les horaires.",
         "tags": "alimentation", "link": "https://example.org/carte"},
        page=page,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    response = group.owner.client.post(
        page,
        data={"title": "Accueillir une famille", "description": "Notre fiche.", "tags": "",
              "link": "", "csrf_token": group.owner.token(page)},
        files={"document": ("accueil.pdf", PDF, "application/pdf")},
    )  # fmt: skip
    assert response.status_code == 303, response.text
    rows = a.sql("SELECT id, title FROM resources ORDER BY id DESC LIMIT 2")
    ids = {r["title"]: r["id"] for r in rows}
    link_uri = f"{a.base_url}/library/{ids['Carte des distributions']}"
    document_uri = f"{a.base_url}/library/{ids['Accueillir une famille']}"

    # B keeps both: the link, and the document's address with its type and name.
    link = wait_until(lambda: library_copy(b, link_uri))
    document = wait_until(lambda: library_copy(b, document_uri))
    assert link["link"] == "https://example.org/carte" and link["media_type"] is None
    assert document["link"] == f"{document_uri}/file"
    assert (document["media_type"], document["original_name"]) == ("application/pdf", "accueil.pdf")
    # What Mastodon reads: a Note of the group, the document as a Document attachment.
    [sent] = [
        json.loads(r["body"])
        for r in a.sql("SELECT payload::text AS body FROM outbox_activities WHERE uri = $1",
                       f"{document_uri}/activity")
    ]  # fmt: skip
    assert sent["type"] == "Create" and sent["actor"] == a.actor_uri(group.slug, "groups")
    assert sent["object"]["attachment"] == [
        {"type": "Document", "mediaType": "application/pdf", "name": "accueil.pdf",
         "url": f"{document_uri}/file"}
    ]  # fmt: skip
    assert "https://www.w3.org/ns/activitystreams#Public" in sent["to"]
    # Shown to the follower where the groups they follow are.
    follower = browser(b, group.follower_name)
    shown = follower.get("/following").text
    assert "Carte des distributions" in shown and "accueil.pdf" in shown

    # Removed on A: a Delete, and B's copy goes.
    response = group.owner.post_form(
        f"/library/{ids['Carte des distributions']}/remove", {}, page=page
    )
    assert response.status_code == 303, response.text
    wait_until(lambda: library_copy(b, link_uri) is None)
    assert "Carte des distributions" not in follower.get("/following").text


def test_members_only_goals_reach_remote_members_alone_and_never_leak(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = circle(a, b)
    stranger_name = unique("carol")
    b.create_user(stranger_name)
    stranger = browser(b, stranger_name)
    token = secrets.token_hex(4)
    title = f"Reprendre la marche {token}"
    body = f"Vingt minutes par jour, conseil du kiné {token}"
    followup = f"Dix minutes autour du square {secrets.token_hex(4)}"
    page = f"/groups/{group.slug}/goals"

    response = group.owner.post_form(page, {"title": title, "body": body}, page=page)
    assert response.status_code == 303, response.text
    goal_id = int(response.headers["location"].rsplit("/", 1)[1])
    goal_uri = f"{a.base_url}/goals/{goal_id}"
    response = group.owner.post_form(
        f"/goals/{goal_id}/updates", {"content": followup}, page=f"/goals/{goal_id}"
    )
    assert response.status_code == 303, response.text

    # B keeps it for the member: their page of followed groups and the goal's timeline.
    [copy] = wait_until(lambda: b.sql("SELECT id, visibility FROM goals WHERE uri = $1", goal_uri))
    assert copy["visibility"] == "members"
    wait_until(lambda: b.sql("SELECT 1 FROM goal_updates WHERE content_html LIKE $1",
                             f"%{followup}%"))  # fmt: skip
    assert title in group.member.get("/following").text
    shown = group.member.get(f"/goals/{copy['id']}").text
    assert body in shown and followup in shown
    # Nobody else on B reads it.
    assert title not in stranger.get("/following").text
    assert body not in stranger.get(f"/goals/{copy['id']}").text
    assert body not in b.browser().get(f"/goals/{copy['id']}").text

    # What A sent: to the member alone, never Public or a followers collection.
    member_uri = b.actor_uri(group.member_name)
    rows = a.sql(
        "SELECT public, payload::text AS body FROM outbox_activities WHERE payload::text LIKE $1",
        f"%{token}%",
    )
    assert rows and all(r["public"] is False for r in rows)
    for row in rows:
        sent = json.loads(row["body"])
        assert sent["to"] == [member_uri] and sent["cc"] == []
        assert "#Public" not in row["body"] and "/followers" not in row["body"]
    # A walk of every public URL of both instances finds none of its texts.
    texts = [token, followup.rsplit(" ", 1)[1]]
    assert walk(a, texts, ["marche"]) + walk(b, texts, ["marche"]) == []
    assert public_outbox_leaks(a, texts) + public_outbox_leaks(b, texts) == []
    assert addressed_outside(a, texts, {member_uri}) == []
