"""Notifications across two live instances: a remote follow that succeeded and one that failed
are told to the person who asked; the group's moderator hears of the new follower; a person
mentioned from the other instance is told."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.federation.instances import LiveInstance, live_instances, wait_until
from tests.federation.test_live import browser, follow_from_b, followed_group, unique


@pytest.fixture(scope="module")
def pair(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveInstance, LiveInstance]]:
    with live_instances(tmp_path_factory.mktemp("live-notifications"), 2) as (a, b):
        yield a, b


def test_a_remote_follow_accepted_is_told_to_both_sides(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = followed_group(a, b)
    [named] = a.sql("SELECT display_name FROM actors WHERE name = $1", group.slug)

    wait_until(lambda: "You now follow" in group.follower.get("/notifications").text)
    page = group.follower.get("/notifications").text
    assert f"You now follow {named['display_name']}" in page
    owner_page = group.owner.get("/notifications").text
    assert "now follows" in owner_page and group.follower_name in owner_page


def test_a_remote_follow_that_failed_is_told_with_its_reason(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    name = unique("carol")
    b.create_user(name)
    member = browser(b, name)
    follow_from_b(b, member, a, "nobody_here")

    wait_until(lambda: "Could not follow" in member.get("/notifications").text)
    page = member.get("/notifications").text
    assert f"Could not follow @nobody_here@{a.domain}: that server has no such account" in page
    assert '<span class="badge">1<' in member.get("/").text  # the header counts it


def test_a_person_on_a_mentions_a_person_on_b_who_is_told(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    author, named, slug = unique("ana"), unique("bob"), unique("jardin")
    a.create_user(author)
    a.create_group(slug, author)
    b.create_user(named)  # follows nobody on A
    writer, reader = browser(a, author), browser(b, named)
    text = f"Merci @{named}@{b.domain} pour les graines !"

    response = writer.post_form(
        f"/groups/{slug}/posts", {"content": text, "content_warning": ""}, page=f"/groups/{slug}"
    )
    assert response.status_code == 303, response.text

    # A looked the handle up on B (WebFinger), tagged and addressed the person, delivered.
    [create] = wait_until(
        lambda: a.sql(
            "SELECT o.payload FROM outbox_activities o JOIN posts p ON p.id = o.post_id"
            " WHERE p.content = $1 AND o.type = 'Create'",
            text,
        )
    )
    note = json.loads(create["payload"])["object"]
    bob_uri = b.actor_uri(named)
    assert {"type": "Mention", "href": bob_uri, "name": f"@{named}@{b.domain}"} in note["tag"]
    assert bob_uri in note["cc"]
    served = a.ap_get(note["id"]).json()  # the Note fetched later says the same
    assert bob_uri in served["cc"] and note["tag"] == served["tag"]
    # B keeps the post for the person it names and tells them.
    wait_until(lambda: "mentioned you" in reader.get("/notifications").text)
    page = reader.get("/notifications").text
    assert f"{author} mentioned you" in page
    assert '<span class="badge">1<' in reader.get("/").text
