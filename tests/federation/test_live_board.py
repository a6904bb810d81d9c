"""Needs and offers across two live instances: a need of A's group shows on B's board for the
member who follows it; their private answer from B stays private on both sides; fulfilled on A
reaches B."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.federation.instances import LiveInstance, live_instances, wait_until
from tests.federation.remote import wait_quiet
from tests.federation.test_live import browser, followed_group

SECRET = "Je peux vous conduire, appelez-moi"


@pytest.fixture(scope="module")
def pair(pg_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with live_instances(tmp_path_factory.mktemp("board"), 2) as instances:
        yield instances


def copy_on_b(b: LiveInstance, uri: str) -> dict[str, Any] | None:
    rows = b.sql(
        "SELECT id, kind, category, state, valid_until, area FROM board_items WHERE uri = $1", uri
    )
    return rows[0] if rows else None


def test_need_federates_private_answer_stays_private_fulfilled_reaches_b(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = followed_group(a, b)
    until = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    form = {
        "kind": "need", "category": "transport", "title": "Trajet jusqu'à l'hôpital",
        "details": "Mardi 9 h.", "area": "Belleville", "valid_until": until,
        "answers": "private",
    }  # fmt: skip
    board = f"/groups/{group.slug}/board"
    response = group.owner.post_form(board, form, page=board)
    assert response.status_code == 303, response.text
    item_id = int(response.headers["location"].rsplit("/", 1)[1])
    uri = f"{a.base_url}/board/{item_id}"

    # B keeps it with its kind, category, state and validity, and shows it to the follower.
    on_b = wait_until(lambda: copy_on_b(b, uri))
    assert (on_b["kind"], on_b["category"], on_b["state"], on_b["area"]) == (
        "need", "transport", "open", "Belleville",
    )  # fmt: skip
    follower = browser(b, group.follower_name)
    assert f'href="/board/{on_b["id"]}"' in follower.get("/board").text
    # What Mastodon reads: a Note of the group with hashtags and the validity date.
    note = a.ap_get(uri).json()
    assert note["type"] == "Note" and note["attributedTo"] == a.actor_uri(group.slug, "groups")
    assert "#<span>besoin</span>" in note["content"] and until in note["content"]
    assert (note["boardKind"], note["boardState"]) == ("need", "open")

    # B's member answers privately, on B.
    page = f"/board/{on_b['id']}"
    response = follower.post_form(f"{page}/answers", {"content": SECRET}, page=page)
    assert response.status_code == 303, response.text
    answer = wait_until(
        lambda: a.sql("SELECT public, content_html FROM board_answers WHERE item_id = $1", item_id)
    )[0]
    assert answer["public"] is False and SECRET in answer["content_html"]
    assert b.sql("SELECT public FROM board_answers")[0]["public"] is False
    # The poster reads it; nobody else does, on either side; it is no post and no Announce.
    assert SECRET in group.owner.get(f"/board/{item_id}").text
    assert SECRET not in a.browser().get(f"/board/{item_id}").text
    wait_quiet(a.database_url)
    for instance in (a, b):
        assert instance.sql("SELECT 1 FROM posts WHERE content_html LIKE $1", f"%{SECRET}%") == []
    outgoing = a.sql("SELECT payload FROM outbox_activities")
    assert not any(SECRET in json.dumps(json.loads(r["payload"])) for r in outgoing)

    # Fulfilled on A: B's copy follows and leaves B's board.
    response = group.owner.post_form(
        f"/board/{item_id}/close", {"state": "fulfilled"}, page=f"/board/{item_id}"
    )
    assert response.status_code == 303, response.text
    wait_until(lambda: (copy_on_b(b, uri) or {}).get("state") == "fulfilled")
    assert f'href="/board/{on_b["id"]}"' not in follower.get("/board").text


NOTE = "Dispo pour écouter ce soir, au 06 12 34 56 78"


def test_availability_never_leaves_the_group(pair: tuple[LiveInstance, LiveInstance]) -> None:
    a, b = pair
    group = followed_group(a, b)
    page = f"/groups/{group.slug}/availability"
    response = group.owner.post_form(page, {"minutes": "60", "note": NOTE}, page=page)
    assert response.status_code == 303, response.text
    assert NOTE in group.owner.get(page).text  # the members see it (the test can fail)
    # A post and a need of the group, so that feeds and collections have something in them.
    until = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    board = f"/groups/{group.slug}/board"
    group.owner.post_form(
        board, {"kind": "offer", "category": "listening", "title": "Écoute", "details": "",
                "valid_until": until, "answers": "private"}, page=board,
    )  # fmt: skip
    wait_quiet(a.database_url)

    # Outsiders: an anonymous visitor, and peers fetching documents.
    anonymous = a.browser()
    assert anonymous.get(page).status_code in (302, 303)
    group_uri = a.actor_uri(group.slug, "groups")
    [owner] = a.sql(
        "SELECT a.name FROM memberships m JOIN actors a ON a.id = m.actor_id"
        " WHERE m.group_id = $1 AND m.role = 'owner'",
        group.group_id_on_a,
    )
    html_pages = [
        "/", f"/groups/{group.slug}", board, f"/groups/{group.slug}/events",
        f"/groups/{group.slug}/members", "/events", f"/users/{owner['name']}",
    ]  # fmt: skip
    feeds = [f"/groups/{group.slug}/calendar.ics", "/events.ics"]
    documents = [
        group_uri, f"{group_uri}/outbox", f"{group_uri}/outbox?page=true",
        f"{group_uri}/followers", f"{group_uri}/featured", "/nodeinfo/2.1",
        a.actor_uri(owner["name"], "users"),
        f"/.well-known/webfinger?resource=acct:{group.slug}@{a.domain}",
    ]  # fmt: skip
    seen = []
    for path in html_pages + feeds:
        response = anonymous.get(path)
        seen.append((path, response.status_code, NOTE in response.text))
    for path in documents:
        response = a.ap_get(path)
        seen.append((path, response.status_code, NOTE in response.text))
    assert [s for s in seen if s[2]] == []
    assert all(status == 200 for _path, status, _found in seen), seen
    # Nothing sent, nothing queued, nothing on B.
    for row in a.sql("SELECT payload::text AS p FROM outbox_activities"):
        assert NOTE not in row["p"]
    for row in a.sql("SELECT payload::text AS p FROM jobs"):
        assert NOTE not in row["p"]
    assert b.sql("SELECT 1 FROM availabilities") == []
    for row in b.sql("SELECT payload::text AS p FROM inbox_activities"):
        assert NOTE not in row["p"]
