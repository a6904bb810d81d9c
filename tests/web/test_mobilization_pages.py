"""Pages of mobilizations and alliances: two groups ally from their pages, one publishes an
urgent mobilization, the other relays it, the organizers see where it went."""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from tests.factories import make_account, make_group, snapshot
from tests.web.conftest import OpenVisitor
from tests.web.markup import field_error, parse
from tests.web.visitor import Visitor

FORM = {
    "what": "Rassemblement devant la préfecture",
    "place": "Place Bellecour",
    "starts_at": "2099-05-01T18:00",
    "why": "Régularisation des sans-papiers du foyer.",
    "how_to_help": "Venez, partagez.",
    "urgency": "high",
}


async def organizer(visitors: OpenVisitor, db: Pool, config: Config, slug: str) -> Visitor:
    owner = await make_account(db, config, f"orga_{slug}")
    await make_group(db, config, owner, slug)
    visitor = visitors()
    assert (await visitor.log_in(f"orga_{slug}")).status_code == 303
    return visitor


async def test_allies_relay_a_mobilization_and_the_organizer_sees_its_reach(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    soutien = await organizer(visitors, db, web_config, "soutien")
    voisins = await organizer(visitors, db, web_config, "voisins")
    assert (
        await soutien.post("/groups/soutien/alliances", {"handle": "voisins"})
    ).status_code == 303
    page = await voisins.page("/groups/voisins/alliances")
    [accept] = [f for f in page.find_all("form") if f.attrs["action"].endswith("/accept")]
    assert (await voisins.post(accept.attrs["action"], {})).status_code == 303
    assert "allied" in (await soutien.page("/groups/soutien/alliances")).one("ul").text

    response = await soutien.post("/groups/soutien/mobilizations", FORM)

    assert response.status_code == 303
    url = response.headers["location"]
    page = await soutien.page(url)
    assert FORM["place"] in page.one("dl").text
    assert "voisins" in page.one("section", class_="notice reach").text
    relayed = (await voisins.page("/groups/voisins")).one(
        "ul", class_="groups calls-list mobilizations"
    )
    assert FORM["what"] in relayed.text and "relayed from soutien" in relayed.text
    assert "reach" not in (await voisins.get(url)).text  # only the organizers see where it went


async def test_bad_mobilization_form_shows_errors_and_changes_nothing(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    soutien = await organizer(visitors, db, web_config, "soutien")
    before = await snapshot(db)

    response = await soutien.post(
        "/groups/soutien/mobilizations", {**FORM, "what": "", "starts_at": "hier"}
    )

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "what") == "This field is required."
    assert field_error(page, "starts_at") == "Enter a date like 2026-12-31 or 2026-12-31T18:00."
    assert await snapshot(db) == before
