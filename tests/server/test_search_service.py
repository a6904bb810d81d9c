"""Search: French and English words with or without accents, ranked; members-only texts for
members only; an address elsewhere offered to follow; hostile queries change nothing."""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from server.services import search
from tests.factories import (
    make_account,
    make_accounts,
    make_event,
    make_group,
    make_member,
    make_post,
    snapshot,
)

HOST = "127.0.0.1:8000"


def titles(hits: list[search.SearchHit]) -> list[str]:
    return [hit.text for hit in hits]


async def test_words_are_found_in_both_languages_without_their_accents(
    db: Pool, config: Config
) -> None:
    ana = await make_account(db, config, "ana")
    group = await make_group(db, config, ana, "quartier", name="Épicerie du quartier")
    await make_post(db, config, group, ana, "Les réparations de vélos reprennent samedi")
    await make_post(db, config, group, ana, "We are repairing bikes on Saturday")
    await make_post(db, config, group, ana, "Rien à voir ici")
    await make_event(db, group, ana, title="Atelier vélo", description="Réparer ensemble")

    found = await search.search(db, None, "velo reparations", HOST)
    assert titles(found.posts) == ["Les réparations de vélos reprennent samedi"]
    # French stemming: "réparations" and "Réparer" share their stem.
    assert [e.title for e in found.events] == ["Atelier vélo"]
    assert titles((await search.search(db, None, "repair bike", HOST)).posts) == [
        "We are repairing bikes on Saturday"
    ]
    assert [e.title for e in (await search.search(db, None, "atelier", HOST)).events] == [
        "Atelier vélo"
    ]
    assert [g.title for g in (await search.search(db, None, "epicerie", HOST)).groups] == [
        "Épicerie du quartier"
    ]
    assert [p.link for p in (await search.search(db, None, "ana", HOST)).people] == ["/users/ana"]


async def test_a_members_only_text_is_found_by_its_members_only(db: Pool, config: Config) -> None:
    ana, bea, cam = await make_accounts(db, config, "ana", "bea", "cam")
    circle = await make_group(db, config, ana, "cercle", name="Cercle", visibility="members")
    await make_member(db, circle, bea)
    await make_post(db, config, circle, ana, "Ma fatigue d'aidante ce mois-ci")

    assert titles((await search.search(db, bea, "fatigue", HOST)).posts)
    assert titles((await search.search(db, cam, "fatigue", HOST)).posts) == []
    assert titles((await search.search(db, None, "fatigue", HOST)).posts) == []
    assert (await search.search(db, cam, "cercle", HOST)).groups == []


async def test_a_handle_or_url_is_offered_to_follow_and_not_searched(
    db: Pool, config: Config
) -> None:
    found = await search.search(db, None, "camille@mobilizon.example", HOST)
    assert found.remote == "@camille@mobilizon.example"
    assert (await search.search(db, None, "https://m.example/@x", HOST)).remote
    assert (await search.search(db, None, f"@ana@{HOST}", HOST)).remote is None


async def test_a_huge_query_or_sql_syntax_finds_nothing_and_changes_nothing(
    db: Pool, config: Config
) -> None:
    ana = await make_account(db, config, "ana")
    group = await make_group(db, config, ana)
    await make_post(db, config, group, ana, "Bonjour")
    before = await snapshot(db)

    huge = await search.search(db, None, "bonjour " * 1250, HOST)
    assert len(huge.query) <= search.MAX_QUERY
    for query in ("'; DROP TABLE posts; --", "a & | ! ( ) :* <->", '"unclosed', "\x00", "--"):
        await search.search(db, None, query, HOST)
    assert await snapshot(db) == before
