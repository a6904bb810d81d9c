"""Pictures: up to four per post, each with its description, re-encoded without metadata, sent to
peers as Mastodon reads them; a group's header image as its actor's `image`."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from server.config import Config
from server.db import Pool
from tests.factories import count_rows, make_account, make_group, snapshot
from tests.web.conftest import OpenVisitor
from tests.web.markup import field_error, parse
from tests.web.visitor import Visitor

ACTIVITY_JSON = {"accept": "application/activity+json"}


def photo_with_location() -> bytes:
    """A JPEG as a phone writes it: EXIF with the camera and the place it was taken."""
    image = Image.new("RGB", (3000, 2000), "green")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model 12"  # Model
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (200, 0, 0, 128)).save(out, format="PNG")
    return out.getvalue()


def stored(config: Config) -> list[Path]:
    folder = config.uploads_dir / "pictures"
    return sorted(folder.iterdir()) if folder.exists() else []


async def member(visitors: OpenVisitor, db: Pool, config: Config) -> Visitor:
    alice = await make_account(db, config, "alice")
    await make_group(db, config, alice, "pantry")
    visitor = visitors()
    await visitor.log_in("alice")
    return visitor


async def test_a_post_carries_pictures_with_descriptions_and_no_metadata(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    visitor = await member(visitors, db, web_config)

    response = await visitor.post(
        "/groups/pantry/posts",
        {"content": "The fridge is full", "alt1": "A full fridge", "alt2": "Opening hours"},
        files={
            "picture1": ("fridge.jpg", photo_with_location(), "image/jpeg"),
            "picture2": ("hours.png", png(), "image/png"),
            "picture3": ("", b"", "application/octet-stream"),  # a field left alone
        },
    )

    assert response.status_code == 303, response.text
    page = await visitor.page("/groups/pantry")
    images = page.one("article", class_="post").find_all("img", loading="lazy")
    assert [img.attrs["alt"] for img in images] == ["A full fridge", "Opening hours"]
    files = stored(web_config)
    assert len(files) == 2
    jpeg = next(f for f in files if f.suffix == ".jpg")
    with Image.open(jpeg) as kept:
        assert dict(kept.getexif()) == {}  # no camera, no place
        assert max(kept.size) == 1600
    served = await visitor.get(images[0].attrs["src"])
    assert served.status_code == 200
    assert served.headers["content-type"] in ("image/jpeg", "image/png")
    # Peers get Documents with the description as `name`, as Mastodon reads them.
    post_href = page.one("a", class_="meta when").attrs["href"]
    note = (await visitor.get(post_href, headers=ACTIVITY_JSON)).json()
    assert [(a["type"], a["name"]) for a in note["attachment"]] == [
        ("Document", "A full fridge"),
        ("Document", "Opening hours"),
    ]
    assert note["attachment"][0]["mediaType"] == "image/jpeg"
    assert note["attachment"][0]["url"].endswith("/media/pictures/" + jpeg.name)
    assert note["attachment"][0]["width"] == 1600


async def test_every_picture_needs_a_description_and_nothing_is_kept_until_all_is_right(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    visitor = await member(visitors, db, web_config)
    before = await snapshot(db)

    response = await visitor.post(
        "/groups/pantry/posts",
        {"content": "", "alt1": "Fine", "alt2": "  "},
        files={
            "picture1": ("a.png", png(), "image/png"),
            "picture2": ("b.png", png(), "image/png"),
            "picture3": ("c.txt", b"not a picture", "image/png"),
        },
    )

    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "content") == "This field is required."
    assert field_error(page, "alt2") == "Describe the picture for people who cannot see it."
    assert field_error(page, "picture3") == "Send a PNG, JPEG, GIF or WebP image."
    assert "open" in page.one("details", class_="more pictures-form").attrs
    assert await snapshot(db) == before
    assert stored(web_config) == []
    assert await count_rows(db, "posts") == 0


async def test_a_group_header_image_is_shown_and_sent_as_the_actor_image(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    visitor = await member(visitors, db, web_config)

    response = await visitor.post(
        "/groups/pantry/header",
        files={"header": ("banner.jpg", photo_with_location(), "image/jpeg")},
    )

    assert response.status_code == 303
    banner = (await visitor.page("/groups/pantry")).one("img", class_="group-banner")
    actor = (await visitor.get("/groups/pantry", headers=ACTIVITY_JSON)).json()
    assert actor["image"]["type"] == "Image"
    assert actor["image"]["url"].endswith(banner.attrs["src"])
    with Image.open(stored(web_config)[0]) as kept:
        assert kept.size == (750, 500)
        assert dict(kept.getexif()) == {}
