"""Pages of events: the organizer's form (its errors beside their fields, what was typed kept),
the agenda, the event page with its participation bar, joining and the waiting list, the CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from server.config import Config
from server.db import Pool
from tests.factories import make_account, snapshot
from tests.web.conftest import OpenVisitor
from tests.web.markup import field_error, field_value, parse
from tests.web.visitor import Visitor

NEXT_WEEK = (date.today() + timedelta(days=7)).isoformat()
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
EVENT_FORM = {
    "title": "Cercle de parole",
    "description": "Un moment pour se dire les choses.",
    "start_date": NEXT_WEEK,
    "start_time": "18:30",
    "end_date": NEXT_WEEK,
    "end_time": "20:00",
    "timezone": "Europe/Paris",
    "place_name": "Maison des associations",
    "street_address": "12 rue Sainte-Catherine",
    "postal_code": "33000",
    "locality": "Bordeaux",
    "country": "France",
    "capacity": "2",
    "join_mode": "free",
    "category": "MEETING",
    "status": "confirmed",
    "visibility": "public",
}


async def signed_in(visitors: OpenVisitor, db: Pool, config: Config, name: str) -> Visitor:
    await make_account(db, config, name)
    visitor = visitors()
    assert (await visitor.log_in(name)).status_code == 303
    return visitor


async def group_with_event(
    visitors: OpenVisitor, db: Pool, config: Config, **changes: str
) -> tuple[Visitor, str]:
    """Alice creates a group and an event through the pages; return her and the event's path."""
    alice = await signed_in(visitors, db, config, "alice")
    group = {"slug": "voisins", "name": "Voisins", "visibility": "public", "join_policy": "open",
             "language": "fr"}  # fmt: skip
    assert (await alice.post("/groups", group)).status_code == 303
    response = await alice.post("/groups/voisins/events", {**EVENT_FORM, **changes})
    assert response.status_code == 303, response.text
    return alice, response.headers["location"]


async def test_organizer_creates_an_event_that_shows_in_the_agendas(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, path = await group_with_event(visitors, db, web_config)

    page = await alice.page(path)
    assert page.one("h1").text == "Cercle de parole"
    assert "6:30" in page.one("time").text and "Europe/Paris" in page.one("time").text
    osm = page.find(
        "a",
        href="https://www.openstreetmap.org/search?query=12%20rue%20Sainte-Catherine%2033000%20Bordeaux%20France",
    )
    assert osm is not None
    assert page.one("span", class_="taken").text == "0 / 2 places taken"
    calendar = page.one("link", rel="alternate")
    assert calendar.attrs["type"] == "text/calendar"
    agenda = await alice.page("/groups/voisins/events")
    assert agenda.find("a", href=path) is not None
    assert (await alice.page("/events")).find("a", href=path) is not None
    assert (await alice.page("/agenda")).find("a", href=path) is not None


async def test_event_form_shows_each_error_beside_its_field_and_keeps_what_was_typed(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, _path = await group_with_event(visitors, db, web_config)
    before = await snapshot(db)
    bad = {**EVENT_FORM, "end_date": YESTERDAY, "timezone": "Mars/Olympus", "capacity": "0"}

    response = await alice.post("/groups/voisins/events", bad)

    assert response.status_code == 422

    page = parse(response.text)
    assert field_error(page, "end_date") == "The end must come after the start."
    assert field_error(page, "timezone") == "Unknown time zone."
    assert field_error(page, "capacity") == "Capacity: a whole number, at least 1."
    assert field_value(page, "title") == "Cercle de parole"
    assert field_value(page, "capacity") == "0"
    assert await snapshot(db) == before


async def test_full_event_sends_the_next_person_to_the_waiting_list_until_a_place_frees(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, path = await group_with_event(visitors, db, web_config)
    ben = await signed_in(visitors, db, web_config, "ben")
    chloe = await signed_in(visitors, db, web_config, "chloe")

    for person in (alice, ben, chloe):
        assert (await person.post(f"{path}/join")).status_code == 303

    page = await chloe.page(path)
    assert "waiting list" in page.one("p", id="you").text
    assert page.one("span", class_="taken").text == "2 / 2 places taken"
    assert (await ben.post(f"{path}/join")).status_code == 409  # twice
    assert (await ben.post(f"{path}/leave")).status_code == 303
    page = await chloe.page(path)
    assert "moved up" in page.one("p", id="you").text


async def test_organizer_exports_participants_as_csv_and_others_cannot(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, path = await group_with_event(visitors, db, web_config, question="Allergies ?")
    ben = await signed_in(visitors, db, web_config, "ben")
    await ben.post(f"{path}/join", {"message": '=HYPERLINK("x")'})

    response = await alice.get(f"{path}/participants.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["handle", "name", "state", "message", "since"]
    assert rows[1][:4] == ["@ben@127.0.0.1:8000", "ben", "going", '\'=HYPERLINK("x")']
    assert (await ben.get(f"{path}/participants.csv")).status_code == 403


async def test_organizer_cancels_then_deletes_the_event(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, path = await group_with_event(visitors, db, web_config)
    ben = await signed_in(visitors, db, web_config, "ben")
    assert (await ben.post(f"{path}/cancel")).status_code == 403

    assert (await alice.post(f"{path}/cancel")).status_code == 303
    page = await alice.page(path)
    assert "This event is cancelled." in page.text
    assert (await ben.post(f"{path}/join")).status_code == 409

    assert (await alice.post(f"{path}/delete")).status_code == 303
    assert (await alice.get(path)).status_code == 410


async def test_edit_page_is_filled_with_the_event_and_saves_changes(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, path = await group_with_event(visitors, db, web_config)

    page = await alice.page(f"{path}/edit")
    assert field_value(page, "start_time") == "18:30"
    assert field_value(page, "timezone") == "Europe/Paris"
    response = await alice.post(f"{path}/edit", {**EVENT_FORM, "title": "Cercle de parole (2)"})

    assert response.status_code == 303
    assert (await alice.page(path)).one("h1").text == "Cercle de parole (2)"


async def test_event_page_in_french(visitors: OpenVisitor, db: Pool, web_config: Config) -> None:
    _alice, path = await group_with_event(visitors, db, web_config)
    reader = visitors("fr")

    page = await reader.page(path)

    assert page.one("span", class_="taken").text == "0 / 2 places prises"
    assert "18:30" in page.one("time").text
    assert page.find("a", href=f"{path}/event.ics") is not None
    assert "Ajouter à mon agenda" in page.text


async def test_members_discuss_an_event_on_its_page_not_on_the_group_page(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice, path = await group_with_event(visitors, db, web_config)
    ben = await signed_in(visitors, db, web_config, "ben")

    response = await alice.post(f"{path}/comments", {"content": "Qui apporte le dessert ?"})

    assert response.status_code == 303
    page = await ben.page(path)
    assert (
        "Qui apporte le dessert ?" in page.one("section", **{"aria-labelledby": "discussion"}).text
    )
    assert "Qui apporte le dessert ?" not in (await ben.page("/groups/voisins")).text
    before = await snapshot(db)
    assert (await ben.post(f"{path}/comments", {"content": "Moi !"})).status_code == 403
    assert (await alice.post(f"{path}/comments", {"content": " "})).status_code == 422
    assert await snapshot(db) == before


def png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 400), (200, 80, 20)).save(out, format="PNG")
    return out.getvalue()


async def test_event_picture_is_reencoded_with_its_description(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    alice = await signed_in(visitors, db, web_config, "alice")
    group = {"slug": "voisins", "name": "Voisins", "visibility": "public", "join_policy": "open",
             "language": "fr"}  # fmt: skip
    await alice.post("/groups", group)
    before = await snapshot(db)
    picture = {"picture": ("soupe.png", png(), "image/png")}

    missing_alt = await alice.post("/groups/voisins/events", EVENT_FORM, files=picture)
    not_an_image = await alice.post(
        "/groups/voisins/events", {**EVENT_FORM, "picture_alt": "Une soupe"},
        files={"picture": ("x.png", b"<svg onload=alert(1)>", "image/png")},
    )  # fmt: skip

    assert missing_alt.status_code == not_an_image.status_code == 422
    page = parse(missing_alt.text)
    assert field_error(page, "picture_alt") == "Describe the picture for those who cannot see it."
    assert (
        field_error(parse(not_an_image.text), "picture") == "Send a PNG, JPEG, GIF or WebP image."
    )
    assert await snapshot(db) == before
    response = await alice.post(
        "/groups/voisins/events", {**EVENT_FORM, "picture_alt": "Une marmite de soupe"},
        files=picture,
    )  # fmt: skip
    assert response.status_code == 303
    image = (await alice.page(response.headers["location"])).one("img", class_="event-picture")
    assert image.attrs["alt"] == "Une marmite de soupe"
    served = await alice.get(image.attrs["src"])
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG")
    assert served.content != png()  # re-encoded, never stored as sent
