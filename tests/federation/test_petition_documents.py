"""The Question a petition is published as: what Mastodon reads (a single-option poll, its
tally, its end) and what Entraide peers read back (the extension terms), round trip."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from federation.objects.petitions import is_petition, is_vote, parse_petition, question_document
from federation.urls import Urls
from server.models import Petition

NOW = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)
PETITION = Petition(
    id=7, uri=None, url=None, group_id=3, group_name="voisins", group_domain=None,
    group_display_name="Voisins", author_id=1, title="Un local <chauffé>", body="",
    body_html="<p>Nous demandons la salle.</p>", addressee="Mairie & préfecture", goal=500,
    deadline=None, status="open", status_note="", option_name="Je signe", signature_count=132,
    created_at=NOW, updated_at=NOW, is_open=True,
)  # fmt: skip


def fed(language: str = "fr") -> Any:
    return SimpleNamespace(
        urls=Urls("https://entraide.example"), config=SimpleNamespace(language=language)
    )


def test_question_is_a_single_option_poll_with_its_count_and_an_end() -> None:
    document = question_document(fed(), PETITION)

    assert document["type"] == ["Question", "Petition"]
    assert document["attributedTo"] == "https://entraide.example/groups/voisins"
    assert document["oneOf"] == [
        {"type": "Note", "name": "Je signe", "replies": {"type": "Collection", "totalItems": 132}}
    ]
    assert document["votersCount"] == 132
    assert document["endTime"] == "2027-12-05T17:00:00Z"  # no deadline: a year on
    assert "closed" not in document
    assert "Un local &lt;chauffé&gt;" in document["content"]
    assert "Mairie &amp; préfecture" in document["content"]


def test_a_status_change_is_in_the_text_mastodon_shows_and_closes_the_poll() -> None:
    won = dataclasses.replace(
        PETITION, status="won", status_note="Salle ouverte", is_open=False,
        updated_at=NOW + timedelta(days=3),
    )  # fmt: skip

    document = question_document(fed("en"), won)

    assert "<p><strong>Won</strong> — Salle ouverte</p>" in document["content"]
    assert document["closed"] == "2026-12-08T17:00:00Z"
    assert document["petitionStatus"] == "won"


def test_entraide_peers_read_back_the_whole_petition() -> None:
    deadline = NOW + timedelta(days=30)
    document = question_document(fed(), dataclasses.replace(PETITION, deadline=deadline))

    assert is_petition(document) and not is_vote(document)
    remote = parse_petition(document)

    assert (remote.title, remote.addressee, remote.goal, remote.count) == (
        "Un local <chauffé>", "Mairie & préfecture", 500, 132,
    )  # fmt: skip
    assert remote.deadline == deadline
    assert remote.body_html == "<p>Nous demandons la salle.</p>"
    assert parse_petition(question_document(fed(), PETITION)).deadline is None


def test_a_mastodon_vote_is_a_vote_and_a_reply_is_not() -> None:
    vote = {"id": "https://m.example/users/bob#votes/1", "type": "Note", "name": "Je signe",
            "inReplyTo": "https://entraide.example/petitions/7"}  # fmt: skip
    assert is_vote(vote)
    assert not is_vote({**vote, "content": "<p>Je signe !</p>"})
    assert not is_vote({k: v for k, v in vote.items() if k != "inReplyTo"})
