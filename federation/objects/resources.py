"""A group's library on the wire: each item of a public group is a `Note` of the group sent to
its followers (`Create`, then `Delete` when removed); the pinned ones are also its `featured`
collection, which Mastodon shows as pinned posts (fetch_featured_collection_service.rb).
A members-only group's items go to its remote members alone, addressed to them, never to the
public or a followers collection; the Note and the document's bytes (`/library/ID/document`)
answer only a fetch signed by a member or a member's instance (FEDERATION.md, *Members-only*).

The Note holds the link or the document's address for Mastodon; a document is also an
`attachment` of type `Document` (mediaType, name, url), a link one of type `Link`, and
`entraide:resourceKind` tells an Entraide peer it is a library item (FEDERATION.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from federation.context import Federation
from federation.documents import CONTEXT, activity, iso, tombstone
from federation.jsondoc import AS_PUBLIC, id_of, ids_of, text_of, types_of
from federation.objects.addressing import local_actor_ids
from federation.objects.board import NAMESPACE
from federation.private_fetch import may_fetch_members_only
from federation.urls import number
from server.errors import DomainError
from server.models import Actor, Job, RemoteResource, Resource
from server.services import actors, outbox, resources
from server.worker import PermanentJobError

_PUBLIC = {AS_PUBLIC, "as:Public", "Public"}
RESOURCE_CONTEXT: list[Any] = [
    *CONTEXT,
    {"entraide": NAMESPACE, "Hashtag": "as:Hashtag", "resourceKind": "entraide:resourceKind"},
]


def resource_uri(fed: Federation, resource_id: int) -> str:
    return f"{fed.urls.base}/library/{resource_id}"


def note_document(
    fed: Federation, resource: Resource, members: list[str] | None = None
) -> dict[str, Any]:
    """Return the Note of a library item, readable in Mastodon; addressed to `members` alone
    when given (a members-only group's item), whose document is then fetched signed."""
    uri = resource_uri(fed, resource.id)
    group_uri = f"{fed.urls.base}/groups/{resource.group_name}"
    target = resource.link or (f"{uri}/file" if members is None else f"{uri}/document")
    tags = " ".join(
        f'<a href="{fed.urls.base}/tags/{t}" class="mention hashtag" rel="tag">'
        f"#<span>{t}</span></a>"
        for t in resource.tags
    )
    content = (
        f"<p><strong>{escape(resource.title)}</strong></p>{resource.description_html}"
        f'<p><a href="{escape(target)}">{escape(target)}</a></p>'
        + (f"<p>{tags}</p>" if tags else "")
    )
    if resource.link is not None:
        attachment = {"type": "Link", "href": resource.link, "name": resource.title,
                      "mediaType": "text/html"}  # fmt: skip
    else:
        attachment = {
            "type": "Document",
            "mediaType": (resource.media_type or "application/octet-stream").split(";")[0],
            "name": resource.original_name or resource.title,
            "url": target,
        }
    return {
        "@context": RESOURCE_CONTEXT,
        "id": uri,
        "type": "Note",
        "attributedTo": group_uri,
        "name": resource.title,
        "content": content,
        "url": uri,
        "published": iso(resource.created_at),
        "to": [AS_PUBLIC] if members is None else list(members),
        "cc": [f"{group_uri}/followers"] if members is None else [],
        "audience": group_uri,
        "tag": [
            {"type": "Hashtag", "href": f"{fed.urls.base}/tags/{t}", "name": f"#{t}"}
            for t in resource.tags
        ],
        "attachment": [attachment],
        "resourceKind": "link" if resource.link is not None else "document",
    }


def is_resource(document: dict[str, Any]) -> bool:
    """Tell an Entraide library item from any other Note."""
    return "Note" in types_of(document) and document.get("resourceKind") in ("link", "document")


def parse_resource(document: dict[str, Any]) -> RemoteResource | None:
    """Read a remote library item: its link, or its document's address and type."""
    uri = id_of(document)
    attachments = document.get("attachment")
    attachments = [attachments] if isinstance(attachments, dict) else attachments
    first = attachments[0] if isinstance(attachments, list) and attachments else None
    if uri is None or not isinstance(first, dict):
        return None
    is_document = document.get("resourceKind") == "document"
    link = first.get("url") if is_document else first.get("href")
    if not isinstance(link, str):
        return None
    url = document.get("url")
    raw_tags = document.get("tag")
    tags = raw_tags if isinstance(raw_tags, list) else []
    return RemoteResource(
        uri=uri,
        url=url if isinstance(url, str) else id_of(url),
        title=text_of(document.get("name"), 500),
        description_html=text_of(document.get("content"), 50_000),
        link=link,
        media_type=text_of(first.get("mediaType"), 100) if is_document else None,
        original_name=text_of(first.get("name"), 300) if is_document else None,
        tags=[text_of(t.get("name"), 50) for t in tags if isinstance(t, dict)
              and t.get("type") == "Hashtag"],
    )  # fmt: skip


async def receive_resource(fed: Federation, document: dict[str, Any], sender: Actor) -> str:
    """Keep a remote group's library item, published by the group itself: a public one for
    its followers here, a members-only one (not addressed to the public) for the members it
    names."""
    if id_of(document.get("attributedTo")) != sender.uri:
        return "refused: item not attributed to its group"
    data = parse_resource(document)
    if data is None or fed.urls.is_local(data.uri):
        return "refused: a library item without a usable link"
    addressed = ids_of(document.get("to")) + ids_of(document.get("cc"))
    public = bool(_PUBLIC.intersection(addressed))
    resource_id = await resources.receive_resource(
        fed.db, sender, data, public=public,
        addressed_person_ids=() if public else await local_actor_ids(fed, addressed, "person"),
    )  # fmt: skip
    return f"library item {resource_id}" if resource_id else "not for us"


async def receive_delete(fed: Federation, uri: str, sender: Actor) -> str:
    removed = await resources.receive_resource_delete(fed.db, sender, uri)
    return "library item removed" if removed else "ignored: unknown library item"


async def federate_resource(fed: Federation, job: Job) -> None:
    """Send a group's new library item, or its removal, to who may read it: a public group's
    followers, or a members-only group's remote members alone (each to their own inbox)."""
    resource_id = int(str(job.payload["resource_id"]))
    uri = resource_uri(fed, resource_id)
    resource = None
    if job.payload.get("action") == "delete":
        group_actor = await actors.get_actor(fed.db, int(str(job.payload["group_id"])))
    else:
        try:
            resource = await resources.get_resource_any(fed.db, resource_id)
        except DomainError:
            raise PermanentJobError("item is gone") from None
        group_actor = await actors.get_actor(fed.db, resource.group_id)
    group_uri = fed.urls.actor(group_actor)
    if await outbox.is_public_group(fed.db, group_actor.id):
        members = None
        to, cc = [AS_PUBLIC], [f"{group_uri}/followers"]
        inboxes = await outbox.follower_inboxes(fed.db, group_actor.id)
    else:
        recipients = await outbox.member_recipients(fed.db, group_actor.id)
        members = [member for member, _inbox in recipients]
        to, cc, inboxes = members, [], [inbox for _member, inbox in recipients]
    if members is not None and not inboxes:
        return  # no remote member: nothing to send, nothing to store
    if resource is None:
        activity_id, kind, obj = f"{uri}#delete", "Delete", tombstone(uri)
    else:
        activity_id, kind = f"{uri}/activity", "Create"
        obj = note_document(fed, resource, members)
    obj.pop("@context")
    document = activity(
        activity_id, kind, group_uri, obj, to=to, cc=cc, audience=group_uri,
        published=datetime.now(UTC),
    )  # fmt: skip
    document["@context"] = RESOURCE_CONTEXT
    await outbox.publish_activity(
        fed.db, uri=activity_id, actor_id=group_actor.id, type=kind, payload=document,
        inboxes=inboxes, public=members is None,
    )  # fmt: skip


async def featured_items(fed: Federation, name: str) -> list[dict[str, Any]]:
    """Return the pinned library items of a public group, as its featured collection lists."""
    try:
        group = await actors.get_local_actor(fed.db, name, kind="group")
    except DomainError:
        return []
    items = []
    for resource in await resources.list_featured(fed.db, group.id):
        note = note_document(fed, resource)
        note.pop("@context")
        items.append(note)
    return items


async def resource_json(request: Request) -> Response:
    fed: Federation = request.app.state.federation
    raw = str(request.path_params["resource_id"])
    resource_id = number(raw)
    if resource_id is None:
        return JSONResponse({"error": "No such item"}, status_code=404)
    resource = await _fetched_resource(fed, request, resource_id)
    if resource is None:
        return JSONResponse({"error": "No such item"}, status_code=404)
    if await outbox.is_public_group(fed.db, resource.group_id):
        return JSONResponse(note_document(fed, resource), media_type="application/activity+json")
    members = [uri for uri, _inbox in await outbox.member_recipients(fed.db, resource.group_id)]
    return JSONResponse(
        note_document(fed, resource, members), media_type="application/activity+json"
    )


async def _fetched_resource(fed: Federation, request: Request, resource_id: int) -> Resource | None:
    """Return a local item this fetch may read: any of a public group's, a members-only
    group's only to a fetch signed by a member or a member's instance; else None (404)."""
    try:
        resource = await resources.get_resource_any(fed.db, resource_id)
    except DomainError:
        return None
    if not resource.is_local:
        return None
    if not await outbox.is_public_group(fed.db, resource.group_id) and not (
        await may_fetch_members_only(fed, request, resource.group_id)
    ):
        return None
    return resource


async def document_file(request: Request) -> Response:
    """Serve a document's bytes to a peer: a members-only group's only to a signed fetch of a
    member or a member's instance (the web's `/library/ID/file` serves people signed in)."""
    fed: Federation = request.app.state.federation
    raw = str(request.path_params["resource_id"])
    resource_id = number(raw)
    resource = None if resource_id is None else await _fetched_resource(fed, request, resource_id)
    if resource is None or resource.file_name is None:
        return JSONResponse({"error": "No such item"}, status_code=404)
    try:
        path = resources.document_path(fed.config, resource)
    except DomainError:
        return JSONResponse({"error": "No such item"}, status_code=404)
    return FileResponse(
        path,
        media_type=resource.media_type,
        headers={
            "content-disposition": "attachment",
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )
