"""A petition in a real headless Chromium: an organizer publishes it, a person signs and the
progress bar moves, withdraws and it moves back, the organizer closes it with a note."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.test_browser import Errors, browser, live_server, sign_up

pytestmark = pytest.mark.browser
__all__ = ["browser", "live_server"]  # the fixtures this module borrows


def progress(page: Page) -> str | None:
    return page.locator("article.petition progress").get_attribute("value")


def test_sign_withdraw_and_close_a_petition(browser: Browser, live_server: str) -> None:
    organizer_context = browser.new_context(locale="en-US")
    signer_context = browser.new_context(locale="en-US")
    try:
        orga = organizer_context.new_page()
        errors = Errors(orga)
        sign_up(orga, live_server, "amina")
        orga.get_by_role("link", name="New group").click()
        orga.get_by_label("Name", exact=True).fill("Halte de nuit")
        orga.get_by_label("Short name").fill("halte")
        orga.get_by_role("button", name="Create the group").click()
        orga.get_by_role("link", name="New petition").click()
        orga.get_by_label("Title").fill("Un local chauffé")
        orga.get_by_label("Addressed to (the authority)").fill("Mairie du 7e")
        orga.get_by_label("Text of the petition").fill("Nous demandons la salle Jean-Moulin.")
        orga.get_by_label("Goal (number of signatures)").fill("4")
        orga.get_by_role("button", name="Publish the petition").click()
        expect(orga.get_by_role("heading", level=1)).to_have_text("Un local chauffé")
        url = orga.url

        signer = signer_context.new_page()
        sign_up(signer, live_server, "lucas")
        signer.goto(url)
        assert progress(signer) == "0"
        signer.get_by_label("Show my name among the signers").check()
        signer.get_by_role("button", name="Sign the petition").click()
        assert progress(signer) == "1"
        expect(signer.locator("ul.signers")).to_contain_text("lucas")
        signer.get_by_role("button", name="Withdraw my signature").click()
        assert progress(signer) == "0"
        expect(signer.get_by_role("button", name="Sign the petition")).to_be_visible()

        orga.reload()
        orga.get_by_label("Status").select_option("won")
        orga.get_by_label("Public note (optional)").fill("La salle ouvre lundi !")
        orga.get_by_role("button", name="Change the status").click()
        expect(orga.locator("p.status")).to_contain_text("Won")
        expect(orga.locator("ul.history")).to_contain_text("La salle ouvre lundi !")
        signer.reload()
        expect(signer.get_by_text("This petition is closed.")).to_be_visible()
        assert errors.messages == []
    finally:
        organizer_context.close()
        signer_context.close()
