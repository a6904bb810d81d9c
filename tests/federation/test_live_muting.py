"""Personal blocks across two live instances: the Block and its Undo reach the blocked person's
server, which hides the blocker from them; the blocked person's reply is dropped."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.federation.instances import LiveInstance, live_instances, wait_until
from tests.federation.test_live_members_only import circle, copy_on, publish


@pytest.fixture(scope="module")
def pair(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveInstance, LiveInstance]]:
    with live_instances(tmp_path_factory.mktemp("muting"), 2) as (a, b):
        yield a, b


def processed(instance: LiveInstance, activity_id: str) -> str:
    [row] = wait_until(
        lambda: instance.sql(
            "SELECT outcome FROM inbox_activities WHERE activity_id = $1 AND outcome IS NOT NULL",
            activity_id,
        )
    )
    return str(row["outcome"])


def test_a_block_of_a_remote_person_federates_and_their_reply_is_dropped(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = circle(a, b)
    text = f"Un message de la part dalice {secrets.token_hex(4)}"
    post_id = publish(a, group, text)
    wait_until(lambda: copy_on(b, f"{a.base_url}/posts/{post_id}"))
    assert text in group.member.get("/following").text

    response = group.owner.post_form(
        "/settings/muting",
        {"handle": f"{group.member_name}@{b.domain}", "action": "block"},
        page="/settings/muting",
    )
    assert response.status_code == 303, response.text

    # The Block goes to the blocked person alone; B hides the blocker's posts from them.
    [sent] = wait_until(
        lambda: a.sql("SELECT payload::text AS body FROM outbox_activities WHERE type = 'Block'"
                      " AND delivered = 1")
    )  # fmt: skip
    block = json.loads(sent["body"])
    bob_uri = b.actor_uri(group.member_name)
    assert block["object"] == bob_uri and block["to"] == [bob_uri]
    assert processed(b, block["id"]) == "blocked"
    assert text not in group.member.get("/following").text

    # The blocked person's reply to the blocker's post is dropped at A.
    group_uri = a.actor_uri(group.slug, "groups")
    note_id = f"{bob_uri}/notes/{secrets.token_hex(6)}"
    create = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity", "type": "Create", "actor": bob_uri, "to": [group_uri],
        "object": {"id": note_id, "type": "Note", "attributedTo": bob_uri, "to": [group_uri],
                   "content": "<p>Tu ne peux pas m'ignorer</p>",
                   "inReplyTo": f"{a.base_url}/posts/{post_id}"},
    }  # fmt: skip
    assert b.post_signed(group.member_name, f"{group_uri}/inbox", create).status_code == 202
    assert processed(a, create["id"]) == "not for us"
    assert a.sql("SELECT 1 FROM posts WHERE uri = $1", note_id) == []

    # Unblocking sends the Undo: B shows the blocker's posts again.
    [row] = a.sql("SELECT target_id FROM person_blocks")
    response = group.owner.post_form(
        f"/settings/muting/{row['target_id']}/unblock", {}, page="/settings/muting"
    )
    assert response.status_code == 303, response.text
    wait_until(lambda: not b.sql("SELECT 1 FROM person_blocks"))
    assert text in group.member.get("/following").text
