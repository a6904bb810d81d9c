"""The /about page written by administrators, refused to others; the directory of groups."""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from tests.factories import make_account, make_group, snapshot
from tests.web.conftest import OpenVisitor


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
