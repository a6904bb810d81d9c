"""Pictures of posts and groups' header images: checked, re-encoded without metadata, on disk.

Like avatars (server/services/avatars.py): the file a person sends is never served as is. It
is decoded, turned upright, scaled down and written again, which drops its metadata (EXIF
with the place a photo was taken, camera serial numbers) and anything that is not pixels.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid, Phrase
from server.models import Account, Attachment, Group
from server.storage import groups as group_store

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 6000 * 6000  # beyond this, a small file may be a decompression bomb
MAX_PICTURES = 4  # Mastodon shows at most four (Status::MEDIA_ATTACHMENTS_LIMIT)
MAX_ALT = 1500  # Mastodon's limit on a description
POST_SIZE = 1600
HEADER_SIZE = (1500, 500)
ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
FOLDER = "pictures"


@dataclass(frozen=True)
class Picture:
    """A re-encoded picture, ready to be written."""

    data: bytes
    media_type: str
    extension: str
    width: int
    height: int


def reencode_picture(data: bytes, field: str, box: tuple[int, int]) -> Picture:
    """Return the picture upright, within `box`, without metadata; Invalid if it is not one."""
    if len(data) > MAX_BYTES:
        raise Invalid({field: "The image is too large (2 MB at most)."})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            source_format = image.format
            if source_format not in ACCEPTED_FORMATS:
                raise Invalid({field: "Send a PNG, JPEG, GIF or WebP image."})
            if image.width * image.height > MAX_PIXELS:
                raise Invalid({field: "The image is too large (2 MB at most)."})
            image.load()
    except Invalid:
        raise
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid({field: "Send a PNG, JPEG, GIF or WebP image."}) from None
    # Phones store photos sideways with an EXIF note to turn them; the note goes, so turn now.
    image = ImageOps.exif_transpose(image)
    image.thumbnail(box)
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P") and source_format != "JPEG":
        image = image.convert("RGBA")
        image.save(out, format="PNG", optimize=True)
        return Picture(out.getvalue(), "image/png", "png", image.width, image.height)
    image = image.convert("RGB")
    image.save(out, format="JPEG", quality=85, optimize=True)
    return Picture(out.getvalue(), "image/jpeg", "jpg", image.width, image.height)


async def _write(config: Config, picture: Picture) -> str:
    folder = config.uploads_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    # The name is ours, never the uploader's: no path traversal, no guessable names.
    name = f"{secrets.token_hex(16)}.{picture.extension}"
    await asyncio.to_thread((folder / name).write_bytes, picture.data)
    return name


async def prepare_post_pictures(uploads: list[tuple[bytes, str]]) -> list[tuple[Picture, str]]:
    """Check and re-encode a post's pictures, each with its description; every error at once.

    `uploads` holds (data, alt text) in the order of the form's fields picture1..picture4.
    Nothing is written: the post's other fields may still be refused.
    """
    errors: dict[str, str] = {}
    if len(uploads) > MAX_PICTURES:
        errors["picture1"] = "Four pictures at most."
    prepared: list[tuple[Picture, str]] = []
    for index, (data, alt) in enumerate(uploads[:MAX_PICTURES], start=1):
        alt = " ".join(alt.split())
        if not alt:
            errors[f"alt{index}"] = "Describe the picture for people who cannot see it."
        elif len(alt) > MAX_ALT:
            errors[f"alt{index}"] = Phrase("{n} characters at most.", n=MAX_ALT)
        try:
            box = (POST_SIZE, POST_SIZE)
            picture = await asyncio.to_thread(reencode_picture, data, f"picture{index}", box)
        except Invalid as exc:
            errors.update(exc.fields)
            continue
        prepared.append((picture, alt))
    if errors:
        raise Invalid(errors)
    return prepared


async def write_post_pictures(
    config: Config, prepared: list[tuple[Picture, str]]
) -> tuple[Attachment, ...]:
    """Write prepared pictures to disk; return them as the post's attachments."""
    stored = []
    for picture, alt in prepared:
        name = await _write(config, picture)
        stored.append(Attachment(name, picture.media_type, alt, picture.width, picture.height))
    return tuple(stored)


def picture_path(config: Config, name: str) -> tuple[Path, str] | None:
    """Return a stored picture's file and media type, or None if the name is not one of ours."""
    stem, _, extension = name.partition(".")
    media_type = {"jpg": "image/jpeg", "png": "image/png"}.get(extension)
    if media_type is None or len(stem) != 32 or not all(c in "0123456789abcdef" for c in stem):
        return None
    path = config.uploads_dir / FOLDER / name
    return (path, media_type) if path.is_file() else None


async def set_group_header(
    db: Pool, config: Config, group: Group, moderator: Account, data: bytes
) -> str:
    """Replace a group's header image (moderators); peers see it as the actor's `image`."""
    async with db.acquire() as conn:
        member = await group_store.get_membership(conn, group.id, moderator.id)
    if member is None or not member.is_moderator:
        raise Forbidden("Only the group's moderators can do this.")
    picture = await asyncio.to_thread(reencode_picture, data, "header", HEADER_SIZE)
    name = await _write(config, picture)
    async with db.acquire() as conn:
        await group_store.update_header(conn, group.id, name)
    return name
