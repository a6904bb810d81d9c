"""ActivityPub and discovery endpoints: WebFinger, host-meta, NodeInfo, actors, inboxes, outboxes.

Actor and post URLs are shared with the web pages: the composition root sends a request here
when it asks for ActivityStreams JSON (`wants_activity_json`), to the page otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from federation.context import Federation
from federation.documents import (
    actor_document,
    collection_page,
    members_only_note,
    note_document,
    ordered_collection,
    tombstone,
)
from federation.inbox import receive
from federation.objects.board import item_json
from federation.objects.events import event_activity, event_json
from federation.objects.mobilizations import mobilization_json
from federation.objects.petitions import petition_json
from federation.objects.resources import document_file, featured_items, resource_json
from federation.outgoing import post_tags
from federation.private_fetch import may_fetch_members_only
from federation.urls import number
from server.errors import DomainError, Gone, NotFound
from server.models import Actor
from server.services import actors, outbox

ACTIVITY_JSON = "application/activity+json"
PAGE_SIZE = 50
SOFTWARE_VERSION = "0.1.0"


class ActivityJSONResponse(JSONResponse):
    media_type = ACTIVITY_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def wants_activity_json(request: Request) -> bool:
    """Tell whether the client asked for ActivityStreams (Accept), rather than a page."""
    accept = request.headers.get("accept", "").lower()
    return (
        "application/activity+json" in accept
        or ("application/ld+json" in accept and "activitystreams" in accept)
        or accept.strip() == "application/ld+json"
    )


def _fed(request: Request) -> Federation:
    fed: Federation = request.app.state.federation
    return fed


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _avatar_url(fed: Federation, actor: Actor) -> str | None:
    return f"{fed.urls.base}/media/avatars/{actor.avatar}" if actor.avatar else None


async def _local_actor(request: Request, kind: str) -> Actor:
    name = (
        request.path_params.get("name")
        or request.path_params.get("username")
        or request.path_params.get("slug", "")
    )
    return await actors.get_local_actor(_fed(request).db, name, kind=kind)


async def actor_json(request: Request, kind: str) -> Response:
    fed = _fed(request)
    try:
        actor = await _local_actor(request, kind)
    except Gone:
        uri = f"{fed.urls.base}/{'groups' if kind == 'group' else 'users'}/"
        uri += request.path_params.get("username") or request.path_params.get("slug", "")
        return ActivityJSONResponse(tombstone(uri), status_code=410)
    except DomainError as exc:
        return _error(exc.status, exc.message)
    group = await actors.get_group_for_actor(fed.db, actor) if kind == "group" else None
    document = actor_document(fed.urls, actor, group=group, avatar_url=_avatar_url(fed, actor))
    return ActivityJSONResponse(document)


async def person_json(request: Request) -> Response:
    return await actor_json(request, "person")


async def group_json(request: Request) -> Response:
    return await actor_json(request, "group")


async def instance_actor(request: Request) -> Response:
    fed = _fed(request)
    return ActivityJSONResponse(actor_document(fed.urls, fed.instance_actor))


async def post_json(request: Request) -> Response:
    fed = _fed(request)
    post_id = number(str(request.path_params["post_id"]))
    if post_id is None:
        return _error(404, "No such post")
    post, deleted = await actors.get_post_any(fed.db, post_id)
    if deleted:
        return ActivityJSONResponse(tombstone(fed.urls.post(post_id)), status_code=410)
    if post is None or post.group_id is None or post.uri is not None:
        return _error(404, "No such post")
    members_only = not await outbox.is_public_group(fed.db, post.group_id)
    # Members-only: a 404 to anyone but a member's signed fetch, as if the post did not exist.
    if members_only and not await may_fetch_members_only(fed, request, post.group_id):
        return _error(404, "No such post")
    author = await actors.get_actor(fed.db, post.author_id)
    group = await actors.get_actor(fed.db, post.group_id)
    tags, _inboxes, mentioned = await post_tags(fed, post.content)
    note = note_document(fed.urls, post, fed.urls.actor(author), fed.urls.actor(group), tags)
    note["cc"] = [*note["cc"], *mentioned]  # as the Create sent them (federation/outgoing.py)
    if members_only:
        members = [uri for uri, _ in await outbox.member_recipients(fed.db, post.group_id)]
        note = {"@context": note["@context"]} | members_only_note(
            fed.urls, post, fed.urls.actor(author), fed.urls.actor(group), tags, members
        )
    if post.in_reply_to_id is not None:
        parent, _ = await actors.get_post_any(fed.db, post.in_reply_to_id)
        if parent is not None:
            note["inReplyTo"] = parent.uri or fed.urls.post(parent.id)
    elif post.event_id is not None:
        note["inReplyTo"] = f"{fed.urls.base}/events/{post.event_id}"
    return ActivityJSONResponse(note)


async def post_activity(request: Request) -> Response:
    """Serve the activities published about a post (its Create, the group's Announce)."""
    fed = _fed(request)
    uri = fed.urls.base + request.url.path
    if "\x00" in uri:  # PostgreSQL refuses to compare text holding NUL: it names nothing here
        return _error(404, "No such activity")
    document = await outbox.get_outbox_activity(fed.db, uri)
    if document is None:
        return _error(404, "No such activity")
    return ActivityJSONResponse(document)


async def inbox(request: Request) -> Response:
    reply = await receive(_fed(request), request)
    if reply.status == 202:
        return Response(status_code=202)
    return _error(reply.status, reply.message)


# Inbox POSTs are authenticated by HTTP signatures, not by a browser's CSRF token.
inbox.signature_checked = True  # type: ignore[attr-defined]


CollectionHandler = Callable[[Federation, Actor, Request], Awaitable[Response]]


def actor_collection(handler: CollectionHandler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a collection endpoint: find the local actor of /users/NAME/… or /groups/NAME/…."""

    async def endpoint(request: Request) -> Response:
        kind = "group" if request.url.path.startswith("/groups/") else "person"
        try:
            actor = await _local_actor(request, kind)
        except DomainError as exc:
            return _error(exc.status, exc.message)
        return await handler(_fed(request), actor, request)

    return endpoint


@actor_collection
async def outbox_collection(fed: Federation, actor: Actor, request: Request) -> Response:
    uri = f"{fed.urls.actor(actor)}/outbox"
    if actor.kind == "group" and not await outbox.is_public_group(fed.db, actor.id):
        return ActivityJSONResponse(ordered_collection(uri, 0, None, []))
    page = request.query_params.get("page")
    if page is None:
        total = await outbox.count_outbox(fed.db, actor.id)
        return ActivityJSONResponse(ordered_collection(uri, total, f"{uri}?page=true"))
    before = number(request.query_params.get("max_id", ""))
    rows = await outbox.list_outbox(fed.db, actor.id, before_id=before, limit=PAGE_SIZE)
    items = [{k: v for k, v in payload.items() if k != "@context"} for _, payload in rows]
    next_uri = f"{uri}?page=true&max_id={rows[-1][0]}" if len(rows) == PAGE_SIZE else None
    return ActivityJSONResponse(collection_page(f"{uri}?{request.url.query}", uri, items, next_uri))


@actor_collection
async def followers_collection(fed: Federation, actor: Actor, request: Request) -> Response:
    uri = f"{fed.urls.actor(actor)}/followers"
    # A members-only group's followers are its remote members: listed only to a fetch signed
    # by a member or a member's instance; anyone else sees an empty collection, no count.
    if (
        actor.kind == "group"
        and not await outbox.is_public_group(fed.db, actor.id)
        and not await may_fetch_members_only(fed, request, actor.id)
    ):
        return ActivityJSONResponse(ordered_collection(uri, 0, None, []))
    total = await actors.count_followers(fed.db, actor.id)
    # Nine digits: the page times its size stays a PostgreSQL bigint offset.
    page = number(request.query_params.get("page", ""), max_digits=9)
    if page is None or page < 1:
        return ActivityJSONResponse(ordered_collection(uri, total, f"{uri}?page=1"))
    followers = await actors.list_followers(fed.db, actor.id, page=page, size=PAGE_SIZE)
    items = [fed.urls.actor(f) for f in followers]
    next_uri = f"{uri}?page={page + 1}" if len(items) == PAGE_SIZE else None
    return ActivityJSONResponse(collection_page(f"{uri}?page={page}", uri, items, next_uri))


@actor_collection
async def following_collection(fed: Federation, actor: Actor, request: Request) -> Response:
    uri = f"{fed.urls.actor(actor)}/following"
    following = await actors.list_following(fed.db, actor.id)
    items = [fed.urls.actor(a) for a in following]
    return ActivityJSONResponse(ordered_collection(uri, len(items), None, items))


async def featured_collection(request: Request) -> Response:
    fed = _fed(request)
    uri = f"{fed.urls.base}{request.url.path}"
    # A public group's pinned library items; people pin nothing (yet).
    items = []
    if request.url.path.startswith("/groups/"):
        items = await featured_items(fed, str(request.path_params["name"]))
    return ActivityJSONResponse(ordered_collection(uri, len(items), None, items))


async def webfinger(request: Request) -> Response:
    fed = _fed(request)
    resource = unquote(request.query_params.get("resource", ""))[:300]
    name: str | None = None
    if resource.startswith("acct:"):
        user, _, host = resource[5:].lstrip("@").partition("@")
        if host.lower() == fed.urls.host:
            name = user
    elif resource.startswith(("https://", "http://")):
        name = fed.urls.local_actor_name(resource)
        if resource == f"{fed.urls.base}/actor":
            name = actors.INSTANCE_ACTOR
    if not name or not all(c.isalnum() or c == "_" for c in name):
        return _error(404, "No such resource here")
    try:
        actor = await actors.get_local_actor(fed.db, name)
    except NotFound:
        return _error(404, "No such resource here")
    uri = fed.urls.actor(actor)
    document = {
        "subject": f"acct:{actor.name}@{fed.urls.host}",
        "aliases": [uri],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": uri},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": uri},
            {
                "rel": "http://ostatus.org/schema/1.0/subscribe",
                "template": f"{fed.urls.base}/authorize_interaction?uri={{uri}}",
            },
        ],
    }
    return JSONResponse(
        document,
        media_type="application/jrd+json",
        headers={"access-control-allow-origin": "*"},
    )


async def host_meta(request: Request) -> Response:
    fed = _fed(request)
    template = f"{fed.urls.base}/.well-known/webfinger?resource={{uri}}"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{template}"/>\n'
        "</XRD>\n"
    )
    return Response(xml, media_type="application/xrd+xml")


async def host_meta_json(request: Request) -> Response:
    fed = _fed(request)
    template = f"{fed.urls.base}/.well-known/webfinger?resource={{uri}}"
    return JSONResponse({"links": [{"rel": "lrdd", "template": template}]})


async def nodeinfo_links(request: Request) -> Response:
    base = _fed(request).urls.base
    return JSONResponse(
        {
            "links": [
                {
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                    "href": f"{base}/nodeinfo/2.0",
                },
                {
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                    "href": f"{base}/nodeinfo/2.1",
                },
            ]
        }
    )


async def nodeinfo(request: Request) -> Response:
    fed = _fed(request)
    version = request.path_params["version"]
    if version not in ("2.0", "2.1"):
        return _error(404, "Unknown NodeInfo version")
    users, month, half_year, posts = await actors.usage_counts(fed.db)
    software: dict[str, str] = {"name": "entraide", "version": SOFTWARE_VERSION}
    if version == "2.1":
        software["homepage"] = fed.urls.base
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": fed.config.registrations == "open",
        "usage": {
            "users": {"total": users, "activeMonth": month, "activeHalfyear": half_year},
            "localPosts": posts,
        },
        "metadata": {"nodeName": urlsplit(fed.urls.base).hostname},
    }
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    return JSONResponse(document, media_type=f'application/json; profile="{profile}"')


NEGOTIATED = {
    "/users/{username}": person_json,
    "/groups/{slug}": group_json,
    "/posts/{post_id}": post_json,
    "/petitions/{petition_id}": petition_json,
    "/mobilizations/{mobilization_id}": mobilization_json,
    "/events/{event_id}": event_json,
    "/board/{item_id}": item_json,
    "/library/{resource_id}": resource_json,
}


def federation_routes() -> list[BaseRoute]:
    """Return the ActivityPub and discovery routes (the negotiated ones are in NEGOTIATED)."""
    return [
        Route("/.well-known/webfinger", webfinger),
        Route("/.well-known/host-meta", host_meta),
        Route("/.well-known/host-meta.json", host_meta_json),
        Route("/.well-known/nodeinfo", nodeinfo_links),
        Route("/nodeinfo/{version}", nodeinfo),
        Route("/actor", instance_actor),
        Route("/actor/inbox", inbox, methods=["POST"]),
        Route("/inbox", inbox, methods=["POST"]),
        Route("/users/{name}/inbox", inbox, methods=["POST"]),
        Route("/groups/{name}/inbox", inbox, methods=["POST"]),
        Route("/users/{name}/outbox", outbox_collection),
        Route("/groups/{name}/outbox", outbox_collection),
        Route("/users/{name}/followers", followers_collection),
        Route("/groups/{name}/followers", followers_collection),
        Route("/users/{name}/following", following_collection),
        Route("/groups/{name}/following", following_collection),
        Route("/users/{name}/featured", featured_collection),
        Route("/groups/{name}/featured", featured_collection),
        Route("/library/{resource_id}/document", document_file),
        Route("/posts/{post_id}/activity", post_activity),
        Route("/posts/{post_id}/announce", post_activity),
        # Updates, deletions and their Announces: /posts/ID/updates/…, /deletes/…, /announces/…
        Route("/posts/{post_id}/{kind}/{stamp}", post_activity),
        Route("/petitions/{petition_id}/announce", post_activity),
        Route("/petitions/{petition_id}/{kind}/{stamp}", post_activity),
        Route("/mobilizations/{mobilization_id}/activity", post_activity),
        Route("/board/{item_id}/activity", post_activity),
        Route("/board/{item_id}/{kind}/{stamp}", post_activity),
        Route("/mobilizations/{mobilization_id}/relays/{name}", post_activity),
        # An event's Create, Announce and Delete; its Updates and the answers to Joins.
        Route("/events/{event_id}/activity", event_activity),
        Route("/events/{event_id}/announce", event_activity),
        Route("/events/{event_id}/delete", event_activity, methods=["GET"]),
        Route("/events/{event_id}/{kind}/{stamp}", event_activity),
    ]
