"""The Note a mobilization is published as: a clear post for Mastodon (what, where, when and a
link in its text) and the full mobilization for Entraide peers, round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from federation.objects.mobilizations import is_mobilization, note_document, parse_mobilization
from federation.urls import Urls
from server.models import Mobilization
from server.services.mobilizations import render_mobilization

START = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def fed() -> Any:
    return SimpleNamespace(
        urls=Urls("https://entraide.example"), config=SimpleNamespace(language="fr")
    )


def mobilization() -> Mobilization:
    html = render_mobilization(
        "fr", "Rassemblement <contre> l'expulsion", "12 rue des Lilas", "2026-12-06 08:00",
        "Expulsion prévue à 9 h.", "Venez nombreux.", "critical",
    )  # fmt: skip
    return Mobilization(
        id=3, uri=None, url=None, group_id=1, group_name="voisins", group_domain=None,
        group_display_name="Voisins", author_id=2, what="Rassemblement <contre> l'expulsion",
        place="12 rue des Lilas", starts_at=START, why="Expulsion prévue à 9 h.",
        how_to_help="Venez nombreux.", urgency="critical", content_html=html, hops=0,
        created_at=START,
    )  # fmt: skip


def test_mastodon_reads_what_where_when_and_a_link_in_the_text() -> None:
    document = note_document(fed(), mobilization())

    content = document["content"]
    assert content.startswith("<p><strong>URGENT : Rassemblement &lt;contre&gt; l&#x27;expulsion")
    assert "Où : 12 rue des Lilas<br>Quand : 2026-12-06 08:00" in content
    assert '<a href="https://entraide.example/mobilizations/3">' in content
    assert "Note" in document["type"] and document["attributedTo"].endswith("/groups/voisins")


def test_entraide_peers_read_back_the_whole_mobilization() -> None:
    document = note_document(fed(), mobilization())

    assert is_mobilization(document)
    remote = parse_mobilization(document)

    assert (remote.what, remote.place, remote.starts_at, remote.urgency) == (
        "Rassemblement <contre> l'expulsion", "12 rue des Lilas", START, "critical",
    )  # fmt: skip
    assert (remote.why, remote.how_to_help) == ("Expulsion prévue à 9 h.", "Venez nombreux.")
