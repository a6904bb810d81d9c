"""Mobilizations and alliances on the wire.

A mobilization is a `Note` by its group (Mastodon shows a clear post from the group, with what,
where and when in its text), typed `["Note", "Mobilization"]` with `entraide:` terms for
Entraide peers. Allied groups relay it with an `Announce` (a boost, in Mastodon) carrying
`hops`. An alliance is an `Offer` of an `Alliance` from one group to another, answered by the
other group's `Accept` (FEDERATION.md).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from federation.context import Federation
from federation.documents import CONTEXT, activity, iso
from federation.jsondoc import AS_PUBLIC, id_of, text_of, types_of
from federation.remote_actors import resolve_handle
from federation.urls import number
from server.errors import DomainError, NotFound
from server.models import Actor, Job, Mobilization, RemoteMobilization
from server.services import actors, mobilizations, outbox
from server.worker import PermanentJobError

NAMESPACE = "https://entraide.org/ns#"
MOBILIZATION_CONTEXT: list[Any] = [
    *CONTEXT,
    {
        "entraide": NAMESPACE,
        "Mobilization": "entraide:Mobilization",
        "Alliance": "entraide:Alliance",
        "urgency": "entraide:urgency",
        "why": "entraide:why",
        "howToHelp": "entraide:howToHelp",
        "hops": "entraide:hops",
    },
]


def mobilization_uri(fed: Federation, mobilization_id: int) -> str:
    return f"{fed.urls.base}/mobilizations/{mobilization_id}"


def local_mobilization_id(fed: Federation, uri: str) -> int | None:
    prefix = f"{fed.urls.base}/mobilizations/"
    rest = uri[len(prefix) :] if uri.startswith(prefix) else ""
    return number(rest)


def is_mobilization(document: dict[str, Any]) -> bool:
    return "Mobilization" in types_of(document) and isinstance(document.get("startTime"), str)


def note_document(fed: Federation, mobilization: Mobilization) -> dict[str, Any]:
    """Return the Note of a local mobilization."""
    uri = mobilization_uri(fed, mobilization.id)
    group_uri = f"{fed.urls.base}/groups/{mobilization.group_name}"
    return {
        "@context": MOBILIZATION_CONTEXT,
        "id": uri,
        "type": ["Note", "Mobilization"],
        "attributedTo": group_uri,
        "content": mobilization.content_html + f'<p><a href="{uri}">{uri}</a></p>',
        "url": uri,
        "published": iso(mobilization.created_at),
        "to": [AS_PUBLIC],
        "cc": [f"{group_uri}/followers"],
        "audience": group_uri,
        "summary": None,
        "name": mobilization.what,
        "startTime": iso(mobilization.starts_at),
        "location": {"type": "Place", "name": mobilization.place},
        "why": mobilization.why,
        "howToHelp": mobilization.how_to_help,
        "urgency": mobilization.urgency,
    }


def parse_mobilization(document: dict[str, Any]) -> RemoteMobilization:
    start = datetime.fromisoformat(str(document["startTime"]).replace("Z", "+00:00"))
    location = document.get("location")
    place = text_of(location.get("name"), 500) if isinstance(location, dict) else ""
    url = document.get("url")
    return RemoteMobilization(
        uri=str(document["id"]),
        url=url if isinstance(url, str) else id_of(url),
        what=text_of(document.get("name"), 500),
        place=place,
        starts_at=start if start.tzinfo else start.replace(tzinfo=UTC),
        why=text_of(document.get("why"), 10_000),
        how_to_help=text_of(document.get("howToHelp"), 10_000),
        urgency=text_of(document.get("urgency"), 20),
        content_html=text_of(document.get("content"), 100_000),
    )


def _hops(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


# Inbound


async def receive_created(fed: Federation, document: dict[str, Any], actor: Actor) -> str:
    """A group's own Create of its mobilization: the group is origin and sender."""
    if id_of(document.get("attributedTo")) != actor.uri:
        return "refused: the object is attributed to someone else"
    try:
        data = parse_mobilization(document)
    except ValueError:
        return "refused: bad startTime"
    return await mobilizations.receive_mobilization(fed.db, actor, data, sender=actor, hops=0)


async def receive_announced(
    fed: Federation, document: dict[str, Any], origin: Actor, sender: Actor, hops: Any
) -> str:
    """An ally's relay: the document was fetched from its origin, never taken from the relay."""
    try:
        data = parse_mobilization(document)
    except ValueError:
        return "refused: bad startTime"
    return await mobilizations.receive_mobilization(
        fed.db, origin, data, sender=sender, hops=_hops(hops)
    )


async def receive_relay_of_ours(fed: Federation, uri: str, relayer: Actor) -> str:
    mobilization_id = local_mobilization_id(fed, uri)
    if mobilization_id is None:
        return "ignored"
    return await mobilizations.receive_relay_of_ours(fed.db, mobilization_id, relayer)


async def on_offer(fed: Federation, offer: dict[str, Any], actor: Actor) -> str:
    """An alliance offered to a local group (the `target`)."""
    obj = offer.get("object")
    if not isinstance(obj, dict) or "Alliance" not in types_of(obj):
        return "ignored"
    name = fed.urls.local_actor_name(id_of(offer.get("target")) or "")
    if name is None:
        return "ignored: not for a group here"
    target = await actors.get_local_actor(fed.db, name, kind="group")
    return await mobilizations.receive_offer(fed.db, actor, target, str(offer["id"]))


def is_alliance_answer(obj: Any) -> bool:
    """Tell an Accept of an alliance Offer from an Accept of a Follow."""
    if isinstance(obj, dict):
        return "Offer" in types_of(obj)
    return isinstance(obj, str) and "#alliances/" in obj


async def on_alliance_answer(fed: Federation, answer: dict[str, Any], actor: Actor) -> str:
    offer_uri = id_of(answer.get("object"))
    if offer_uri is None or not fed.urls.is_local(offer_uri):
        return "ignored"
    if answer.get("type") != "Accept":
        return "ignored: declined"
    return await mobilizations.receive_accept(fed.db, actor, offer_uri)


# Outbound (jobs)


async def federate_mobilization(fed: Federation, job: Job) -> None:
    """Publish a mobilization: the group's Create, to its followers and its allies."""
    try:
        mobilization = await mobilizations.get_mobilization_any(
            fed.db, int(str(job.payload["mobilization_id"]))
        )
    except DomainError:
        raise PermanentJobError("mobilization is gone") from None
    group = await actors.get_actor(fed.db, mobilization.group_id)
    group_uri = fed.urls.actor(group)
    note = note_document(fed, mobilization)
    note.pop("@context")
    document = activity(
        f"{note['id']}/activity", "Create", group_uri, note, to=[AS_PUBLIC],
        cc=[f"{group_uri}/followers"], audience=group_uri, published=mobilization.created_at,
    )  # fmt: skip
    document["@context"] = MOBILIZATION_CONTEXT
    inboxes = await mobilizations.relay_inboxes(fed.db, group.id)
    await mobilizations.publish_urgent(
        fed.db, uri=document["id"], actor_id=group.id, type="Create", payload=document,
        mobilization_id=mobilization.id, inboxes=inboxes,
    )  # fmt: skip


async def relay_mobilization(fed: Federation, job: Job) -> None:
    """An allied group's Announce of a mobilization, to its own followers and allies."""
    mobilization = await mobilizations.get_mobilization_any(
        fed.db, int(str(job.payload["mobilization_id"]))
    )
    group = await actors.get_actor(fed.db, int(str(job.payload["group_id"])))
    if not await outbox.is_public_group(fed.db, group.id):
        return
    group_uri = fed.urls.actor(group)
    object_uri = mobilization.uri or mobilization_uri(fed, mobilization.id)
    document = activity(
        f"{mobilization_uri(fed, mobilization.id)}/relays/{group.name}", "Announce", group_uri,
        object_uri, to=[AS_PUBLIC], cc=[f"{group_uri}/followers"], audience=group_uri,
        published=datetime.now(UTC),
    )  # fmt: skip
    document["@context"] = MOBILIZATION_CONTEXT
    document["hops"] = int(str(job.payload.get("hops", 1)))
    inboxes = await mobilizations.relay_inboxes(fed.db, group.id)
    await mobilizations.publish_urgent(
        fed.db, uri=document["id"], actor_id=group.id, type="Announce", payload=document,
        mobilization_id=mobilization.id, inboxes=inboxes,
    )  # fmt: skip


async def send_alliance(fed: Federation, job: Job) -> None:
    """Send a group's Offer of alliance, or its Accept of one, to the other group's inbox."""
    group_id, ally_id = int(str(job.payload["group_id"])), int(str(job.payload["ally_id"]))
    alliance = await mobilizations.get_alliance_for_federation(fed.db, group_id, ally_id)
    group = await actors.get_actor(fed.db, group_id)
    ally = await actors.get_actor(fed.db, ally_id)
    if ally.inbox is None or ally.uri is None:
        raise PermanentJobError("ally has no inbox")
    group_uri = fed.urls.actor(group)
    offer = {
        "id": alliance.uri,
        "type": "Offer",
        "actor": group_uri if job.payload["kind"] == "Offer" else ally.uri,
        "object": {"type": "Alliance", "member": [group_uri, ally.uri]},
        "target": ally.uri if job.payload["kind"] == "Offer" else group_uri,
    }
    if job.payload["kind"] == "Offer":
        document = activity(alliance.uri, "Offer", group_uri, offer["object"], to=[ally.uri], cc=[])
        document["target"] = ally.uri
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)
        document = activity(
            f"{group_uri}#accepts/{stamp}", "Accept", group_uri, offer, to=[ally.uri], cc=[]
        )
    document["@context"] = MOBILIZATION_CONTEXT
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=group.id, type=document["type"], payload=document,
        inboxes=[ally.inbox], public=False,
    )  # fmt: skip


async def resolve_and_offer(fed: Federation, job: Job) -> None:
    """Find a remote group by its handle and offer it an alliance."""
    group = await actors.get_actor(fed.db, int(str(job.payload["group_id"])))
    ally = await resolve_handle(fed, str(job.payload["handle"]))
    offer_uri = f"{fed.urls.actor(group)}#alliances/{secrets.token_hex(8)}"
    try:
        await mobilizations.offer_to_remote(fed.db, group.id, ally, offer_uri)
    except DomainError as exc:
        raise PermanentJobError(exc.message) from None


# The document at the mobilization's id.


async def mobilization_json(request: Request) -> Response:
    fed: Federation = request.app.state.federation
    raw = str(request.path_params["mobilization_id"])
    try:
        mobilization_id = number(raw)
        if mobilization_id is None:
            raise NotFound("This mobilization does not exist.")
        mobilization = await mobilizations.get_mobilization(fed.db, mobilization_id, None)
        if not mobilization.is_local:
            raise NotFound("This mobilization does not exist.")
    except DomainError as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    return JSONResponse(note_document(fed, mobilization), media_type="application/activity+json")
