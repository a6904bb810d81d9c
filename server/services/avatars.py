"""Avatars of people and groups: checked, re-encoded (no metadata, no script), stored on disk."""

from __future__ import annotations

import asyncio
import io
import secrets
import warnings
from pathlib import Path

from PIL import Image

from server.config import Config
from server.db import Pool
from server.errors import Forbidden, Invalid
from server.models import Account, Group
from server.storage import accounts as account_store
from server.storage import groups as group_store

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096  # beyond this, a small file may be a decompression bomb
SIZE = 400
ACCEPTED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")


def reencode_avatar(data: bytes) -> bytes:
    """Return the image as a square-bounded PNG, or raise Invalid if it is not a safe image."""
    if len(data) > MAX_BYTES:
        raise Invalid({"avatar": "The image is too large (2 MB at most)."})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise Invalid({"avatar": "Send a PNG, JPEG, GIF or WebP image."})
            if image.width * image.height > MAX_PIXELS:
                raise Invalid({"avatar": "The image is too large (2 MB at most)."})
            image.load()
    except Invalid:
        raise
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid({"avatar": "Send a PNG, JPEG, GIF or WebP image."}) from None
    image = image.convert("RGBA")
    image.thumbnail((SIZE, SIZE))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def _store(config: Config, data: bytes) -> str:
    png = await asyncio.to_thread(reencode_avatar, data)
    folder = config.uploads_dir / "avatars"
    folder.mkdir(parents=True, exist_ok=True)
    # The name is ours, never the uploader's: no path traversal, no guessable names.
    name = secrets.token_hex(16) + ".png"
    await asyncio.to_thread((folder / name).write_bytes, png)
    return name


async def store_picture(config: Config, data: bytes) -> str:
    """Check and re-encode an image as avatars are (an event's picture); return its name."""
    return await _store(config, data)


def avatar_path(config: Config, name: str) -> Path | None:
    """Return the file of a stored avatar, or None if the name is not one of ours."""
    if (
        len(name) != 36
        or not name.endswith(".png")
        or not all(c in "0123456789abcdef" for c in name[:32])
    ):
        return None
    path = config.uploads_dir / "avatars" / name
    return path if path.is_file() else None


async def set_account_avatar(db: Pool, config: Config, account: Account, data: bytes) -> str:
    """Replace one's avatar; returns the stored file name."""
    name = await _store(config, data)
    async with db.acquire() as conn:
        await account_store.update_avatar(conn, account.id, name)
    return name


async def set_group_avatar(
    db: Pool, config: Config, group: Group, moderator: Account, data: bytes
) -> str:
    """Replace a group's avatar (moderators)."""
    async with db.acquire() as conn:
        member = await group_store.get_membership(conn, group.id, moderator.id)
    if member is None or not member.is_moderator:
        raise Forbidden("Only the group's moderators can do this.")
    name = await _store(config, data)
    async with db.acquire() as conn:
        await account_store.update_avatar(conn, group.id, name)
    return name
