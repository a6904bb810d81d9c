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
