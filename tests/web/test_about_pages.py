"""The /about page written by administrators, refused to others; the directory of groups."""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from tests.factories import make_account, make_group, snapshot
from tests.web.conftest import OpenVisitor
from tests.web.markup import parse


async def test_an_admin_writes_the_about_page_everyone_reads(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "alix", is_admin=True)
    admin = visitors()
    await admin.log_in("alix")
    response = await admin.post(
        "/admin/about",
        {"description": "Le collectif du quartier.", "rules": "Bienveillance.",
         "contact": "contact@quartier.example"},
    )  # fmt: skip
    assert response.status_code == 303

    page = await visitors().page("/about")
    assert "Le collectif du quartier." in page.text and "Bienveillance." in page.text
    assert "contact@quartier.example" in page.text
    assert "/users/alix" in [a.attrs.get("href") for a in page.find_all("a")]


async def test_someone_not_admin_cannot_change_the_about_page(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "bea")
    browser = visitors()
    await browser.log_in("bea")
    before = await snapshot(db)
    response = await browser.post(
        "/admin/about", {"description": "Pris !", "rules": "", "contact": ""}
    )
    assert response.status_code == 403
    assert await snapshot(db) == before


async def test_the_directory_lists_public_groups_and_filters_them(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    ana = await make_account(db, web_config, "ana")
    await make_group(db, web_config, ana, "velo", name="Atelier vélo", description="À Lyon")
    await make_group(db, web_config, ana, "jardin", name="Jardin", description="Paris")
    await make_group(db, web_config, ana, "cercle", name="Cercle lyonnais", visibility="members")
    browser = visitors()

    links = [a.attrs.get("href") for a in (await browser.page("/directory")).find_all("a")]
    assert "/groups/velo" in links and "/groups/jardin" in links
    assert "/groups/cercle" not in links
    filtered = await browser.page("/directory?q=lyon+velo")
    links = [a.attrs.get("href") for a in filtered.find_all("a")]
    assert "/groups/velo" in links and "/groups/jardin" not in links


async def test_a_group_form_sets_topics_place_and_language_and_refuses_bad_ones(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "ana")
    browser = visitors("fr")
    await browser.log_in("ana")
    form = await browser.page("/groups/new")
    assert form.one("input", id="f-topic-emotional").attrs.get("checked") is None
    assert form.one("option", value="fr").attrs.get("selected") is not None
    assert "Soutien émotionnel, partage d\u2019expérience" in form.text

    fields = {"name": "Écoute", "slug": "ecoute", "visibility": "public", "join_policy": "open"}
    before = await snapshot(db)
    response = await browser.post("/groups", {**fields, "topics": "horoscope", "language": ""})
    assert response.status_code == 422
    page = parse(response.text)
    errors = [p.text for p in page.find_all("p", class_="error")]
    assert errors == ["Choisissez parmi les thèmes proposés.", "Choisissez la langue du groupe."]
    assert await snapshot(db) == before
    response = await browser.post(
        "/groups", {**fields, "topics": "emotional", "language": "fr"}, with_token=False
    )
    assert response.status_code == 403
    assert await snapshot(db) == before

    response = await browser.client.post(
        "/groups",
        data={**fields, "topics": ["emotional", "companionship"], "place": "Lyon",
              "language": "fr", "csrf_token": await browser.token()},
    )  # fmt: skip
    assert response.status_code == 303
    settings = await browser.page("/groups/ecoute/settings")
    checked = [i.attrs["value"] for i in settings.find_all("input", name="topics")
               if i.attrs.get("checked") is not None]  # fmt: skip
    assert checked == ["emotional", "companionship"]
    assert settings.one("input", id="f-place").attrs["value"] == "Lyon"

    english = visitors("en")
    await english.log_in("ana")
    response = await english.post(
        "/groups/ecoute/settings",
        {"name": "Écoute", "description": "", "rules": "", "visibility": "public",
         "join_policy": "open", "topics": "emotional", "place": "Lyon", "language": "xx"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Choose the group's language." in parse(response.text).text


async def test_the_directory_filters_by_topic_place_and_language_from_the_query_string(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    ana = await make_account(db, web_config, "ana")
    for slug, topics, place, language in [
        ("velo", ["material"], "Lyon", "fr"),
        ("ecoute", ["emotional"], "Lyon", "fr"),
        ("listen", ["emotional"], "Lyon", "en"),
        ("paris", ["emotional"], "Paris", "fr"),
    ]:
        await make_group(db, web_config, ana, slug, topics=topics, place=place, language=language)
    browser = visitors()

    page = await browser.page("/directory?topic=emotional&place=lyon&language=fr")
    links = [a.attrs.get("href") for a in page.find_all("a")]
    assert "/groups/ecoute" in links
    assert not {"/groups/velo", "/groups/listen", "/groups/paris"} & set(links)
    assert (
        page.one("select", id="f-topic").one("option", value="emotional").attrs.get("selected")
        is not None
    )
    assert "Emotional support, sharing experience" in page.text and "Français" in page.text
    # Hostile values: shown as typed, taken as "any", nothing breaks.
    page = await browser.page("/directory?topic=%27%3B--&place=%3Cscript%3E&page=abc")
    assert page.one("input", id="f-place").attrs["value"] == "<script>"
