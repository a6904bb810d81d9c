"""A group's pinned library items on the wire: its `featured` collection, which Mastodon shows
as pinned posts (it fetches each item: fetch_featured_collection_service.rb).

Each item is a `Note` attributed to the group, with the link or the document's address.
"""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from federation.context import Federation
from federation.documents import CONTEXT, iso
from federation.jsondoc import AS_PUBLIC
from server.errors import DomainError
from server.models import Resource
from server.services import actors, resources


def resource_uri(fed: Federation, resource_id: int) -> str:
    return f"{fed.urls.base}/library/{resource_id}"


def note_document(fed: Federation, resource: Resource) -> dict[str, Any]:
    """Return the Note of a library item, readable in Mastodon."""
    uri = resource_uri(fed, resource.id)
    group_uri = f"{fed.urls.base}/groups/{resource.group_name}"
    target = resource.link or f"{uri}/file"
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
    return {
        "@context": CONTEXT,
        "id": uri,
        "type": "Note",
        "attributedTo": group_uri,
        "content": content,
        "url": uri,
        "published": iso(resource.created_at),
        "to": [AS_PUBLIC],
        "cc": [f"{group_uri}/followers"],
        "audience": group_uri,
        "tag": [
            {"type": "Hashtag", "href": f"{fed.urls.base}/tags/{t}", "name": f"#{t}"}
            for t in resource.tags
        ],
    }


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
    resource_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
    if resource_id is None:
        return JSONResponse({"error": "No such item"}, status_code=404)
    try:
        resource = await resources.get_resource(fed.db, resource_id, None)
    except DomainError as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    return JSONResponse(note_document(fed, resource), media_type="application/activity+json")
