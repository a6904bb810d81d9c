"""A members-only group of A with a member on B: its library and its member list.

The group's library items reach the member's own inbox, addressed to them alone, and their
removal too; the item and its document answer only a member's (or their instance's) signed
fetch; B keeps them for the member alone. The group's followers collection lists its members
only to them; its members page is for its members. Nothing of it appears anywhere public.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.federation.instances import LiveInstance, live_instances, wait_until
from tests.federation.leaks import public_outbox_leaks, walk
from tests.federation.test_live import browser, unique
from tests.federation.test_live_members_only import circle, signed_get
from tests.federation.test_live_mutual import library_copy


@pytest.fixture(scope="module")
def pair(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveInstance, LiveInstance]]:
    with live_instances(tmp_path_factory.mktemp("members-library"), 2) as (a, b):
        yield a, b


def sent_activity(a: LiveInstance, uri: str) -> dict[str, Any]:
    [row] = wait_until(
        lambda: a.sql(
            "SELECT public, delivered, payload::text AS body FROM outbox_activities"
            " WHERE uri = $1 AND delivered = 1",
            uri,
        )
    )
    assert row["public"] is False
    assert "#Public" not in row["body"] and "/followers" not in row["body"]
    return dict(json.loads(row["body"]))


def test_a_members_only_library_reaches_the_remote_member_alone(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = circle(a, b)
    stranger_name = unique("carol")
    b.create_user(stranger_name)
    stranger = browser(b, stranger_name)
    token = secrets.token_hex(5)
    title = f"Numéros découte de nuit {token}"
    description = f"Quand rien ne va plus, appeler {token}"
    page = f"/groups/{group.slug}/library"
    response = group.owner.post_form(
        page,
        {"title": title, "description": description, "tags": "",
         "link": "https://example.org/ecoute"},
        page=page,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    document_title = f"Fiche de crise {token}"
    pdf = b"%PDF-1.4\n% " + token.encode() + b"\n%%EOF\n"
    response = group.owner.client.post(
        page,
        data={"title": document_title, "description": "", "tags": "", "link": "",
              "csrf_token": group.owner.token(page)},
        files={"document": ("crise.pdf", pdf, "application/pdf")},
    )  # fmt: skip
    assert response.status_code == 303, response.text
    ids = {
        r["title"]: r["id"]
        for r in a.sql("SELECT id, title FROM resources WHERE title LIKE $1", f"%{token}")
    }
    link_uri = f"{a.base_url}/library/{ids[title]}"
    document_uri = f"{a.base_url}/library/{ids[document_title]}"
    member_uri = b.actor_uri(group.member_name)
    group_uri = a.actor_uri(group.slug, "groups")

    # What A sent: the group's Create, to the member alone, to their own inbox, never listed.
    for uri in (link_uri, document_uri):
        create = sent_activity(a, f"{uri}/activity")
        assert (create["type"], create["actor"]) == ("Create", group_uri)
        assert (create["to"], create["cc"]) == ([member_uri], [])
        assert (create["object"]["to"], create["object"]["cc"]) == ([member_uri], [])
    # The document's address is the signed one, never the web's download.
    document_create = sent_activity(a, f"{document_uri}/activity")
    assert document_create["object"]["attachment"][0]["url"] == f"{document_uri}/document"

    # B keeps both for the member alone, in a members-only copy of the group.
    link = wait_until(lambda: library_copy(b, link_uri))
    document = wait_until(lambda: library_copy(b, document_uri))
    assert document["link"] == f"{document_uri}/document"
    [kept] = b.sql("SELECT group_id FROM resources WHERE id = $1", link["id"])
    [mirror] = b.sql("SELECT visibility FROM groups WHERE actor_id = $1", kept["group_id"])
    assert mirror["visibility"] == "members"
    assert title in group.member.get("/following").text
    assert token not in stranger.get("/following").text
    assert b.browser().get(f"/library/{link['id']}").status_code == 404
    assert stranger.get(f"/library/{link['id']}").status_code == 404

    # Fetching the item: the member or their instance; unsigned and strangers get 404.
    assert a.ap_get(link_uri).status_code == 404
    refused = signed_get(b, stranger_name, link_uri)
    assert refused.status_code == 404 and token not in refused.text
    fetched = signed_get(b, group.member_name, link_uri)
    assert fetched.status_code == 200 and fetched.json()["to"] == [member_uri]
    assert signed_get(b, None, link_uri).status_code == 200
    # The document's bytes: the same rule; the web's download is for members signed in on A.
    file_url = f"{document_uri}/document"
    assert httpx.get(file_url, timeout=10).status_code == 404
    assert signed_get(b, stranger_name, file_url).status_code == 404
    assert signed_get(b, group.member_name, file_url).content == pdf
    assert signed_get(b, None, file_url).content == pdf
    assert token not in a.browser().get(f"{document_uri}/file").text
    assert group.owner.get(f"{document_uri}/file").content == pdf

    # Nothing of it anywhere public on either instance, nor in a public outbox activity.
    leaks = walk(a, [token], ["écoute", "crise"]) + walk(b, [token], ["écoute", "crise"])
    assert leaks == []
    assert public_outbox_leaks(a, [token]) + public_outbox_leaks(b, [token]) == []

    # Removed on A: a Delete to the member alone, and B's copy goes.
    response = group.owner.post_form(f"/library/{ids[title]}/remove", {}, page=page)
    assert response.status_code == 303, response.text
    delete = sent_activity(a, f"{link_uri}#delete")
    assert (delete["type"], delete["to"], delete["cc"]) == ("Delete", [member_uri], [])
    wait_until(lambda: library_copy(b, link_uri) is None)
    assert title not in group.member.get("/following").text


def test_a_members_only_groups_member_list_is_for_its_members(
    pair: tuple[LiveInstance, LiveInstance],
) -> None:
    a, b = pair
    group = circle(a, b)
    stranger_name = unique("carol")
    b.create_user(stranger_name)
    member_uri = b.actor_uri(group.member_name)
    followers = f"{a.actor_uri(group.slug, 'groups')}/followers"

    # Anyone else: an empty collection, no count, no page of names.
    for response in (
        a.ap_get(followers),
        a.ap_get(f"{followers}?page=1"),
        signed_get(b, stranger_name, followers),
        signed_get(b, stranger_name, f"{followers}?page=1"),
    ):
        assert response.status_code == 200
        assert response.json()["totalItems"] == 0 and "first" not in response.json()
        assert group.member_name not in response.text
    # The member, and their instance fetching on their behalf, read who belongs.
    assert signed_get(b, group.member_name, followers).json()["totalItems"] == 1
    for signer in (group.member_name, None):
        page = signed_get(b, signer, f"{followers}?page=1").json()
        assert page["orderedItems"] == [member_uri]

    # On the web, the members page is for members: a visitor and a non-member of A see no name.
    outsider = unique("dave")
    a.create_user(outsider)
    for visitor in (a.browser(), browser(a, outsider)):
        response = visitor.get(f"/groups/{group.slug}/members")
        assert response.status_code == 403
        assert group.member_name not in response.text and group.owner_name not in response.text
    assert group.member_name in group.owner.get(f"/groups/{group.slug}/members").text
