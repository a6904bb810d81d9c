"""Moderation across two live instances: Flags, bans, removals and blocked servers."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.federation.instances import LiveInstance, live_instances, wait_until
from tests.federation.test_live import browser, follow_from_b, follow_state, unique
from tests.federation.test_live_members_only import (
    circle,
    copy_on,
    membership,
    publish,
)


@pytest.fixture(scope="module")
def pair(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveInstance, LiveInstance]]:
    with live_instances(tmp_path_factory.mktemp("moderation"), 2) as (a, b):
        yield a, b


TABLES = ("posts", "memberships", "follows", "reports", "group_bans", "moderation_log")


def rows(instance: LiveInstance) -> dict[str, Any]:
    """Return every row of the tables a moderation case could change."""
    return {t: instance.sql(f"SELECT * FROM {t} ORDER BY 1, 2") for t in TABLES}  # fixed names


def processed(instance: LiveInstance, activity_id: str) -> str:
    [row] = wait_until(
        lambda: instance.sql(
            "SELECT outcome FROM inbox_activities WHERE activity_id = $1 AND outcome IS NOT NULL",
            activity_id,
        )
    )
    return str(row["outcome"])


def test_flag_is_sent_without_the_reporter_and_lands_in_the_queue(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = circle(a, b)
    text = f"Un message hostile {secrets.token_hex(4)}"
    post_id = publish(a, group, text)
    copy = wait_until(lambda: copy_on(b, f"{a.base_url}/posts/{post_id}"))

    # The member on B reports A's post, and asks B to tell A.
    response = group.member.post_form(
        f"/posts/{copy['id']}/report",
        {"reason": "Propos blessants envers un membre", "forward": "on"},
        page=f"/posts/{copy['id']}/report",
    )
    assert response.status_code == 303, response.text
    [sent] = wait_until(
        lambda: b.sql("SELECT payload::text AS body FROM outbox_activities WHERE type = 'Flag'"
                      " AND delivered = 1")
    )  # fmt: skip
    flag = json.loads(sent["body"])
    assert flag["actor"] == f"{b.base_url}/actor"
    assert flag["object"] == [a.actor_uri(group.owner_name), f"{a.base_url}/posts/{post_id}"]
    assert group.member_name not in sent["body"]
    # A keeps it in the queue its admins and the group's moderators read.
    [report] = wait_until(lambda: a.sql("SELECT * FROM reports WHERE origin_domain = $1", b.domain))
    assert report["post_id"] == post_id and report["reporter_id"] is None
    assert "Propos blessants" in group.owner.get(f"/groups/{group.slug}/moderation").text


def test_forged_flag_changes_nothing(pair: tuple[LiveInstance, LiveInstance]) -> None:
    a, b = pair
    group = circle(a, b)
    post_id = publish(a, group, f"Message {secrets.token_hex(4)}")
    before = rows(a)
    # Signed by a person of B, claiming to come from B's instance actor: refused at the door.
    forged = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{b.base_url}/reports/{secrets.token_hex(4)}", "type": "Flag",
        "actor": f"{b.base_url}/actor", "content": "faux",
        "object": [f"{a.base_url}/posts/{post_id}"],
    }  # fmt: skip
    response = b.post_signed(group.member_name, f"{a.base_url}/inbox", forged)
    assert response.status_code == 401
    # A Flag naming nothing of A's: stored as received, ignored.
    elsewhere = dict(forged, actor=b.actor_uri(group.member_name),
                     id=f"{b.base_url}/reports/{secrets.token_hex(4)}",
                     object=["https://ailleurs.example/users/x"])  # fmt: skip
    assert b.post_signed(group.member_name, f"{a.base_url}/inbox", elsewhere).status_code == 202
    assert processed(a, elsewhere["id"]).startswith("ignored")
    assert rows(a) == before


def test_delete_of_a_group_post_by_a_remote_non_moderator_changes_nothing(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = circle(a, b)
    post_id = publish(a, group, f"Message {secrets.token_hex(4)}")
    before = rows(a)
    author = b.actor_uri(group.member_name)
    delete = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{author}#deletes/{secrets.token_hex(4)}", "type": "Delete", "actor": author,
        "object": {"id": f"{a.base_url}/posts/{post_id}", "type": "Tombstone"},
    }  # fmt: skip
    assert b.post_signed(group.member_name, f"{a.base_url}/inbox", delete).status_code == 202
    assert processed(a, delete["id"]).startswith("refused")
    assert rows(a) == before


def test_moderator_removal_reaches_members_as_a_delete_by_the_group(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = circle(a, b)
    post_id = publish(a, group, f"À retirer {secrets.token_hex(4)}")
    copy = wait_until(lambda: copy_on(b, f"{a.base_url}/posts/{post_id}"))
    moderator_name = unique("mod")
    a.create_user(moderator_name)
    [mod] = a.sql("SELECT id FROM actors WHERE name = $1", moderator_name)
    a.sql(
        "INSERT INTO memberships (group_id, actor_id, role, state)"
        " SELECT id, $2, 'moderator', 'active' FROM actors WHERE name = $1",
        group.slug, mod["id"],
    )  # fmt: skip
    moderator = browser(a, moderator_name)
    response = moderator.post_form(
        f"/posts/{post_id}/delete", {"confirm": "yes"}, page=f"/posts/{post_id}"
    )
    assert response.status_code == 303, response.text
    wait_until(lambda: b.sql("SELECT 1 FROM posts WHERE id = $1 AND deleted_at IS NOT NULL",
                             copy["id"]))  # fmt: skip
    [sent] = a.sql("SELECT actor_id, public FROM outbox_activities WHERE uri LIKE '%/removals/%'"
                   " AND post_id = $1", post_id)  # fmt: skip
    assert sent["public"] is False
    log = a.sql("SELECT action, moderator_id FROM moderation_log WHERE target = $1",
                f"post {post_id}")  # fmt: skip
    assert log == [{"action": "remove_post", "moderator_id": mod["id"]}]


def test_banned_remote_person_cannot_follow_again_nor_post(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = circle(a, b)
    post_id = publish(a, group, f"Avant le bannissement {secrets.token_hex(4)}")
    response = group.owner.post_form(
        f"/groups/{group.slug}/bans",
        {"handle": f"@{group.member_name}@{b.domain}", "reason": "Harcèlement"},
        page=f"/groups/{group.slug}/moderation",
    )
    assert response.status_code == 303, response.text
    wait_until(lambda: follow_state(b, group.member_name, group.slug) is None)
    assert membership(a, group.slug, group.member_id_on_a) is None

    # The banned person follows again: Rejected at once, no membership, no follow.
    follow_from_b(b, group.member, a, group.slug)
    wait_until(
        lambda: a.sql(
            "SELECT 1 FROM outbox_activities WHERE type = 'Reject' AND delivered = 1"
            " AND payload::text LIKE $1", f"%{group.member_name}%",
        ) and follow_state(b, group.member_name, group.slug) is None
    )  # fmt: skip
    assert membership(a, group.slug, group.member_id_on_a) is None
    assert follow_state(a, group.member_name, group.slug) is None
    # And a reply to the group's post is not kept.
    author = b.actor_uri(group.member_name)
    group_uri = a.actor_uri(group.slug, "groups")
    note_id = f"{author}/notes/{secrets.token_hex(6)}"
    create = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity", "type": "Create", "actor": author, "to": [group_uri],
        "object": {"id": note_id, "type": "Note", "attributedTo": author, "to": [group_uri],
                   "content": "<p>Je reviens</p>", "inReplyTo": f"{a.base_url}/posts/{post_id}"},
    }  # fmt: skip
    assert b.post_signed(group.member_name, f"{group_uri}/inbox", create).status_code == 202
    assert processed(a, create["id"]) == "not for us"
    assert a.sql("SELECT 1 FROM posts WHERE uri = $1", note_id) == []


def test_blocked_server_is_refused_and_gets_nothing(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = circle(a, b)
    admin_name = unique("admin")
    a.create_user(admin_name, admin=True)
    admin = browser(a, admin_name)
    response = admin.post_form(
        "/admin/moderation/block_domain", {"domain": b.domain, "reason": "Spam"},
        page="/admin/moderation",
    )  # fmt: skip
    assert response.status_code == 303, response.text
    before = rows(a)
    author = b.actor_uri(group.member_name)
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{author}#likes/{secrets.token_hex(4)}", "type": "Like", "actor": author,
        "object": f"{a.base_url}/posts/1",
    }  # fmt: skip
    refused = b.post_signed(group.member_name, f"{a.base_url}/inbox", like)
    assert refused.status_code == 403
    assert "does not accept" in refused.text
    assert a.sql("SELECT 1 FROM inbox_activities WHERE activity_id = $1", like["id"]) == []
    # A post of the group is queued to no inbox of the blocked server.
    post_id = publish(a, group, f"Après le blocage {secrets.token_hex(4)}")
    wait_until(lambda: not a.sql("SELECT 1 FROM jobs WHERE kind = 'federate_post'"))
    assert a.sql(
        "SELECT d.inbox FROM deliveries d JOIN outbox_activities o ON o.id = d.activity_id"
        " WHERE o.post_id = $1", post_id,
    ) == []  # fmt: skip
    assert a.sql("SELECT delivered FROM outbox_activities WHERE post_id = $1", post_id) in (
        [], [{"delivered": 0}],
    )  # fmt: skip
    after = rows(a)
    assert after["posts"][:-1] == before["posts"] and after["reports"] == before["reports"]
