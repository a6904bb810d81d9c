"""The search page: results a visitor may see, an address offered to follow, hostile queries."""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from tests.factories import make_account, make_group, make_post, snapshot
from tests.web.conftest import OpenVisitor


async def test_search_page_lists_posts_and_offers_to_follow_an_address(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    ana = await make_account(db, web_config, "ana")
    group = await make_group(db, web_config, ana, "jardin", name="Jardin partagé")
    post = await make_post(db, web_config, group, ana, "Les tomates sont mûres")
    browser = visitors("fr")
    await browser.log_in("ana")

    page = await browser.page("/search?q=tomate+mure")
    assert f"/posts/{post.id}" in [a.attrs.get("href") for a in page.find_all("a")]
    page = await browser.page("/search?q=%40camille%40mobilizon.example")
    form = page.one("form", action="/following")
    assert form.one("input", name="handle").attrs["value"] == "@camille@mobilizon.example"


async def test_a_huge_query_or_sql_syntax_gets_a_page_and_changes_nothing(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    await make_account(db, web_config, "ana")
    browser = visitors()
    before = await snapshot(db)
    for query in ("x" * 10_000, "'; DROP TABLE posts; --", "a & | ! ( :* <->"):
        response = await browser.get("/search", params={"q": query})
        assert response.status_code == 200
    assert await snapshot(db) == before
