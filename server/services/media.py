"""Pictures uploaded from apps (Mastodon's media attachments), before the status that takes them.

An app uploads each picture first, gets an id, then sends the ids with the status. The picture
is checked and re-encoded as the web form's are (server/services/pictures.py); until a status
takes it, only its uploader can see, describe or use it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

from server.config import Config
from server.db import Connection, Pool
from server.errors import Invalid, NotFound, Phrase, RateLimited
from server.models import Account, Attachment, Job, MediaUpload
from server.services import pictures
from server.storage import jobs as job_store
from server.storage import media as store

NOT_FOUND = "Record not found"
MAX_BYTES = pictures.MAX_BYTES
MAX_PIXELS = pictures.MAX_PIXELS
MAX_PICTURES = pictures.MAX_PICTURES
# Mastodon's throttle on media (config/initializers/rack_attack.rb): 30 per 30 minutes per
# account. Each upload is a file on disk until a status takes it or nobody does.
UPLOADS_PER_WINDOW = 30
UPLOAD_WINDOW_SECONDS = 30 * 60
# Mastodon removes media no status took after a day (media_attachments vacuum): so do we.
FORGET_UPLOAD = "forget_upload"
UNPOSTED_KEPT = timedelta(days=1)
ACCEPTED_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def _description(value: str) -> str:
    value = " ".join(value.split())
    if len(value) > pictures.MAX_ALT:
        raise Invalid({"description": Phrase("{n} characters at most.", n=pictures.MAX_ALT)})
    return value


def _focus(value: str) -> tuple[float, float]:
    """Read Mastodon's focal point, "x,y" each from -1.0 to 1.0 (the centre by default)."""
    if not value.strip():
        return (0.0, 0.0)
    try:
        x, y = (float(part) for part in value.split(","))
    except ValueError:
        raise Invalid({"focus": "Give the focal point as x,y between -1 and 1."}) from None
    if not all(math.isfinite(c) and -1 <= c <= 1 for c in (x, y)):
        raise Invalid({"focus": "Give the focal point as x,y between -1 and 1."})
    return (x, y)


async def upload_media(
    db: Pool, config: Config, account: Account, data: bytes, *, description: str, focus: str
) -> MediaUpload:
    """Check, re-encode and keep a picture for the account's next status."""
    text = _description(description)
    point = _focus(focus)
    async with db.acquire() as conn:
        recent = await store.count_recent_uploads(conn, account.id, UPLOAD_WINDOW_SECONDS)
    if recent >= UPLOADS_PER_WINDOW:
        raise RateLimited("Too many requests")
    box = (pictures.POST_SIZE, pictures.POST_SIZE)
    picture = await asyncio.to_thread(pictures.reencode_picture, data, "file", box)
    (attachment,) = await pictures.write_post_pictures(config, [(picture, text)])
    async with db.acquire() as conn, conn.transaction():
        upload = await store.insert_upload(
            conn,
            account_id=account.id,
            file=attachment.url,
            media_type=attachment.media_type,
            width=picture.width,
            height=picture.height,
            description=text,
            focus=point,
        )
        await job_store.insert_job(
            conn, FORGET_UPLOAD, {"upload_id": upload.id}, run_at=datetime.now(UTC) + UNPOSTED_KEPT
        )
    return upload


async def get_own_upload(db: Pool, account: Account, upload_id: int) -> MediaUpload:
    """Return an upload no status took yet; another person's is not found (Mastodon: 404)."""
    async with db.acquire() as conn:
        upload = await store.get_upload(conn, upload_id)
    if upload is None or upload.account_id != account.id or upload.post_id is not None:
        raise NotFound(NOT_FOUND)
    return upload


async def update_media(
    db: Pool, account: Account, upload_id: int, *, description: str | None, focus: str | None
) -> MediaUpload:
    """Change the description or focal point of an upload before it is posted."""
    upload = await get_own_upload(db, account, upload_id)
    text = upload.description if description is None else _description(description)
    point = upload.focus if focus is None else _focus(focus)
    async with db.acquire() as conn:
        updated = await store.update_upload(conn, upload.id, description=text, focus=point)
    if updated is None:
        raise NotFound(NOT_FOUND)
    return updated


def check_media_ids(media_ids: list[int]) -> None:
    if len(media_ids) > pictures.MAX_PICTURES:
        raise Invalid({"media_ids": "Four pictures at most."})


def _check_free(uploads: list[MediaUpload], media_ids: list[int], account: Account) -> None:
    """Refuse ids that are unknown, another person's, already posted, or given twice."""
    if (
        len(uploads) != len(media_ids)
        or len(set(media_ids)) != len(media_ids)
        or any(u.account_id != account.id or u.post_id is not None for u in uploads)
    ):
        raise Invalid({"media_ids": "Some of these pictures are not yours to post."})


async def take_uploads(
    conn: Connection, account: Account, media_ids: list[int], post_id: int
) -> None:
    """Give the account's free uploads to its new post, inside the post's transaction.

    Mastodon (PostStatusService): ids that are not the poster's own, or already posted, are
    refused with 422, and nothing is published.
    """
    _check_free(await store.list_uploads(conn, media_ids), media_ids, account)
    await store.update_uploads_post(conn, media_ids, post_id)


async def list_attachable(db: Pool, account: Account, media_ids: list[int]) -> list[Attachment]:
    """Return the account's free uploads as a post's attachments, in the order given."""
    check_media_ids(media_ids)
    async with db.acquire() as conn:
        uploads = await store.list_uploads(conn, media_ids)
    _check_free(uploads, media_ids, account)
    return [Attachment(u.file, u.media_type, u.description, u.width, u.height) for u in uploads]


async def forget_unposted_upload(db: Pool, config: Config, upload_id: int) -> bool:
    """Delete an upload and its file if no status took it; tell whether it was deleted."""
    async with db.acquire() as conn:
        file = await store.delete_unposted_upload(conn, upload_id)
    if file is None:
        return False
    path = pictures.picture_path(config, file)
    if path is not None:
        await asyncio.to_thread(path[0].unlink, True)
    return True


def job_handlers(db: Pool, config: Config) -> Mapping[str, Callable[[Job], Awaitable[None]]]:
    """Return the worker's handler of the day-old uploads no status took."""

    async def forget_upload(job: Job) -> None:
        await forget_unposted_upload(db, config, int(str(job.payload["upload_id"])))

    return {FORGET_UPLOAD: forget_upload}
