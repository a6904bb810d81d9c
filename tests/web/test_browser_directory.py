"""In headless Chromium: a group made with its topics, place and language through the form,
then found (and the others not) by combining the directory's filters, page after page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from server.config import Config
from server.db import create_pool
from server.services import groups
from tests.conftest import _run
from tests.factories import make_account
from tests.web.test_browser import PASSWORD, browser, live_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def seed(pg_url: str, config: Config) -> None:
    """Ana, and public groups on other topics, places and languages; enough for two pages."""

    async def go() -> None:
        pool = await create_pool(pg_url)
        try:
            ana = await make_account(pool, config, "ana")
            others = [
                ("velo_lyon", ["material"], "Lyon", "fr"),
                ("listen_lyon", ["emotional"], "Lyon", "en"),
                ("ecoute_paris", ["emotional"], "Paris", "fr"),
            ]
            others += [(f"ecoute_{n}", ["emotional"], "Lyon", "fr") for n in range(20)]
            for slug, topics, place, language in others:
                await groups.create_group(
                    pool, config, ana, slug=slug, name=slug.replace("_", " ").title(),
                    topics=topics, place=place, language=language,
                )  # fmt: skip
        finally:
            await pool.close()

    _run(go())


def test_a_group_made_with_its_topics_is_found_by_the_directory_filters(
    browser: Browser,  # noqa: F811
    live_server: str,  # noqa: F811
    pg_url: str,
    web_config: Config,
) -> None:
    seed(pg_url, web_config)
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.locator("#f-username").fill("ana")
    page.locator("#f-password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()

    page.goto(live_server + "/groups/new")
    page.locator("#f-name").fill("Cercle d'écoute")
    page.locator("#f-slug").fill("cercle")
    page.get_by_label("Soutien émotionnel, partage d\u2019expérience").check()
    page.get_by_label("Compagnie, ne pas rester seul·e").check()
    page.locator("#f-place").fill("Lyon Croix-Rousse")
    expect(page.locator("#f-language")).to_have_value("fr")  # the page's language
    page.get_by_role("button", name="Créer le groupe").click()
    expect(page).to_have_url(f"{live_server}/groups/cercle")

    page.goto(live_server + "/directory")
    page.locator("#f-topic").select_option("emotional")
    page.locator("#f-place").fill("croix-rousse")
    page.locator("#f-language").select_option("fr")
    page.get_by_role("button", name="Filtrer").click()
    results = page.locator("main ul.directory > li")
    expect(results).to_have_count(1)
    expect(results.first.locator('a[href="/groups/cercle"]')).to_be_visible()
    expect(page.locator("#f-topic")).to_have_value("emotional")  # the filters stay chosen

    # Emotional support in Lyon, in French: the circle and twenty others, over two pages,
    # the page links keeping the filters.
    page.locator("#f-place").fill("lyon")
    page.get_by_role("button", name="Filtrer").click()
    expect(results).to_have_count(20)
    page.get_by_role("link", name="Page suivante").click()
    expect(results).to_have_count(1)
    expect(page).to_have_url(
        f"{live_server}/directory?topic=emotional&place=lyon&language=fr&page=2"
    )
    shown = " ".join(results.all_inner_texts()) + " ".join(
        page.locator("main ul.directory").all_inner_texts()
    )
    for excluded in ("Velo Lyon", "Listen Lyon", "Ecoute Paris"):
        assert excluded not in shown
    page.get_by_role("link", name="Page précédente").click()
    expect(results).to_have_count(20)
    context.close()
