"""Pages of petitions: an organizer publishes one, people sign and withdraw, the progress moves,
the status changes with a note; bad forms change nothing; private signers stay private."""

from __future__ import annotations

from server.config import Config
from server.db import Pool
from tests.factories import make_account, make_group, snapshot
from tests.web.conftest import OpenVisitor
from tests.web.markup import Element, field_error, parse
from tests.web.visitor import Visitor

FORM = {
    "title": "Un abri pour la halte de nuit",
    "addressee": "Préfecture du Rhône",
    "body": "Nous demandons un local chauffé pour la halte de nuit.",
    "goal": "4",
    "deadline": "",
}


async def signed_in(visitors: OpenVisitor, db: Pool, config: Config, username: str) -> Visitor:
    await make_account(db, config, username)
    visitor = visitors()
    assert (await visitor.log_in(username)).status_code == 303
    return visitor


async def organizer_with_group(
    visitors: OpenVisitor, db: Pool, config: Config
) -> tuple[Visitor, str]:
    owner = await make_account(db, config, "orga")
    await make_group(db, config, owner, "halte")
    visitor = visitors()
    assert (await visitor.log_in("orga")).status_code == 303
    return visitor, "halte"


def progress(page: Element) -> tuple[str, str]:
    bar = page.one("progress")
    return bar.attrs["value"], bar.attrs["max"]


async def publish(visitor: Visitor, slug: str) -> str:
    response = await visitor.post(f"/groups/{slug}/petitions", FORM)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


async def test_organizer_publishes_people_sign_and_withdraw_progress_moves(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    organizer, slug = await organizer_with_group(visitors, db, web_config)
    url = await publish(organizer, slug)
    group_page = await organizer.page(f"/groups/{slug}")
    assert group_page.one("section", class_="calls").find("a", href=url) is not None

    named = await signed_in(visitors, db, web_config, "nina")
    hidden = await signed_in(visitors, db, web_config, "hugo")
    assert progress(await named.page(url)) == ("0", "4")
    await named.post(f"{url}/sign", {"public": "yes"})
    await hidden.post(f"{url}/sign", {})

    page = await hidden.page(url)
    assert progress(page) == ("2", "4")
    assert "2 signatures" in page.text and "(50 %)" in page.text
    signers = page.one("ul", class_="signers").text
    assert "nina" in signers and "hugo" not in signers
    assert "Your name is not shown." in page.text

    await hidden.post(f"{url}/withdraw", {})
    assert progress(await hidden.page(url)) == ("1", "4")


async def test_status_change_with_a_note_shows_in_the_history(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    organizer, slug = await organizer_with_group(visitors, db, web_config)
    url = await publish(organizer, slug)

    response = await organizer.post(f"{url}/status", {"status": "won", "note": "Local ouvert !"})

    assert response.status_code == 303
    page = await organizer.page(url)
    assert "Won" in page.one("p", class_="status").text
    assert "Local ouvert !" in page.one("ul", class_="history").text
    assert "This petition is closed." in page.text  # won: no more signatures


async def test_bad_petition_form_shows_errors_and_changes_nothing(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    organizer, slug = await organizer_with_group(visitors, db, web_config)
    before = await snapshot(db)

    response = await organizer.post(
        f"/groups/{slug}/petitions",
        {**FORM, "title": "", "goal": "0", "deadline": "2001-01-01T10:00"},
    )

    assert response.status_code == 422

    page = parse(response.text)
    assert field_error(page, "title") == "This field is required."
    assert field_error(page, "goal") == "The goal must be between 1 and 10,000,000 signatures."
    assert field_error(page, "deadline") == "The deadline must be in the future."
    assert await snapshot(db) == before


async def test_only_organizers_export_and_the_csv_has_private_names(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    organizer, slug = await organizer_with_group(visitors, db, web_config)
    url = await publish(organizer, slug)
    hidden = await signed_in(visitors, db, web_config, "hugo")
    await hidden.post(f"{url}/sign", {})

    response = await organizer.get(f"{url}/signatures.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "@hugo@" in response.text and ",no," in response.text
    assert (await hidden.get(f"{url}/signatures.csv")).status_code == 403
    assert "hugo" not in (await visitors().get(url)).text
