"""Pages of the board: a member posts a need, another answers privately, the poster marks it
fulfilled and it leaves the board; filters; matches; bad forms change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.config import Config
from server.db import Pool
from tests.factories import make_account, make_group, make_member, snapshot
from tests.web.conftest import OpenVisitor
from tests.web.markup import field_error
from tests.web.visitor import Visitor


def in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


NEED = {
    "kind": "need",
    "category": "transport",
    "title": "Trajet jusqu'à l'hôpital mardi",
    "details": "Rendez-vous à 9 h.",
    "area": "Belleville",
    "answers": "private",
}


async def members(
    visitors: OpenVisitor, db: Pool, config: Config, *names: str
) -> tuple[list[Visitor], str]:
    accounts = [await make_account(db, config, name) for name in names]
    group = await make_group(db, config, accounts[0], "voisins")
    result = []
    for account in accounts:
        if account is not accounts[0]:
            await make_member(db, group, account)
        visitor = visitors()
        assert (await visitor.log_in(account.username)).status_code == 303
        result.append(visitor)
    return result, "voisins"


async def post_item(visitor: Visitor, slug: str, **form: str) -> str:
    response = await visitor.post(
        f"/groups/{slug}/board", {**NEED, "valid_until": in_days(3), **form}
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


async def test_need_answered_privately_then_fulfilled_leaves_the_board(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    (poster, helper, other), slug = await members(visitors, db, web_config, "rose", "malik", "ines")
    url = await post_item(poster, slug)
    board = await helper.page(f"/groups/{slug}/board")
    assert board.find("a", href=url) is not None

    response = await helper.post(
        f"{url}/answers", {"content": "Je peux vous conduire.", "may_name": "yes"}
    )
    assert response.status_code == 303
    assert "Je peux vous conduire." in (await poster.page(url)).text
    assert "Je peux vous conduire." in (await helper.page(url)).text
    assert "Je peux vous conduire." not in (await other.page(url)).text
    assert "Je peux vous conduire." not in (await visitors().page(url)).text

    helper_id = (await poster.page(url)).one("select", name="helper").find_all("option")[1]
    response = await poster.post(
        f"{url}/close", {"state": "fulfilled", "helper": helper_id.attrs["value"]}
    )
    assert response.status_code == 303
    page = await visitors().page(url)
    assert "malik" in page.one("p", class_="status").text
    board = await visitors().page(f"/groups/{slug}/board")
    assert board.find("a", href=url) is None
    assert "1 need met this month" in board.one("p", class_="board-met").text


async def test_the_board_filters_and_lists_matches_for_the_poster(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    (rose, malik), slug = await members(visitors, db, web_config, "rose", "malik")
    need = await post_item(rose, slug)
    offer = await post_item(malik, slug, kind="offer", title="Voiture libre le mardi", area="")
    food = await post_item(malik, slug, kind="offer", category="food", title="Soupe")

    page = await rose.page(f"/groups/{slug}/board?kind=offer&category=transport")
    listed = page.one("section", **{"aria-labelledby": "board-items"})
    assert listed.find("a", href=offer) is not None
    assert listed.find("a", href=need) is None and listed.find("a", href=food) is None
    matches = page.one("section", class_="board-matches")
    assert matches.find("a", href=offer) is not None and matches.find("a", href=food) is None
    # The one who offered sees the need that matches it.
    assert (
        (await malik.page(f"/groups/{slug}/board"))
        .one("section", class_="board-matches")
        .find("a", href=need)
    )


async def test_a_date_in_the_past_is_refused_and_changes_nothing(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    (rose,), slug = await members(visitors, db, web_config, "rose")
    before = await snapshot(db)
    response = await rose.post(f"/groups/{slug}/board", {**NEED, "valid_until": in_days(-1)})
    assert response.status_code == 422
    from tests.web.markup import parse

    assert field_error(parse(response.text), "valid_until")
    assert await snapshot(db) == before


async def test_someone_else_cannot_close_an_item(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    (rose, malik), slug = await members(visitors, db, web_config, "rose", "malik")
    url = await post_item(rose, slug)
    before = await snapshot(db)
    response = await malik.post(f"{url}/close", {"state": "fulfilled"})
    assert response.status_code == 403
    assert await snapshot(db) == before


async def test_the_poster_replies_to_a_private_answer_on_the_items_page(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    (poster, helper, other), slug = await members(visitors, db, web_config, "rosa", "malo", "inna")
    url = await post_item(poster, slug)
    await helper.post(f"{url}/answers", {"content": "Je peux vous conduire."})
    form = (await poster.page(url)).one("form", class_="answer-reply")
    assert (await helper.page(url)).find("form", class_="answer-reply") is None

    response = await poster.post(form.attrs["action"], {"content": "Merci, à 8 h 30 ?"})

    assert response.status_code == 303
    assert "Merci, à 8 h 30 ?" in (await helper.page(url)).text
    assert "Merci, à 8 h 30 ?" not in (await other.page(url)).text
    assert "Merci, à 8 h 30 ?" not in (await visitors().page(url)).text
    # Nobody but the poster replies: the same form from the answerer is refused.
    before = await snapshot(db)
    response = await helper.post(form.attrs["action"], {"content": "Moi aussi"})
    assert response.status_code == 403
    assert await snapshot(db) == before
