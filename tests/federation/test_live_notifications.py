"""Notifications across two live instances: a remote follow that succeeded and one that failed
are told to the person who asked; the group's moderator hears of the new follower."""

from __future__ import annotations

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
