"""Events on the wire, shaped as Mobilizon sends and reads them (its converter `event.ex`).

Published: the group sends Create, Update (a cancellation is an Update whose status is
CANCELLED) and Delete of its Event to its followers and the remote participants, and Announces
the new Event (FEP-1b12). Participation: a remote Join is answered by the group's Accept, at
once or when a place frees; Leave and Undo{Join} end it. We send Leave, never Undo{Join}:
Mobilizon handles only Leave. Received: Events of followed groups are kept as events.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from federation.context import Federation
from federation.documents import CONTEXT, activity, iso, tombstone
from federation.jsondoc import AS_PUBLIC, PUBLIC_ALIASES, id_of, ids_of, text_of, types_of
from federation.objects.addressing import local_actor_ids
from federation.private_fetch import may_fetch_members_only
from federation.remote_actors import get_actor
from federation.urls import number
from server.errors import DomainError
from server.models import Actor, Event, Job
from server.services import actors, events, outbox, participation
from server.services.events import CATEGORIES
from server.validation import check_timezone
from server.worker import PermanentJobError

# The terms Mobilizon defines for events (its make_json_ld_header/0 in ap/utils.ex).
EVENT_CONTEXT: list[Any] = [
    *CONTEXT[:2],
    {
        **CONTEXT[2],
        "sc": "http://schema.org#",
        "mz": "https://joinmobilizon.org/ns#",
        "ical": "http://www.w3.org/2002/12/cal/ical#",
        "pt": "https://joinpeertube.org/ns#",
        "category": "sc:category",
        "maximumAttendeeCapacity": "sc:maximumAttendeeCapacity",
        "remainingAttendeeCapacity": "sc:remainingAttendeeCapacity",
        "location": {"@id": "sc:location", "@type": "sc:Place"},
        "PostalAddress": "sc:PostalAddress",
        "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
        "addressCountry": "sc:addressCountry",
        "postalCode": "sc:postalCode",
        "addressLocality": "sc:addressLocality",
        "streetAddress": "sc:streetAddress",
        "joinMode": {"@id": "mz:joinMode", "@type": "mz:joinModeType"},
        "participationMessage": {"@id": "mz:participationMessage", "@type": "sc:Text"},
        "participantCount": {"@id": "mz:participantCount", "@type": "sc:Integer"},
        "isOnline": {"@id": "mz:isOnline", "@type": "sc:Boolean"},
        "externalParticipationUrl": {"@id": "mz:externalParticipationUrl", "@type": "sc:URL"},
        "timezone": {"@id": "mz:timezone", "@type": "sc:Text"},
        "anonymousParticipationEnabled": {
            "@id": "mz:anonymousParticipationEnabled",
            "@type": "sc:Boolean",
        },
        "commentsEnabled": {"@id": "pt:commentsEnabled", "@type": "sc:Boolean"},
        "status": {"@id": "ical:status", "@type": "ical:status"},
        "inLanguage": "sc:inLanguage",
    },
]
# Our join modes and Mobilizon's (JoinOptions in lib/mobilizon/events/events.ex).
JOIN_MODES_OUT = {"free": "free", "approval": "restricted", "external": "external"}
JOIN_MODES_IN = {"free": "free", "restricted": "approval", "invite": "approval"}
_SUMMARY = {
    "en": ("{taken} / {capacity} places taken", "{n} taking part", "Cancelled"),
    "fr": ("{taken} / {capacity} places prises", "{n} participant·es", "Annulé"),
}


def event_uri(fed: Federation, event_id: int) -> str:
    return f"{fed.urls.base}/events/{event_id}"


def local_event_id(fed: Federation, uri: str | None) -> int | None:
    match = re.fullmatch(re.escape(fed.urls.base) + r"/events/(\d{1,18})", uri or "")
    return int(match.group(1)) if match else None


def event_summary(event: Event, language: str) -> str:
    """Say in plain text when, where and how full: what Mastodon shows of an Event."""
    zone = ZoneInfo(event.timezone)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    when = format_date(start.date(), format="full", locale=language)
    if not event.all_day:
        when += f", {format_time(start, 'short', locale=language)}"
        when += f" - {format_time(end, 'short', locale=language)} ({event.timezone})"
    elif (end - timedelta(days=1)).date() > start.date():
        when += " - " + format_date((end - timedelta(days=1)).date(), "full", locale=language)
    places, count, cancelled = _SUMMARY.get(language, _SUMMARY["en"])
    parts = [when]
    where = ", ".join(p for p in (event.place_name, event.street_address, event.locality) if p)
    if where:
        parts.append(where)
    if event.online_url:
        parts.append(event.online_url)
    if event.capacity is not None:
        parts.append(places.format(taken=event.participant_count, capacity=event.capacity))
    else:
        parts.append(count.format(n=event.participant_count))
    if event.status == "cancelled":
        parts.insert(0, cancelled.upper())
    return " · ".join(parts)


def event_document(
    fed: Federation, event: Event, group_uri: str, organizer_uri: str
) -> dict[str, Any]:
    """Return the Event of a local event, with the properties Mobilizon sends (model_to_as)."""
    uri = event_uri(fed, event.id)
    zone = ZoneInfo(event.timezone)
    status = event.status.upper()
    document: dict[str, Any] = {
        "@context": EVENT_CONTEXT,
        "id": uri,
        "type": "Event",
        "url": uri,
        "name": event.title,
        "content": event.description_html,
        "mediaType": "text/html",
        "summary": event_summary(event, fed.config.language),
        "startTime": event.starts_at.astimezone(zone).isoformat(),
        "endTime": event.ends_at.astimezone(zone).isoformat(),
        "timezone": event.timezone,
        "actor": organizer_uri,
        "attributedTo": group_uri,
        "audience": group_uri,
        "to": [AS_PUBLIC],
        "cc": [f"{group_uri}/followers"],
        "published": iso(event.created_at),
        "category": event.category,
        "joinMode": JOIN_MODES_OUT[event.join_mode],
        "externalParticipationUrl": event.external_url or None,
        # Mobilizon: 0 means no limit; remaining is null then.
        "maximumAttendeeCapacity": event.capacity or 0,
        "remainingAttendeeCapacity": event.remaining,
        "participantCount": event.participant_count,
        "status": status,
        "ical:status": status,  # Mobilizon 5.1 still sends and reads both
        "isOnline": bool(event.online_url) and not event.has_place,
        "anonymousParticipationEnabled": False,
        "commentsEnabled": True,
        "draft": False,
        "inLanguage": fed.config.language,
        "attachment": [],
    }
    if event.updated_at is not None:
        document["updated"] = iso(event.updated_at)
    if event.has_place:
        address = {
            "type": "PostalAddress",
            "streetAddress": event.street_address,
            "postalCode": event.postal_code,
            "addressLocality": event.locality,
            "addressCountry": event.country,
        }
        place: dict[str, Any] = {
            "type": "Place",
            "name": event.place_name or event.locality,
            "address": address,
        }
        if event.latitude is not None and event.longitude is not None:
            place["latitude"], place["longitude"] = event.latitude, event.longitude
        document["location"] = place
    if event.picture:
        # Mastodon shows an attachment with its `name` as the description; Mobilizon takes the
        # first Document as the banner when none is named "Banner".
        picture = f"{fed.urls.base}/media/avatars/{event.picture}"
        document["attachment"].append(
            {"type": "Document", "mediaType": "image/png", "url": picture,
             "name": event.picture_alt}
        )  # fmt: skip
        document["image"] = {"type": "Image", "url": picture, "name": event.picture_alt}
    if event.online_url:
        # Mobilizon reads the online address from the Link attachment named "Website".
        document["attachment"].append(
            {"type": "Link", "href": event.online_url, "mediaType": "text/html", "name": "Website"}
        )
    return document


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)


async def federate_event(fed: Federation, job: Job) -> None:
    """Publish a local event's Create, Update or Delete by its group, and Announce a new one."""
    try:
        event = await events.get_event_for_federation(fed.db, int(str(job.payload["event_id"])))
    except LookupError:
        raise PermanentJobError("event is gone") from None
    action = str(job.payload["action"])
    if not await outbox.is_public_group(fed.db, event.group_id):
        await _federate_members_only_event(fed, event, action)
        return
    if event.visibility != "public":
        return  # a public group's members-only event: its members all live here
    group = await actors.get_actor(fed.db, event.group_id)
    organizer = await actors.get_actor(fed.db, event.organizer_id)
    group_uri, uri = fed.urls.actor(group), event_uri(fed, event.id)
    followers = await outbox.follower_inboxes(fed.db, group.id)
    inboxes = followers + await participation.list_participant_inboxes(fed.db, event.id)
    now = datetime.now(UTC)
    to, cc = [AS_PUBLIC], [f"{group_uri}/followers"]
    if action == "delete" or event.deleted_at is not None:
        tomb = {"id": uri, "type": "Tombstone", "formerType": "Event", "deleted": iso(now)}
        document = activity(f"{uri}/delete", "Delete", group_uri, tomb, to=to, cc=cc)
    else:
        obj = event_document(fed, event, group_uri, fed.urls.actor(organizer))
        obj.pop("@context")
        if action == "create":
            document = activity(
                f"{uri}/activity", "Create", group_uri, obj, to=to, cc=cc,
                audience=group_uri, published=event.created_at,
            )  # fmt: skip
        else:
            document = activity(
                f"{uri}/updates/{_stamp()}", "Update", group_uri, obj, to=to, cc=cc,
                audience=group_uri, published=now,
            )  # fmt: skip
    document["@context"] = EVENT_CONTEXT
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=group.id, type=document["type"],
        payload=document, inboxes=inboxes,
    )  # fmt: skip
    if action == "create":
        announce = activity(
            f"{uri}/announce", "Announce", group_uri, uri, to=to, cc=cc,
            audience=group_uri, published=now,
        )  # fmt: skip
        await outbox.publish_activity(
            fed.db, uri=announce["id"], actor_id=group.id, type="Announce",
            payload=announce, inboxes=followers,
        )  # fmt: skip


async def _federate_members_only_event(fed: Federation, event: Event, action: str) -> None:
    """Send a members-only group's event to its remote members alone, addressed to them.

    Each member's own inbox, never a shared inbox or a followers collection, never the public,
    never listed (`public` false), no Announce: as the group's members-only posts.
    """
    recipients = await outbox.member_recipients(fed.db, event.group_id)
    if not recipients:
        return
    group = await actors.get_actor(fed.db, event.group_id)
    organizer = await actors.get_actor(fed.db, event.organizer_id)
    group_uri, uri = fed.urls.actor(group), event_uri(fed, event.id)
    to = [member for member, _inbox in recipients]
    now = datetime.now(UTC)
    if action == "delete" or event.deleted_at is not None:
        tomb = {"id": uri, "type": "Tombstone", "formerType": "Event", "deleted": iso(now)}
        document = activity(f"{uri}/delete", "Delete", group_uri, tomb, to=to, cc=[])
    else:
        obj = members_only_event(
            event_document(fed, event, group_uri, fed.urls.actor(organizer)), to
        )
        kind, suffix = (
            ("Create", "activity") if action == "create" else ("Update", f"updates/{_stamp()}")
        )
        document = activity(
            f"{uri}/{suffix}", kind, group_uri, obj, to=to, cc=[], audience=group_uri,
            published=event.created_at if action == "create" else now,
        )  # fmt: skip
    document["@context"] = EVENT_CONTEXT
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=group.id, type=document["type"], payload=document,
        inboxes=[inbox for _member, inbox in recipients], public=False,
    )  # fmt: skip


def members_only_event(document: dict[str, Any], members: list[str]) -> dict[str, Any]:
    """Return an Event addressed to a members-only group's members alone."""
    document = {k: v for k, v in document.items() if k != "@context"}
    document["to"], document["cc"] = list(members), []
    return document


def _join(participant_uri: str, join_uri: str, event_id_uri: str, message: str) -> dict[str, Any]:
    return {
        "id": join_uri,
        "type": "Join",
        "actor": participant_uri,
        "object": event_id_uri,
        "participationMessage": message or None,
    }


async def send_event_response(fed: Federation, job: Job) -> None:
    """Send the group's Accept or Reject of a remote person's Join."""
    try:
        participant, event = await participation.get_participation_for_federation(
            fed.db, int(str(job.payload["participant_id"]))
        )
    except LookupError:
        raise PermanentJobError("participation is gone") from None
    person = await actors.get_actor(fed.db, participant.actor_id)
    group = await actors.get_actor(fed.db, event.group_id)
    if person.inbox is None or person.uri is None or participant.join_uri is None:
        raise PermanentJobError("participant has no inbox")
    kind = "Accept" if job.payload.get("accept") else "Reject"
    uri, group_uri = event_uri(fed, event.id), fed.urls.actor(group)
    join = _join(person.uri, participant.join_uri, uri, participant.message)
    document = activity(
        f"{uri}/{kind.lower()}s/{participant.id}-{_stamp()}", kind, group_uri, join,
        to=[person.uri], cc=[],
    )  # fmt: skip
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=group.id, type=kind, payload=document,
        inboxes=[person.inbox], public=False,
    )  # fmt: skip


async def send_event_join(fed: Federation, job: Job) -> None:
    """Send a local person's Join (or Leave) of a remote event to its group and organizer."""
    event_row = await events.find_event_by_id(fed.db, int(str(job.payload["event_id"])))
    if event_row is None or event_row.uri is None:
        raise PermanentJobError("event is gone or local")
    person = await actors.get_actor(fed.db, int(str(job.payload["actor_id"])))
    group = await actors.get_actor(fed.db, event_row.group_id)
    organizer = await actors.get_actor(fed.db, event_row.organizer_id)
    person_uri = fed.urls.actor(person)
    join_uri = str(job.payload["join_uri"])
    recipients = [a for a in (group, organizer) if a.uri is not None]
    to = sorted({str(a.uri) for a in recipients})
    if job.payload.get("leave"):
        document = activity(f"{join_uri}/leave", "Leave", person_uri, event_row.uri, to=to, cc=[])
    else:
        join = _join(person_uri, join_uri, event_row.uri, str(job.payload.get("message") or ""))
        document = {"@context": EVENT_CONTEXT, **join, "to": to, "cc": []}
    inboxes = sorted({a.inbox for a in recipients if a.inbox})
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=person.id, type=document["type"],
        payload=document, inboxes=inboxes, public=False,
    )  # fmt: skip


# Receiving


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _zone_name(value: Any) -> str:
    # Only names from the list: ZoneInfo("Europe") raises IsADirectoryError, not a lookup error.
    return value if isinstance(value, str) and check_timezone(value) is None else "UTC"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def read_event(document: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    """Read a peer's Event into the values events are stored with, and its participant count."""
    start = _moment(document.get("startTime"))
    if start is None:
        raise DomainError("The event has no usable startTime.")
    end = _moment(document.get("endTime"))
    if end is None:
        try:
            end = start + timedelta(hours=1)
        except OverflowError:
            raise DomainError("The event's dates are out of range.") from None
    location = document.get("location")
    place = location if isinstance(location, dict) else {}
    address = place.get("address")
    postal = address if isinstance(address, dict) else {}
    if isinstance(location, str):
        place = {"name": location}
    if isinstance(address, str):
        postal = {"streetAddress": address}
    latitude, longitude = _number(place.get("latitude")), _number(place.get("longitude"))
    if (
        latitude is None
        or not -90 <= latitude <= 90
        or longitude is None
        or not -180 <= longitude <= 180
    ):
        latitude = longitude = None
    online = ""
    attachments = document.get("attachment")
    for item in attachments[:50] if isinstance(attachments, list) else []:
        if isinstance(item, dict) and item.get("type") == "Link" and item.get("name") == "Website":
            href = text_of(item.get("href"), 2000)
            online = href if href.startswith(("https://", "http://")) else ""
    status = text_of(document.get("status") or document.get("ical:status"), 20).lower()
    category = text_of(document.get("category"), 60)
    capacity = document.get("maximumAttendeeCapacity")
    count = document.get("participantCount")
    external = text_of(document.get("externalParticipationUrl"), 2000)
    mode = text_of(document.get("joinMode"), 20)
    visible = bool(
        PUBLIC_ALIASES.intersection(ids_of(document.get("to")) + ids_of(document.get("cc")))
    )
    values = {
        "title": text_of(document.get("name"), 200).strip(),
        "description": "",
        "description_html": text_of(document.get("content"), 2_000_000),
        "starts_at": start,
        "ends_at": end,
        "timezone": _zone_name(document.get("timezone")),
        "all_day": False,
        "place_name": text_of(place.get("name"), 200),
        "street_address": text_of(postal.get("streetAddress"), 200),
        "postal_code": text_of(postal.get("postalCode"), 200),
        "locality": text_of(postal.get("addressLocality"), 200),
        "country": text_of(postal.get("addressCountry"), 200),
        "latitude": latitude,
        "longitude": longitude,
        "online_url": online,
        "category": category if category in CATEGORIES else "MEETING",
        "status": status if status in ("confirmed", "tentative", "cancelled") else "confirmed",
        "visibility": "public" if visible else "members",
        "capacity": capacity if isinstance(capacity, int) and 0 < capacity <= 1_000_000 else None,
        "join_mode": "external" if mode == "external" else JOIN_MODES_IN.get(mode, "free"),
        "external_url": external if external.startswith(("https://", "http://")) else "",
        "question": "",
        "show_participants": False,
    }
    participant_count = count if isinstance(count, int) and 0 <= count <= 10_000_000 else None
    return values, participant_count


def _same_host(a: str, b: str) -> bool:
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()


async def receive_event_document(fed: Federation, document: dict[str, Any], sender: Actor) -> str:
    """Keep an Event a peer sent or announced; `sender` signed the activity that carried it."""
    uri = id_of(document)
    if uri is None or fed.urls.is_local(uri):
        return "ignored: our own event"
    if not _same_host(uri, str(sender.uri)):
        return "refused: the event is not on the sender's host"
    group_uri = next(iter(ids_of(document.get("attributedTo"))), None)
    organizer_uri = id_of(document.get("actor")) or group_uri
    if group_uri is None or organizer_uri is None:
        return "refused: the event names no group or organizer"
    if not _same_host(group_uri, uri) or not _same_host(organizer_uri, uri):
        return "refused: the event's group is on another host"
    values, count = read_event(document)
    group = sender if group_uri == sender.uri else await get_actor(fed, group_uri)
    organizer = group if organizer_uri == group_uri else await get_actor(fed, organizer_uri)
    url = document.get("url")
    stored = await events.receive_event(
        fed.db,
        sender,
        uri=uri,
        url=url if isinstance(url, str) and _same_host(url, uri) else uri,
        group=group,
        organizer=organizer,
        values=values,
        participant_count=count,
    )
    if stored is None:
        return "not for us: no one here follows the event's group"
    event_id, inserted = stored
    return f"stored event {event_id}" if inserted else f"updated event {event_id}"


async def on_event_create(
    fed: Federation, activity_doc: dict[str, Any], obj: dict[str, Any], actor: Actor
) -> str:
    return await receive_event_document(fed, obj, actor)


async def on_announced_event(fed: Federation, uri: str, announcer: Actor) -> str:
    """An Announce of an Event: fetch it from its origin, never trusting the copy."""
    if await events.find_event_by_uri(fed.db, uri) is not None:
        return "already known"
    document = await fed.http.get_json(uri, fed.instance_signer)
    if "Event" not in types_of(document):
        return "ignored: not an event"
    group_uri = next(iter(ids_of(document.get("attributedTo"))), None)
    if group_uri is None or not _same_host(group_uri, uri):
        return "refused: event not attributed on its own host"
    group = await get_actor(fed, group_uri)
    return await receive_event_document(fed, document, group)


async def is_known_event(fed: Federation, uri: str) -> bool:
    return await events.find_event_by_uri(fed.db, uri) is not None


async def on_event_delete(fed: Federation, uri: str, actor: Actor) -> str:
    event_id = await events.receive_event_delete(fed.db, actor, uri)
    return f"deleted event {event_id}"


async def _addressed_groups(fed: Federation, activity_doc: dict[str, Any]) -> tuple[int, ...]:
    refs = ids_of(activity_doc.get("to")) + ids_of(activity_doc.get("cc"))
    return await local_actor_ids(fed, refs + ids_of(activity_doc.get("audience")), "group")


async def on_join(fed: Federation, activity_doc: dict[str, Any], actor: Actor) -> str:
    event_id = local_event_id(fed, id_of(activity_doc.get("object")))
    if event_id is None:
        return "ignored: not one of our events"
    participant = await participation.receive_join(
        fed.db,
        actor,
        event_id,
        join_uri=str(activity_doc["id"]),
        message=text_of(activity_doc.get("participationMessage"), 1000),
        addressed_group_ids=await _addressed_groups(fed, activity_doc),
    )
    return f"joined: {participant.state}"


async def on_leave(fed: Federation, activity_doc: dict[str, Any], actor: Actor) -> str:
    obj = activity_doc.get("object")
    join_uri = id_of(obj) if isinstance(obj, dict) and "Join" in types_of(obj) else None
    target = obj.get("object") if isinstance(obj, dict) and join_uri else obj
    event_id = local_event_id(fed, id_of(target))
    if event_id is None and join_uri is None:
        return "ignored: not one of our events"
    left = await participation.receive_leave(fed.db, actor, event_id=event_id, join_uri=join_uri)
    return f"left event {left}"


def is_join_response(activity_doc: dict[str, Any], fed: Federation) -> bool:
    """Tell whether an Accept or Reject answers a Join (embedded, or one of our join ids)."""
    obj = activity_doc.get("object")
    if isinstance(obj, dict):
        return "Join" in types_of(obj)
    uri = id_of(obj)
    return uri is not None and fed.urls.is_local(uri) and "/joins/" in uri


async def on_join_response(fed: Federation, activity_doc: dict[str, Any], actor: Actor) -> str:
    join_uri = id_of(activity_doc.get("object"))
    if join_uri is None or not fed.urls.is_local(join_uri):
        return "ignored: not our join"
    accepted = activity_doc.get("type") == "Accept"
    answered = await participation.receive_join_response(fed.db, actor, join_uri, accepted=accepted)
    return f"participation {answered.state}"


async def event_json(request: Request) -> Response:
    """Serve a local event as ActivityStreams (410 with a Tombstone once deleted)."""
    fed: Federation = request.app.state.federation
    raw = str(request.path_params["event_id"])
    event_id = number(raw)
    if event_id is None:
        return JSONResponse({"error": "No such event"}, status_code=404)
    try:
        event = await events.get_event_for_federation(fed.db, event_id)
    except LookupError:
        return JSONResponse({"error": "No such event"}, status_code=404)
    media = "application/activity+json"
    if event.deleted_at is not None:
        return JSONResponse(tombstone(event_uri(fed, event.id)), status_code=410, media_type=media)
    members_only = not await outbox.is_public_group(fed.db, event.group_id)
    # A members-only group's event answers only a member's (or their instance's) signed fetch;
    # anyone else is told nothing exists (404, as for its posts).
    if members_only and not await may_fetch_members_only(fed, request, event.group_id):
        return JSONResponse({"error": "No such event"}, status_code=404)
    if event.visibility != "public" and not members_only:
        return JSONResponse({"error": "This event is for members only"}, status_code=403)
    group = await actors.get_actor(fed.db, event.group_id)
    organizer = await actors.get_actor(fed.db, event.organizer_id)
    document = event_document(fed, event, fed.urls.actor(group), fed.urls.actor(organizer))
    if members_only:
        members = [uri for uri, _inbox in await outbox.member_recipients(fed.db, event.group_id)]
        document = {"@context": EVENT_CONTEXT} | members_only_event(document, members)
    return JSONResponse(document, media_type=media)


async def event_activity(request: Request) -> Response:
    """Serve an activity published about a local event (its Create, Announce, Updates...)."""
    fed: Federation = request.app.state.federation
    raw = str(request.path_params["event_id"])
    uri = fed.urls.base + request.url.path
    # PostgreSQL refuses to compare text holding NUL: such an address names nothing here.
    if number(raw) is None or "\x00" in uri:
        return JSONResponse({"error": "No such activity"}, status_code=404)
    document = await outbox.get_outbox_activity(fed.db, uri)
    if document is None:
        return JSONResponse({"error": "No such activity"}, status_code=404)
    return JSONResponse(document, media_type="application/activity+json")
