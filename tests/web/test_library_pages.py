"""The library: members add links and documents (type read from the content), organizers pin;
a public group's pinned items are its featured collection; bad uploads change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import Config
from server.db import Pool
from server.services import resources
from tests.factories import make_account, make_group, make_member, snapshot
from tests.web.conftest import OpenVisitor
from tests.web.markup import field_error, parse
from tests.web.visitor import Visitor

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def group_with(
    visitors: OpenVisitor, db: Pool, config: Config, visibility: str = "public"
) -> tuple[Visitor, Visitor, str]:
    owner = await make_account(db, config, "orga")
    member = await make_account(db, config, "lina")
    group = await make_group(db, config, owner, "pantry", visibility=visibility)
    await make_member(db, group, member)
    result = []
    for name in ("orga", "lina"):
        visitor = visitors()
        assert (await visitor.log_in(name)).status_code == 303
        result.append(visitor)
    return result[0], result[1], "pantry"


def files(config: Config) -> list[Path]:
    folder = config.uploads_dir / resources.FOLDER
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_member_adds_a_link_and_a_document_organizer_pins_it_and_it_is_featured(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    orga, lina, slug = await group_with(visitors, db, web_config)
    library = f"/groups/{slug}/library"
    response = await lina.post(
        library, {"title": "Droits des locataires", "link": "https://example.org/droits",
                  "tags": "logement droits", "description": "Le guide"},
    )  # fmt: skip
    assert response.status_code == 303, response.text
    response = await lina.post(
        library, {"title": "Horaires", "tags": "", "description": ""},
        files={"document": ("horaires.pdf", PDF, "application/pdf")},
    )  # fmt: skip
    assert response.status_code == 303, response.text
    page = await lina.page(library)
    [doc] = [a for a in page.find_all("a") if a.text == "Horaires"]
    download = await visitors().get(doc.attrs["href"])
    assert download.content == PDF and download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"] == "application/pdf"
    assert (await lina.page(f"{library}?tag=logement")).text.count("Droits des locataires") == 1

    featured = await visitors().get(
        f"/groups/{slug}/featured", headers={"accept": "application/activity+json"}
    )
    assert featured.json()["orderedItems"] == []
    pin = page.find_all("form", action=doc.attrs["href"].replace("/file", "/pin"))
    assert pin == []  # members do not see the pin button
    response = await orga.post(doc.attrs["href"].replace("/file", "/pin"), {"pinned": "yes"})
    assert response.status_code == 303
    featured = await visitors().get(
        f"/groups/{slug}/featured", headers={"accept": "application/activity+json"}
    )
    [item] = featured.json()["orderedItems"]
    assert item["type"] == "Note" and item["attributedTo"].endswith(f"/groups/{slug}")
    note = await visitors().get(item["id"], headers={"accept": "application/activity+json"})
    assert note.json()["id"] == item["id"] and "Horaires" in note.json()["content"]
    # A member who is not an organizer cannot pin.
    assert (await lina.post(doc.attrs["href"].replace("/file", "/pin"), {})).status_code == 403


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("horaires.pdf", PNG, "This file's content is not what its name says."),
        ("carte.odt", PDF, "This file's content is not what its name says."),
        ("script.html", b"<script>alert(1)</script>", "PDF, OpenDocument or text files only."),
        ("gros.pdf", PDF + b"0" * resources.MAX_BYTES, "8 MB at most."),
    ],
)
async def test_bad_documents_are_refused_and_change_nothing(
    visitors: OpenVisitor, db: Pool, web_config: Config, name: str, data: bytes, expected: str
) -> None:
    _orga, lina, slug = await group_with(visitors, db, web_config)
    before, files_before = await snapshot(db), files(web_config)
    response = await lina.post(
        f"/groups/{slug}/library", {"title": "T", "tags": "", "description": ""},
        files={"document": (name, data, "application/pdf")},
    )  # fmt: skip
    assert response.status_code == 422
    assert field_error(parse(response.text), "document") == expected
    assert await snapshot(db) == before and files(web_config) == files_before


async def test_members_only_library_stays_inside(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    orga, _lina, slug = await group_with(visitors, db, web_config, visibility="members")
    response = await orga.post(
        f"/groups/{slug}/library", {"title": "Secret", "tags": "", "description": ""},
        files={"document": ("notes.txt", b"Notes du cercle", "text/plain")},
    )  # fmt: skip
    assert response.status_code == 303
    page = await orga.page(f"/groups/{slug}/library")
    [doc] = [a for a in page.find_all("a") if a.text == "Secret"]
    await orga.post(doc.attrs["href"].replace("/file", "/pin"), {"pinned": "yes"})
    assert (await visitors().get(doc.attrs["href"])).status_code == 403
    featured = await visitors().get(
        f"/groups/{slug}/featured", headers={"accept": "application/activity+json"}
    )
    assert featured.json()["orderedItems"] == []
