"""Petitions on the wire: a `Question` with one option, which Mastodon shows as a poll.

A vote (Mastodon: a `Create` of a `Note` with `name` and `inReplyTo`, one per option, to the
poll author's inbox: app/services/vote_service.rb) is a signature. The count is the Question's
`votersCount` and the option's `replies.totalItems`, refreshed by `Update`s (Mastodon applies
an Update of a Question as new tallies: process_status_update_service.rb#update_poll!).
Entraide peers read the rest from the `entraide:` extension terms (FEDERATION.md).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from federation.context import Federation
from federation.documents import CONTEXT, activity, iso
from federation.jsondoc import AS_PUBLIC, id_of, text_of, types_of
from federation.remote_actors import get_actor
from federation.urls import number
from server.errors import DomainError
from server.models import Actor, Job, Petition, RemotePetition
from server.services import actors, outbox, petitions
from server.worker import PermanentJobError

NAMESPACE = "https://entraide.org/ns#"
PETITION_CONTEXT: list[Any] = [
    *CONTEXT,
    {
        "votersCount": "toot:votersCount",
        "entraide": NAMESPACE,
        "Petition": "entraide:Petition",
        "goal": "entraide:goal",
        "addressee": "entraide:addressee",
        "petitionStatus": "entraide:petitionStatus",
        "statusNote": "entraide:statusNote",
        "petitionText": "entraide:petitionText",
        "publicSignature": "entraide:publicSignature",
    },
]
# Mastodon's web app took a poll without endTime for closed until 4.6.4 (#39949): a petition
# without a deadline announces one a year after its publication.
OPEN_ENDED = timedelta(days=365)
_LABELS = {
    "fr": ("Pétition adressée à", "Objectif : {goal} signatures"),
    "en": ("Petition to", "Goal: {goal} signatures"),
}
# A status change is an edit of the post for Mastodon (a newer `updated`): its text says it.
_STATUSES = {
    "fr": {"closed": "Close", "delivered": "Remise", "won": "Gagnée", "lost": "Perdue"},
    "en": {"closed": "Closed", "delivered": "Delivered", "won": "Won", "lost": "Lost"},
}


def petition_uri(fed: Federation, petition_id: int) -> str:
    return f"{fed.urls.base}/petitions/{petition_id}"


def local_petition_id(fed: Federation, uri: str) -> int | None:
    prefix = f"{fed.urls.base}/petitions/"
    rest = uri[len(prefix) :] if uri.startswith(prefix) else ""
    return number(rest)


def is_petition(document: dict[str, Any]) -> bool:
    """Tell a petition (ours or another Entraide's) from any other Question."""
    return "Question" in types_of(document) and isinstance(document.get("goal"), int)


def is_vote(document: dict[str, Any]) -> bool:
    """Tell a poll vote: a Note with `name` and `inReplyTo` and no `content` (Mastodon)."""
    return (
        "Note" in types_of(document)
        and isinstance(document.get("name"), str)
        and id_of(document.get("inReplyTo")) is not None
        and not document.get("content")
    )


def question_document(fed: Federation, petition: Petition) -> dict[str, Any]:
    """Return the Question of a local petition, with its current count."""
    uri = petition_uri(fed, petition.id)
    group_uri = f"{fed.urls.base}/groups/{petition.group_name}"
    to_label, goal_label = _LABELS.get(fed.config.language, _LABELS["en"])
    content = (
        f"<p><strong>{escape(petition.title)}</strong></p>"
        f"<p>{to_label} : {escape(petition.addressee)}</p>"
        f"{_status_line(fed.config.language, petition)}"
        f"{petition.body_html}"
        # No count here: Mastodon shows the poll's tally, which Updates refresh.
        f"<p>{goal_label.format(goal=petition.goal)}</p>"
        f'<p><a href="{uri}">{uri}</a></p>'
    )
    end = petition.deadline or petition.created_at + OPEN_ENDED
    document: dict[str, Any] = {
        "@context": PETITION_CONTEXT,
        "id": uri,
        "type": ["Question", "Petition"],
        "attributedTo": group_uri,
        "name": petition.title,
        "content": content,
        "url": uri,
        "published": iso(petition.created_at),
        "updated": iso(petition.updated_at),
        "to": [AS_PUBLIC],
        "cc": [f"{group_uri}/followers"],
        "audience": group_uri,
        "endTime": iso(end),
        "oneOf": [
            {
                "type": "Note",
                "name": petition.option_name,
                "replies": {"type": "Collection", "totalItems": petition.signature_count},
            }
        ],
        "votersCount": petition.signature_count,
        "goal": petition.goal,
        "addressee": petition.addressee,
        "petitionStatus": petition.status,
        "statusNote": petition.status_note,
        "petitionText": petition.body_html,
    }
    if not petition.is_open:
        # Mastodon: a string `closed` is the moment the poll closed (poll_parser.rb).
        closed = petition.deadline if petition.status == "open" else petition.updated_at
        document["closed"] = iso(closed or petition.updated_at)
    return document


def _status_line(language: str, petition: Petition) -> str:
    label = _STATUSES.get(language, _STATUSES["en"]).get(petition.status)
    if label is None:
        return ""
    note = f" — {escape(petition.status_note)}" if petition.status_note else ""
    return f"<p><strong>{label}</strong>{note}</p>"


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_petition(document: dict[str, Any]) -> RemotePetition:
    """Read a remote Entraide petition (its Question and extension terms)."""
    options = document.get("oneOf")
    option = options[0] if isinstance(options, list) and options else {}
    option = option if isinstance(option, dict) else {}
    replies = option.get("replies")
    total = replies.get("totalItems") if isinstance(replies, dict) else None
    count = document.get("votersCount")
    count = count if isinstance(count, int) else total if isinstance(total, int) else 0
    url = document.get("url")
    deadline = _time(document.get("endTime"))
    published = _time(document.get("published"))
    if deadline and published and deadline - published == OPEN_ENDED:
        deadline = None  # our own stand-in for "no deadline"
    return RemotePetition(
        uri=str(document["id"]),
        url=url if isinstance(url, str) else id_of(url),
        title=text_of(document.get("name"), 500),
        body_html=text_of(document.get("petitionText") or document.get("content"), 200_000),
        addressee=text_of(document.get("addressee"), 500),
        goal=int(document["goal"]),
        deadline=deadline,
        status=text_of(document.get("petitionStatus"), 20) or "open",
        status_note=text_of(document.get("statusNote"), 1000),
        option_name=text_of(option.get("name"), 500),
        count=min(count, 1_000_000_000),
    )


# Inbound (called from federation/processing.py's handlers).


async def receive_petition(fed: Federation, document: dict[str, Any], sender: Actor) -> str:
    """Keep a remote group's petition, announced by it or updated; only its group may."""
    group_uri = id_of(document.get("attributedTo"))
    if group_uri is None or group_uri != sender.uri:
        # Announced by someone else: never trust the copy; its group's own document decides.
        uri = id_of(document)
        if uri is None or group_uri is None:
            return "refused: petition without its group"
        document = await fed.http.get_json(uri, fed.instance_signer)
        if id_of(document.get("attributedTo")) != group_uri or not is_petition(document):
            return "refused: petition not attributed to its group"
        sender = await get_actor(fed, group_uri)
    if id_of(document) is None or fed.urls.is_local(str(document["id"])):
        return "ignored"
    petition_id = await petitions.receive_petition(fed.db, sender, parse_petition(document))
    return f"petition {petition_id}" if petition_id else "not for us"


async def receive_vote(fed: Federation, note: dict[str, Any], voter: Actor) -> str:
    """Count a vote on a local petition; a vote on anything else changes nothing."""
    target = str(id_of(note.get("inReplyTo")))
    if not fed.urls.is_local(target):
        return "ignored: a vote on a poll elsewhere"
    petition_id = local_petition_id(fed, target)
    if petition_id is None:
        return "refused: the vote answers no petition"
    return await petitions.receive_vote(
        fed.db,
        petition_id,
        voter,
        option=text_of(note.get("name"), 500),
        vote_uri=str(note["id"]),
        # Mastodon's voters did not choose to be named: their name stays private.
        public=note.get("publicSignature") is True,
    )


async def receive_undo_vote(fed: Federation, create: dict[str, Any], voter: Actor) -> str:
    vote_uri = id_of(create.get("object"))
    if vote_uri is None:
        return "ignored"
    withdrawn = await petitions.receive_unvote(fed.db, voter, vote_uri)
    return "signature withdrawn" if withdrawn else "no such signature"


# Outbound (jobs).


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)


async def federate_petition(fed: Federation, job: Job) -> None:
    """Announce a new petition to the group's followers, or send its Update (status, count)."""
    petition_id = int(str(job.payload["petition_id"]))
    action = str(job.payload["action"])
    try:
        if action == "count":
            petition = await petitions.take_count_update(fed.db, petition_id)
        else:
            petition = await petitions.get_petition_any(fed.db, petition_id)
    except DomainError:
        raise PermanentJobError("petition is gone") from None
    group_actor = await actors.get_actor(fed.db, petition.group_id)
    if not await outbox.is_public_group(fed.db, group_actor.id):
        return
    group_uri = fed.urls.actor(group_actor)
    uri = petition_uri(fed, petition.id)
    inboxes = await outbox.follower_inboxes(fed.db, group_actor.id)
    cc = [f"{group_uri}/followers"]
    if action == "create":
        # FEP-1b12: the group announces the object, which peers fetch from here.
        document = activity(
            f"{uri}/announce", "Announce", group_uri, uri, to=[AS_PUBLIC], cc=cc,
            audience=group_uri, published=petition.created_at,
        )  # fmt: skip
    else:
        question = question_document(fed, petition)
        question.pop("@context")
        document = activity(
            f"{uri}/updates/{_stamp()}", "Update", group_uri, question, to=[AS_PUBLIC], cc=cc,
            audience=group_uri, published=datetime.now(UTC),
        )  # fmt: skip
        document["@context"] = PETITION_CONTEXT
        # Mastodon sends poll updates to the voters too (distribute_poll_update_worker.rb).
        inboxes += await petitions.signer_inboxes(fed.db, petition)
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=group_actor.id, type=document["type"],
        payload=document, inboxes=inboxes,
    )  # fmt: skip


async def send_vote(fed: Federation, job: Job) -> None:
    """Send a local person's signature of a remote petition as a vote (or its Undo)."""
    petition = await petitions.get_petition_any(fed.db, int(str(job.payload["petition_id"])))
    voter = await actors.get_actor(fed.db, int(str(job.payload["actor_id"])))
    group = await actors.get_actor(fed.db, petition.group_id)
    if petition.uri is None or group.inbox is None or group.uri is None:
        raise PermanentJobError("petition is local or its group has no inbox")
    voter_uri = fed.urls.actor(voter)
    vote_uri = str(job.payload["vote_uri"])
    note = {
        "id": vote_uri,
        "type": "Note",
        "name": petition.option_name,
        "attributedTo": voter_uri,
        "inReplyTo": petition.uri,
        "to": group.uri,
        "publicSignature": bool(job.payload.get("public")),
    }
    document = activity(f"{vote_uri}/activity", "Create", voter_uri, note, to=[group.uri], cc=[])
    document["@context"] = PETITION_CONTEXT
    if job.payload.get("undo"):
        inner = {k: v for k, v in document.items() if k != "@context"}
        document = activity(f"{vote_uri}/undo", "Undo", voter_uri, inner, to=[group.uri], cc=[])
    # Mastodon sends votes to the poll author's own inbox, not the shared one.
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=voter.id, type=document["type"],
        payload=document, inboxes=[group.inbox], public=False,
    )  # fmt: skip


# The document at the petition's id.


async def petition_json(request: Request) -> Response:
    fed: Federation = request.app.state.federation
    raw = str(request.path_params["petition_id"])
    petition_id = number(raw)
    if petition_id is None:
        return JSONResponse({"error": "No such petition"}, status_code=404)
    try:
        petition = await petitions.get_petition(fed.db, petition_id, None)
    except DomainError as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    if not petition.is_local:
        return JSONResponse({"error": "No such petition"}, status_code=404)
    body = question_document(fed, petition)
    return JSONResponse(body, media_type="application/activity+json")
