"""The library of a group: members add links and documents; organizers pin items.

A document's type is read from its content, never trusted from its name: the name's extension
must agree with what the bytes are, or the upload is refused. Files get names of our own and
are served only to those who may read the group. A public group's items federate to its
followers, a members-only group's to its remote members alone (queued in the transaction that
adds or removes them). Items of remote public groups someone here follows are kept and shown
to the people who follow them; a remote members-only group's items are kept for the people
here it names who are its members, and shown to them alone.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import zipfile
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from server import validation as v
from server.config import Config
from server.db import Connection, Pool
from server.errors import Forbidden, Invalid, NotFound, Phrase
from server.models import Account, Actor, Group, RemoteResource, Resource
from server.sanitize import render_text, sanitize_html
from server.services.groups import can_read
from server.storage import follows as follow_store
from server.storage import groups as group_store
from server.storage import jobs as job_store
from server.storage import resources as store

# The job that sends a group's new item (Create) or its removal (Delete) to who may read it.
FEDERATE_RESOURCE = "federate_resource"
MAX_REMOTE_HTML = 20_000

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
        await job_store.insert_job(
            conn, FEDERATE_RESOURCE, {"resource_id": resource_id, "action": "create"}
        )
        resource = await store.get_resource(conn, resource_id)
    assert resource is not None
    return resource


async def remove_resource(db: Pool, config: Config, resource: Resource, account: Account) -> None:
    """Remove an item of the library: its author or the group's organizers may."""
    async with db.acquire() as conn, conn.transaction():
        organizer = await _require_member(conn, resource.group_id, account)
        if not organizer and resource.author_id != account.id:
            raise Forbidden("Only its author or the group's organizers can remove it.")
        if not await store.delete_resource(conn, resource.id):
            raise NotFound("This page does not exist.")
        await job_store.insert_job(
            conn, FEDERATE_RESOURCE,
            {"resource_id": resource.id, "action": "delete", "group_id": resource.group_id},
        )  # fmt: skip
    if resource.file_name is not None:
        (config.uploads_dir / FOLDER / resource.file_name).unlink(missing_ok=True)


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
    """Return an item the viewer may read (a remote group's item came from a public group)."""
    async with db.acquire() as conn:
        resource = await store.get_resource(conn, resource_id)
        if resource is None:
            raise NotFound("This page does not exist.")
        if resource.is_local:
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


# From federation: the items of remote public groups.


async def receive_resource(
    db: Pool,
    group: Actor,
    data: RemoteResource,
    *,
    public: bool = True,
    addressed_person_ids: tuple[int, ...] = (),
) -> int | None:
    """Keep (or refresh) a remote group's item for who may read it here.

    A public item is kept when someone here follows the group; a members-only one when it
    names people here whose Follow of the group was accepted (an accepted Follow of a
    members-only group is a membership), who become the members of the group kept here, as
    its posts and goals do. Only the group changes its own items. Return its id, None if not
    kept.
    """
    if group.is_local or group.kind != "group":
        raise Forbidden("Only a group publishes its library.")
    tags = [t for t in (t.lstrip("#").lower() for t in data.tags) if TAG_RE.match(t)][:MAX_TAGS]
    data = RemoteResource(
        uri=data.uri, url=data.url, title=" ".join(data.title.split())[:MAX_TITLE] or "…",
        description_html=sanitize_html(data.description_html[:MAX_REMOTE_HTML]),
        link=data.link, media_type=(data.media_type or "")[:100] or None,
        original_name=(data.original_name or "")[:200] or None, tags=tags,
    )  # fmt: skip
    # A link is https; a document may be served by the group's own instance over plain http
    # (an instance on a loopback address).
    same_host = urlsplit(data.link).netloc == urlsplit(data.uri).netloc
    if len(data.link) > MAX_LINK or not (
        data.link.startswith("https://") or (same_host and data.link.startswith("http://"))
    ):
        raise Invalid({"link": "Give a web address starting with https://."})
    async with db.acquire() as conn, conn.transaction():
        before = await store.find_resource_by_uri(conn, data.uri)
        if before is not None and before.group_id != group.id:
            raise Forbidden("Only the group can change its library.")
        if public:
            if before is None and not await follow_store.has_local_follower(conn, group.id):
                return None
        else:
            members = [
                person_id
                for person_id in addressed_person_ids
                if (follow := await follow_store.get_follow(conn, person_id, group.id))
                and follow.state == "accepted"
            ]
            if not members:
                return None
            await group_store.insert_mirror_group(conn, group.id)
            for person_id in members:
                await group_store.insert_membership(
                    conn, group.id, person_id, role="member", state="active"
                )
        return await store.upsert_remote_resource(conn, group.id, None, data)


async def receive_resource_delete(db: Pool, group: Actor, uri: str) -> bool:
    """Remove a remote group's item at the group's word; another actor changes nothing."""
    async with db.acquire() as conn, conn.transaction():
        found = await store.find_resource_by_uri(conn, uri)
        if found is None:
            return False
        if found.group_id != group.id:
            raise Forbidden("Only the group can change its library.")
        return await store.delete_resource(conn, found.id)


async def is_remote_resource(db: Pool, uri: str) -> bool:
    async with db.acquire() as conn:
        return await store.find_resource_by_uri(conn, uri) is not None


async def list_followed_resources(db: Pool, account: Account) -> list[Resource]:
    """Return the library items of the remote groups the account follows."""
    async with db.acquire() as conn:
        return await store.list_followed_resources(conn, account.id)


async def get_resource_any(db: Pool, resource_id: int) -> Resource:
    """Return an item whoever may read it (federation checks who may receive or fetch it)."""
    async with db.acquire() as conn:
        resource = await store.get_resource(conn, resource_id)
    if resource is None:
        raise NotFound("This page does not exist.")
    return resource
