"""Events in a real headless Chromium: an organizer creates an event of two places, three people
join, the third waits, someone leaves and the first in line moves up; the page in French; the
calendar file downloads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from icalendar import Calendar
from playwright.sync_api import Browser, Page, expect

from tests.web.test_browser import Errors, browser, live_server, sign_up

__all__ = ["browser", "live_server"]  # the fixtures, shared with the other browser tests
pytestmark = pytest.mark.browser


def join_group_and_event(page: Page, base_url: str, event_path: str) -> None:
    page.goto(base_url + "/groups/cuisine")
    page.get_by_role("button", name="Join").click()
    page.goto(base_url + event_path)
    page.get_by_role("button", name="Take part").or_(
        page.get_by_role("button", name="Join the waiting list")
    ).click()


def test_event_fills_up_then_the_first_waiting_moves_up(browser: Browser, live_server: str) -> None:
    contexts = [browser.new_context(locale="en-US", accept_downloads=True) for _ in range(4)]
    try:
        alice, bob, chloe, dan = (c.new_page() for c in contexts)
        errors = Errors(alice)
        sign_up(alice, live_server, "alice")
        alice.get_by_role("link", name="New group").click()
        alice.get_by_label("Name", exact=True).fill("Cuisine partagée")
        alice.get_by_label("Short name").fill("cuisine")
        alice.get_by_role("button", name="Create the group").click()
        alice.get_by_role("link", name="Agenda").last.click()
        alice.get_by_role("link", name="New event").click()
        alice.get_by_label("Title").fill("Atelier soupe")
        day = (date.today() + timedelta(days=5)).isoformat()
        alice.get_by_label("Start date").fill(day)
        alice.get_by_label("Start time").fill("18:00")
        alice.get_by_label("End date").fill(day)
        alice.get_by_label("End time").fill("17:00")  # before the start: refused
        alice.get_by_label("Time zone").fill("Europe/Paris")
        alice.get_by_label("Capacity (empty: no limit)").fill("2")
        alice.get_by_role("button", name="Create the event").click()
        expect(alice.locator("#e-end_date")).to_have_text("The end must come after the start.")
        expect(alice.get_by_label("Title")).to_have_value("Atelier soupe")  # kept
        errors.messages.clear()  # the browser logs the 422 of the refused form, as it should
        alice.get_by_label("End time").fill("20:00")
        alice.get_by_role("button", name="Create the event").click()
        expect(alice.get_by_role("heading", level=1)).to_have_text("Atelier soupe")
        event_path = alice.url.removeprefix(live_server)

        for page, name in ((bob, "bob"), (chloe, "chloe"), (dan, "dan")):
            sign_up(page, live_server, name)
            join_group_and_event(page, live_server, event_path)
        expect(bob.locator("#you")).to_have_text("You take part.")
        expect(dan.locator("#you")).to_contain_text("waiting list")
        expect(dan.locator(".taken")).to_have_text("2 / 2 places taken")

        chloe.get_by_role("button", name="Leave").click()
        dan.reload()
        expect(dan.locator("#you")).to_contain_text("moved up from the waiting list")
        expect(dan.locator("progress")).to_have_attribute("value", "2")

        with dan.expect_download() as download_info:
            dan.get_by_role("link", name="Add to my calendar").click()
        path = download_info.value.path()
        [item] = Calendar.from_ical(path.read_bytes()).walk("VEVENT")
        assert str(item["summary"]) == "Atelier soupe"
        assert item.decoded("dtstart").hour == 18
        assert errors.messages == []
    finally:
        for context in contexts:
            context.close()


def test_event_page_in_french(browser: Browser, live_server: str) -> None:
    organizer_context = browser.new_context(locale="en-US")
    reader_context = browser.new_context(locale="fr-FR")
    try:
        page = organizer_context.new_page()
        sign_up(page, live_server, "alice")
        page.goto(live_server + "/groups/new")
        page.get_by_label("Name", exact=True).fill("Voisins")
        page.get_by_label("Short name").fill("voisins")
        page.get_by_role("button", name="Create the group").click()
        page.goto(live_server + "/groups/voisins/events/new")
        day = (date.today() + timedelta(days=5)).isoformat()
        page.get_by_label("Title").fill("Repas partagé")
        page.get_by_label("Start date").fill(day)
        page.get_by_label("Start time").fill("19:00")
        page.get_by_label("End time").fill("21:00")
        page.get_by_label("Time zone").fill("Europe/Paris")
        page.get_by_role("button", name="Create the event").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Repas partagé")

        reader = reader_context.new_page()
        errors = Errors(reader)
        reader.goto(page.url)
        expect(reader.locator("html")).to_have_attribute("lang", "fr")
        expect(reader.get_by_role("link", name="Ajouter à mon agenda")).to_be_visible()
        expect(reader.get_by_role("link", name="Se connecter pour participer")).to_be_visible()
        expect(reader.locator("time")).to_contain_text("19:00")
        expect(reader.locator(".taken")).to_have_text("0 participant·e")
        assert errors.messages == []
    finally:
        organizer_context.close()
        reader_context.close()
