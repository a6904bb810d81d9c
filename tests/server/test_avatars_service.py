"""Avatars: only real raster images, re-encoded to a bounded PNG under a name of our own."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid
from server.services import accounts
from server.services.avatars import (
    MAX_BYTES,
    SIZE,
    avatar_path,
    reencode_avatar,
    set_account_avatar,
    set_group_avatar,
)
from server.services.groups import get_group_by_slug, join_group
from tests.factories import make_account, make_accounts, make_group, snapshot

SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "teal" if mode == "RGB" else 0).save(out, format=fmt)
    return out.getvalue()


def uploaded_files(config: Config) -> list[str]:
    folder = config.uploads_dir / "avatars"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_reencode_avatar_turns_accepted_formats_into_png(fmt: str) -> None:
    png = reencode_avatar(image_bytes(fmt))
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (64, 48)


def test_reencode_avatar_shrinks_large_images_keeping_proportions() -> None:
    image = Image.open(io.BytesIO(reencode_avatar(image_bytes("PNG", (1600, 800)))))
    assert image.size == (SIZE, SIZE // 2)


def test_reencode_avatar_drops_metadata() -> None:
    out = io.BytesIO()
    info = Image.Exif()
    info[0x010E] = "secret location"  # ImageDescription
    Image.new("RGB", (20, 20), "red").save(out, format="JPEG", exif=info)
    png = reencode_avatar(out.getvalue())
    assert b"secret location" not in png
    assert not Image.open(io.BytesIO(png)).getexif()


@pytest.mark.parametrize(
    "data",
    [
        SVG_WITH_SCRIPT,
        b"<html><script>alert(1)</script></html>",
        b"%PDF-1.4 not an image",
        b"",
        image_bytes("PNG")[:40],  # truncated
        image_bytes("BMP"),  # a real image, but not a format we take
        image_bytes("TIFF"),
    ],
    ids=["svg-script", "html", "pdf", "empty", "truncated-png", "bmp", "tiff"],
)
def test_reencode_avatar_rejects_what_is_not_an_accepted_image(data: bytes) -> None:
    with pytest.raises(Invalid) as caught:
        reencode_avatar(data)
    assert set(caught.value.fields) == {"avatar"}


def test_reencode_avatar_rejects_oversized_file() -> None:
    data = image_bytes("PNG") + b"\0" * MAX_BYTES
    with pytest.raises(Invalid) as caught:
        reencode_avatar(data)
    assert "too large" in caught.value.fields["avatar"]


def test_reencode_avatar_rejects_too_many_pixels_in_a_small_file() -> None:
    data = image_bytes("PNG", (5000, 5000), mode="1")
    assert len(data) < MAX_BYTES
    with pytest.raises(Invalid) as caught:
        reencode_avatar(data)
    assert "too large" in caught.value.fields["avatar"]


async def test_set_account_avatar_stores_png_under_a_random_name(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    name = await set_account_avatar(db, config, account, image_bytes("JPEG"))
    assert uploaded_files(config) == [name]
    path = avatar_path(config, name)
    assert path is not None
    with Image.open(path) as image:
        assert image.format == "PNG"
    assert (await accounts.get_account_by_username(db, "alice")).avatar == name


async def test_set_account_avatar_with_bad_image_stores_nothing(db: Pool, config: Config) -> None:
    account = await make_account(db, config, "alice")
    before = await snapshot(db)
    with pytest.raises(Invalid):
        await set_account_avatar(db, config, account, SVG_WITH_SCRIPT)
    assert await snapshot(db) == before
    assert uploaded_files(config) == []


async def test_moderator_sets_group_avatar_and_member_cannot(db: Pool, config: Config) -> None:
    owner, bob = await make_accounts(db, config, "alice", "bob")
    group = await make_group(db, config, owner, "garden")
    await join_group(db, group, bob)
    before = await snapshot(db)
    with pytest.raises(Forbidden):
        await set_group_avatar(db, config, group, bob, image_bytes())
    assert await snapshot(db) == before
    assert uploaded_files(config) == []
    name = await set_group_avatar(db, config, group, owner, image_bytes())
    assert (await get_group_by_slug(db, "garden")).avatar == name


@pytest.mark.parametrize(
    "name",
    [
        "../secret_key",
        "../../etc/passwd",
        "..%2F..%2Fsecret_key",
        "/etc/passwd",
        "0123456789abcdef0123456789abcdef.svg",
        "0123456789abcdef0123456789abcde/.png",
        "0123456789ABCDEF0123456789ABCDEF.png",
        "",
    ],
)
def test_avatar_path_rejects_names_that_are_not_ours(config: Config, name: str) -> None:
    (config.data_dir / "secret_key").write_text("s")
    assert avatar_path(config, name) is None


def test_avatar_path_of_a_missing_file_is_none(config: Config) -> None:
    assert avatar_path(config, "0123456789abcdef0123456789abcdef.png") is None
