"""The library of a group: members add links and documents; organizers pin items.

A document's type is read from its content, never trusted from its name: the name's extension
must agree with what the bytes are, or the upload is refused. Files get names of our own and
are served only to those who may read the group.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import zipfile
from io import BytesIO
from pathlib import Path

from server import validation as v
from server.config import Config
from server.db import Connection, Pool
from server.errors import Forbidden, Invalid, NotFound, Phrase
from server.models import Account, Group, Resource
from server.sanitize import render_text
from server.services.groups import can_read
from server.storage import groups as group_store
from server.storage import resources as store

FOLDER = "documents"
MAX_BYTES = 8 * 1024 * 1024
MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_LINK = 2000
MAX_TAGS = 8
TAG_RE = re.compile(r"^[\w-]{1,40}$")
# What each accepted extension must be, and the media type it is served with. Pictures go in
# posts, where their metadata (place, camera) is removed; the library takes documents.
KINDS = {
    "pdf": ("pdf", "application/pdf"),
    "odt": ("odt", "application/vnd.oasis.opendocument.text"),
    "ods": ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    "txt": ("text", "text/plain; charset=utf-8"),
    "md": ("text", "text/plain; charset=utf-8"),
    "csv": ("text", "text/csv; charset=utf-8"),
}
_ODF = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}


def sniff(data: bytes) -> str | None:
    """Return what the bytes are (pdf, png, jpeg, odt, ods, text), or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        # OpenDocument: a zip whose first entry, stored uncompressed, is `mimetype`.
        try:
            with zipfile.ZipFile(BytesIO(data)) as archive:
                first = archive.infolist()[0]
                if first.filename == "mimetype" and first.file_size < 200:
                    return _ODF.get(archive.read(first).strip())
        except (zipfile.BadZipFile, IndexError, KeyError, OSError):
            return None
        return None
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text"


def check_document(data: bytes, filename: str) -> tuple[str, str]:
    """Return (extension, media type) of an acceptable document, or raise Invalid."""
    if len(data) > MAX_BYTES:
        raise Invalid({"document": Phrase("{n} MB at most.", n=MAX_BYTES // (1024 * 1024))})
    extension = Path(filename).suffix.lower().lstrip(".")
    if extension not in KINDS:
        raise Invalid({"document": "PDF, OpenDocument or text files only."})
    kind, media_type = KINDS[extension]
    if not data or sniff(data) != kind:
        raise Invalid({"document": "This file's content is not what its name says."})
    return extension, media_type


def parse_tags(value: str) -> tuple[list[str], str | None]:
    tags = []
    for raw in re.split(r"[\s,]+", value.strip()):
        tag = raw.lstrip("#").lower()
        if not tag:
            continue
        if not TAG_RE.match(tag):
            return [], "Tags are words of letters, digits, - and _."
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        return [], Phrase("{n} tags at most.", n=MAX_TAGS)
    return tags, None


async def _require_member(conn: Connection, group_id: int, account: Account) -> bool:
    """Check the account is an active member; return whether they are an organizer."""
    member = await group_store.get_membership(conn, group_id, account.id)
    if member is None or member.state != "active":
        raise Forbidden("Only the group's members can do this.")
    return member.is_moderator


async def add_resource(
    db: Pool,
    config: Config,
    group: Group,
    author: Account,
    *,
    title: str,
    description: str,
    tags: str,
    link: str = "",
    document: tuple[bytes, str] | None = None,
) -> Resource:
    """Add a link or a document (data, file name) to a group's library."""
    title, link = title.strip(), link.strip()
    tag_list, tags_error = parse_tags(tags)
    errors = v.collect(
        title=v.check_text(title, max_length=MAX_TITLE, required=True),
        description=v.check_text(description, max_length=MAX_DESCRIPTION),
        tags=tags_error,
    )
    if (document is None) == (not link):
        errors["link"] = "Give a link or a document (one of them)."
    elif link and (not link.startswith("https://") or len(link) > MAX_LINK or " " in link):
        errors["link"] = "Give a web address starting with https://."
    checked = None
    if document is not None:
        try:
            checked = check_document(*document)
        except Invalid as exc:
            errors.update(exc.fields)
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn:
        await _require_member(conn, group.id, author)
    file_name = media_type = original_name = None
    size = None
    if document is not None and checked is not None:
        extension, media_type = checked
        folder = config.uploads_dir / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        # The name is ours, never the uploader's: no path traversal, no guessable names.
        file_name = f"{secrets.token_hex(16)}.{extension}"
        await asyncio.to_thread((folder / file_name).write_bytes, document[0])
        size, original_name = len(document[0]), Path(document[1]).name[:200]
    async with db.acquire() as conn, conn.transaction():
        resource_id = await store.insert_resource(
            conn, group_id=group.id, author_id=author.id, title=title, description=description,
            description_html=render_text(description), link=link or None, file_name=file_name,
            media_type=media_type, size=size, original_name=original_name, tags=tag_list,
        )  # fmt: skip
        resource = await store.get_resource(conn, resource_id)
    assert resource is not None
    return resource


async def _require_reader(conn: Connection, group_id: int, viewer: Account | None) -> Group:
    group = await group_store.get_group(conn, group_id)
    membership = await group_store.get_membership(conn, group_id, viewer.id) if viewer else None
    if group is None or not can_read(group, membership):
        raise Forbidden("This group shares its posts with members only.")
    return group


async def list_library(
    db: Pool, group: Group, viewer: Account | None, *, tag: str = ""
) -> list[Resource]:
    """Return the library the viewer may read, pinned items first."""
    tag = tag.strip().lstrip("#").lower()
    async with db.acquire() as conn:
        await _require_reader(conn, group.id, viewer)
        return await store.list_resources(conn, group.id, tag=tag if TAG_RE.match(tag) else None)


async def get_resource(db: Pool, resource_id: int, viewer: Account | None) -> Resource:
    async with db.acquire() as conn:
        resource = await store.get_resource(conn, resource_id)
        if resource is None:
            raise NotFound("This page does not exist.")
        await _require_reader(conn, resource.group_id, viewer)
    return resource


def document_path(config: Config, resource: Resource) -> Path:
    """Return the stored file of a document (its name is ours: no traversal)."""
    if resource.file_name is None:
        raise NotFound("This page does not exist.")
    path = config.uploads_dir / FOLDER / resource.file_name
    if not path.is_file():
        raise NotFound("This page does not exist.")
    return path


async def set_pinned(db: Pool, resource: Resource, organizer: Account, *, pinned: bool) -> None:
    """Pin or unpin an item of the library; only the group's organizers may."""
    async with db.acquire() as conn:
        if not await _require_member(conn, resource.group_id, organizer):
            raise Forbidden("Only the group's organizers can do this.")
        await store.update_pinned(conn, resource.id, pinned=pinned)


async def list_featured(db: Pool, group_id: int) -> list[Resource]:
    """Return the pinned items of a public group (its `featured` collection); none otherwise."""
    async with db.acquire() as conn:
        group = await group_store.get_group(conn, group_id)
        if group is None or group.visibility != "public":
            return []
        return await store.list_pinned(conn, group_id)
