"""RFC 8058's one-click unsubscribe: the digest, sent through a real SMTP server, names the link
and the one-click POST; a mail program's POST (no cookie, no CSRF token) stops the digests of
that account alone; another account's or a tampered link changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from server.config import Config
from server.db import Pool
from server.services import groups, mail, notifications
from tests.factories import make_account, make_group, snapshot
from tests.mailserver import Inbox, smtp_server
from tests.web.conftest import OpenVisitor, StartApp

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Inbox]]:
    with smtp_server(tmp_path, monkeypatch) as found:
        yield found


async def test_a_mail_program_unsubscribes_in_one_click_from_the_digest_headers(
    start_app: StartApp,
    visitors: OpenVisitor,
    db: Pool,
    web_config: Config,
    smtp: tuple[str, Inbox],
) -> None:
    url, inbox = smtp
    app = await start_app(smtp_url=url)
    config = app.state.config
    ana = await make_account(db, config, "ana", email="ana@example.org")
    cam = await make_account(db, config, "cam", email="cam@example.org")
    for person in (ana, cam):
        await notifications.save_preferences(db, person, {"join_request": "digest"})
        group = await make_group(db, config, person, join_policy="approval")
        await groups.join_group(db, group, await make_account(db, config))

    assert await mail.send_digests(db, config) == 2
    to_ana = next(m for m in inbox.messages if m["To"] == "ana@example.org")
    to_cam = next(m for m in inbox.messages if m["To"] == "cam@example.org")
    assert str(to_ana["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
    found = re.fullmatch(r"<(\S+)>", str(to_ana["List-Unsubscribe"]).strip())
    assert found is not None
    ana_path = urlsplit(found.group(1)).path
    found = re.fullmatch(r"<(\S+)>", str(to_cam["List-Unsubscribe"]).strip())
    assert found is not None
    cam_token = urlsplit(found.group(1)).path.rsplit("/", 1)[1]

    # A mail program: no cookie, no token of a form, the body RFC 8058 prescribes.
    program = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
    )
    try:
        before = await snapshot(db)
        ana_id, ana_token = ana_path.split("/")[2:]
        tampered = ana_token[:-1] + ("0" if ana_token[-1] != "0" else "1")
        for path in (
            f"/unsubscribe/{ana_id}/{cam_token}",  # cam's signature on ana's account
            f"/unsubscribe/{ana_id}/{tampered}",
            f"/unsubscribe/{cam.id}/{ana_token}",
        ):
            response = await program.post(path, data=ONE_CLICK)
            assert response.status_code == 404, path
        # The right link, without what a one-click POST says: refused too.
        response = await program.post(ana_path, data={"other": "x"})
        assert response.status_code == 400
        assert await snapshot(db) == before

        response = await program.post(ana_path, data=ONE_CLICK)
        assert response.status_code == 200
    finally:
        await program.aclose()

    ana_chose = {p.kind: p.delivery for p in await notifications.list_preferences(db, ana, "en")}
    cam_chose = {p.kind: p.delivery for p in await notifications.list_preferences(db, cam, "en")}
    assert "digest" not in ana_chose.values()
    assert cam_chose["join_request"] == "digest"

    # In a browser, the link opens a page with one button, which does the same.
    browser = visitors()
    page = await browser.page(ana_path)
    form = page.one("form", action=ana_path)
    assert form.one("input", name="List-Unsubscribe").attrs["value"] == "One-Click"
