"""Media from apps: a picture uploaded first (POST /api/v2/media), described, then posted with
`media_ids`; pictures checked from their bytes as the web form's are, and each the uploader's
own until posted."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import httpx
import pytest
from PIL import Image

from server.config import Config
from server.db import Pool
from server.models import Account, Group, Job
from server.services import media, statuses
from tests.api.conftest import bearer, service_token
from tests.factories import make_account, make_group, make_member, snapshot


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def world(db: Pool, web_config: Config) -> dict[str, object]:
    owner = await make_account(db, web_config, "ada")
    member = await make_account(db, web_config, "bea")
    circle = await make_group(db, web_config, owner, "circle", name="The Circle")
    await make_member(db, circle, member)
    return {"owner": owner, "member": member, "circle": circle}


async def upload(
    client: httpx.AsyncClient, token: str, data: bytes, path: str = "/api/v2/media", **fields: str
) -> httpx.Response:
    return await client.post(
        path, headers=bearer(token), files={"file": ("p.png", data, "image/png")}, data=fields
    )


async def test_upload_describe_and_post_a_picture(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    token = await service_token(db, world["member"])

    sent = await upload(client, token, png(), description="A red square", focus="-0.5,0.25")
    media = sent.json()
    described = await client.put(
        f"/api/v1/media/{media['id']}", headers=bearer(token), data={"description": "Red"}
    )
    shown = await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))
    status = await client.post(
        "/api/v1/statuses",
        headers=bearer(token),
        data={"status": "@circle Look", "media_ids[]": media["id"]},
    )

    assert sent.status_code == 200, sent.text
    assert media["type"] == "image" and media["description"] == "A red square"
    assert media["url"].startswith(f"{web_config.base_url}/media/pictures/")
    assert media["preview_url"] and media["meta"]["original"]["width"] == 40
    assert media["meta"]["focus"] == {"x": -0.5, "y": 0.25}
    assert described.json()["description"] == "Red" and shown.json()["description"] == "Red"
    assert status.status_code == 200, status.text
    attached = status.json()["media_attachments"]
    assert [(a["type"], a["description"], a["url"]) for a in attached] == [
        ("image", "Red", media["url"])
    ]
    picture = await client.get(media["url"].removeprefix(web_config.base_url))
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    # Posted, it is the status's: the upload cannot be posted twice, nor described any more.
    again = await client.post(
        "/api/v1/statuses",
        headers=bearer(token),
        data={"status": "@circle Again", "media_ids[]": media["id"]},
    )
    assert again.status_code == 422
    gone = await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))
    assert gone.status_code == 404


async def test_the_older_v1_upload_and_the_instance_limits(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    token = await service_token(db, world["member"])

    sent = await upload(client, token, png(), path="/api/v1/media")
    limits = (await client.get("/api/v2/instance")).json()["configuration"]

    assert sent.status_code == 200 and sent.json()["description"] is None
    assert limits["statuses"]["max_media_attachments"] == 4
    assert "image/png" in limits["media_attachments"]["supported_mime_types"]
    assert limits["media_attachments"]["image_size_limit"] == 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.4 not a picture", "application/pdf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        # Named a PNG by the app, but the bytes say otherwise: the bytes decide.
        (b"GIF89a" + b"\x00" * 40, "image/png"),
    ],
)
async def test_an_upload_that_is_not_a_picture_is_refused_and_nothing_kept(
    client: httpx.AsyncClient,
    db: Pool,
    web_config: Config,
    world: dict[str, object],
    data: bytes,
    kind: str,
) -> None:
    token = await service_token(db, world["member"])
    before = await snapshot(db)

    sent = await client.post(
        "/api/v2/media", headers=bearer(token), files={"file": ("p.png", data, kind)}
    )

    assert sent.status_code == 422 and "error" in sent.json()
    assert await snapshot(db) == before
    assert not (web_config.uploads_dir / "pictures").exists() or not list(
        (web_config.uploads_dir / "pictures").iterdir()
    )


async def test_an_upload_over_the_web_forms_limit_is_refused(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    token = await service_token(db, world["member"])
    # A real PNG followed by padding past 2 MB: the limit is the web form's, read in bytes.
    data = png() + b"\x00" * (2 * 1024 * 1024)
    before = await snapshot(db)

    sent = await upload(client, token, data)
    no_file = await client.post("/api/v2/media", headers=bearer(token), data={"x": "1"})

    assert sent.status_code == 422 and "too large" in sent.json()["error"]
    assert no_file.status_code == 422
    assert await snapshot(db) == before


async def test_another_persons_upload_is_refused_and_nothing_posted(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    owner, member = world["owner"], world["member"]
    assert isinstance(owner, Account) and isinstance(member, Account)
    theirs = (await upload(client, await service_token(db, owner), png())).json()
    token = await service_token(db, member)
    before = await snapshot(db)

    posted = await client.post(
        "/api/v1/statuses",
        headers=bearer(token),
        data={"status": "@circle Mine now", "media_ids[]": theirs["id"]},
    )
    shown = await client.get(f"/api/v1/media/{theirs['id']}", headers=bearer(token))
    described = await client.put(
        f"/api/v1/media/{theirs['id']}", headers=bearer(token), data={"description": "x"}
    )

    assert posted.status_code == 422 and "media_ids" in posted.json()["error"]
    assert shown.status_code == 404 and described.status_code == 404
    assert await snapshot(db) == before


async def test_more_than_four_pictures_are_refused_and_nothing_posted(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    token = await service_token(db, world["member"])
    ids = [(await upload(client, token, png())).json()["id"] for _ in range(5)]
    before = await snapshot(db)

    posted = await client.post(
        "/api/v1/statuses",
        headers=bearer(token),
        json={"status": "@circle Five", "media_ids": ids},
    )

    assert posted.status_code == 422 and "Four pictures at most" in posted.json()["error"]
    assert await snapshot(db) == before


async def test_a_bad_focus_or_description_is_refused(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    token = await service_token(db, world["member"])
    before = await snapshot(db)

    bad_focus = await upload(client, token, png(), focus="3,nan")
    long_text = await upload(client, token, png(), description="x" * 1501)

    assert bad_focus.status_code == 422 and long_text.status_code == 422
    assert await snapshot(db) == before


async def test_a_read_token_cannot_upload(
    client: httpx.AsyncClient, db: Pool, world: dict[str, object]
) -> None:
    circle = world["circle"]
    assert isinstance(circle, Group)
    token = await service_token(db, world["member"], scope="read")

    sent = await upload(client, token, png())

    assert sent.status_code == 403


async def test_uploads_past_mastodons_throttle_are_refused_and_nothing_kept(
    client: httpx.AsyncClient, db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    member = world["member"]
    assert isinstance(member, Account)
    for _ in range(media.UPLOADS_PER_WINDOW):
        await media.upload_media(db, web_config, member, png(), description="", focus="")
    token = await service_token(db, member)
    files = len(list((web_config.uploads_dir / "pictures").iterdir()))
    before = await snapshot(db)

    sent = await upload(client, token, png())

    assert sent.status_code == 429 and sent.json() == {"error": "Too many requests"}
    assert await snapshot(db) == before
    assert len(list((web_config.uploads_dir / "pictures").iterdir())) == files


async def test_an_upload_no_status_took_is_forgotten_after_a_day(
    db: Pool, web_config: Config, world: dict[str, object]
) -> None:
    member = world["member"]
    assert isinstance(member, Account)
    free = await media.upload_media(db, web_config, member, png(), description="", focus="")
    taken = await media.upload_media(db, web_config, member, png(), description="", focus="")
    await statuses.publish_status(
        db, web_config, member, content="@circle Look", spoiler_text="", in_reply_to_id=None,
        visibility="", media_ids=[taken.id],
    )  # fmt: skip
    async with db.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, payload, run_at - now() AS wait FROM jobs WHERE kind = $1 ORDER BY id",
            media.FORGET_UPLOAD,
        )
    handler = media.job_handlers(db, web_config)[media.FORGET_UPLOAD]

    for row in rows:
        await handler(Job(row["id"], media.FORGET_UPLOAD, json.loads(row["payload"]), 0))

    assert [json.loads(r["payload"])["upload_id"] for r in rows] == [free.id, taken.id]
    assert all(timedelta(hours=23) < r["wait"] <= timedelta(days=1) for r in rows)
    folder = web_config.uploads_dir / "pictures"
    assert not (folder / free.file).exists() and (folder / taken.file).exists()
    async with db.acquire() as conn:
        kept = await conn.fetch("SELECT id FROM media_uploads ORDER BY id")
    assert [r["id"] for r in kept] == [taken.id]
