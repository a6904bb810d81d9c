"""Needs and offers on the wire: a `Note` from the group that Mastodon shows as a readable post.

The text names the kind, the category (as hashtags) and the validity date; Entraide peers read
the `entraide:` extension terms (FEDERATION.md) and show the item on their board. The group
`Create`s the Note for its followers and sends an `Update` when it is fulfilled or withdrawn
(Mastodon applies it as an edit). An answer is a Note replying to the item: a direct mention
of the group (Mastodon's "private mention") stays a private answer, never relayed.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from federation.context import Federation
from federation.documents import CONTEXT, activity, iso
from federation.jsondoc import AS_PUBLIC, id_of, ids_of, text_of, types_of
from federation.urls import number
from server.errors import DomainError
from server.models import Actor, BoardItem, Job, RemoteBoardItem
from server.services import actors, board, outbox
from server.worker import PermanentJobError

NAMESPACE = "https://entraide.org/ns#"
BOARD_CONTEXT: list[Any] = [
    *CONTEXT,
    {
        "entraide": NAMESPACE,
        "Hashtag": "as:Hashtag",
        "boardKind": "entraide:boardKind",
        "boardCategory": "entraide:boardCategory",
        "boardState": "entraide:boardState",
        "validUntil": {"@id": "entraide:validUntil", "@type": "xsd:dateTime"},
        "boardAnswers": "entraide:boardAnswers",
        "area": "entraide:area",
    },
]
# Hashtags are ASCII words in the instance's language, so that Mastodon links them.
_TAGS = {
    "fr": {"need": "besoin", "offer": "offre", "goods": "biens", "food": "alimentation",
           "services": "services", "transport": "transport", "housing": "logement",
           "money": "argent", "listening": "ecoute", "other": "autre"},
    "en": {"need": "need", "offer": "offer", "goods": "goods", "food": "food",
           "services": "services", "transport": "transport", "housing": "housing",
           "money": "money", "listening": "listening", "other": "other"},
}  # fmt: skip
_LABELS = {
    "fr": {"need": "Besoin", "offer": "Offre", "until": "Valable jusqu'au {date}",
           "area": "Secteur : {area}", "fulfilled": "Satisfait, merci !", "withdrawn": "Retiré",
           "answer": "Pour répondre en privé, mentionnez le groupe en message privé."},
    "en": {"need": "Need", "offer": "Offer", "until": "Valid until {date}",
           "area": "Area: {area}", "fulfilled": "Fulfilled, thank you!", "withdrawn": "Withdrawn",
           "answer": "To answer privately, mention the group in a private message."},
}  # fmt: skip
_PUBLIC = {AS_PUBLIC, "as:Public", "Public"}


def item_uri(fed: Federation, item_id: int) -> str:
    return f"{fed.urls.base}/board/{item_id}"


def local_item_id(fed: Federation, uri: str | None) -> int | None:
    prefix = f"{fed.urls.base}/board/"
    rest = uri[len(prefix) :] if uri and uri.startswith(prefix) else ""
    return number(rest)


def is_board_item(document: dict[str, Any]) -> bool:
    """Tell an Entraide board item from any other Note."""
    return "Note" in types_of(document) and isinstance(document.get("boardKind"), str)


def answers_local_item(fed: Federation, note: dict[str, Any]) -> bool:
    """Tell a Note replying to one of our board items (a private or public answer)."""
    target = id_of(note.get("inReplyTo"))
    return target is not None and local_item_id(fed, target) is not None


def note_document(fed: Federation, item: BoardItem) -> dict[str, Any]:
    """Return the Note of a local item, readable in Mastodon, with the extension terms."""
    uri = item_uri(fed, item.id)
    group_uri = f"{fed.urls.base}/groups/{item.group_name}"
    language = fed.config.language if fed.config.language in _LABELS else "en"
    labels, tags = _LABELS[language], _TAGS[language]
    until = item.valid_until.astimezone(ZoneInfo(fed.config.timezone)).date().isoformat()
    hashtags = [tags[item.kind], tags[item.category]]
    state = "" if item.state == "open" else f"<p><strong>{labels[item.state]}</strong></p>"
    area = f"<p>{escape(labels['area'].format(area=item.area))}</p>" if item.area else ""
    links = " ".join(
        f'<a href="{fed.urls.base}/tags/{t}" class="mention hashtag" rel="tag">'
        f"#<span>{t}</span></a>"
        for t in hashtags
    )
    content = (
        f"{state}<p><strong>{labels[item.kind]} · {escape(item.title)}</strong></p>"
        f"{item.details_html}{area}"
        f"<p>{escape(labels['until'].format(date=until))}</p>"
        f"<p>{links}</p>"
        + (f"<p>{labels['answer']}</p>" if item.state == "open" else "")
        + f'<p><a href="{uri}">{uri}</a></p>'
    )
    return {
        "@context": BOARD_CONTEXT,
        "id": uri,
        "type": "Note",
        "attributedTo": group_uri,
        "content": content,
        "url": uri,
        "published": iso(item.created_at),
        "updated": iso(item.updated_at),
        "to": [AS_PUBLIC],
        "cc": [f"{group_uri}/followers"],
        "audience": group_uri,
        "tag": [
            {"type": "Hashtag", "href": f"{fed.urls.base}/tags/{t}", "name": f"#{t}"}
            for t in hashtags
        ],
        "boardKind": item.kind,
        "boardCategory": item.category,
        "boardState": item.state,
        "validUntil": iso(item.valid_until),
        "boardAnswers": item.answers,
        "area": item.area,
        "name": item.title,
    }


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_item(document: dict[str, Any]) -> RemoteBoardItem | None:
    """Read a remote Entraide item from its extension terms; None when they are unusable."""
    until = _time(document.get("validUntil"))
    if until is None or id_of(document) is None:
        return None
    url = document.get("url")
    return RemoteBoardItem(
        uri=str(document["id"]),
        url=url if isinstance(url, str) else id_of(url),
        kind=text_of(document.get("boardKind"), 20),
        category=text_of(document.get("boardCategory"), 20),
        title=text_of(document.get("name"), 500),
        details_html=text_of(document.get("content"), 100_000),
        area=text_of(document.get("area"), 500),
        valid_until=until,
        answers=text_of(document.get("boardAnswers"), 20),
        state=text_of(document.get("boardState"), 20) or "open",
    )


# Inbound (called from federation/processing.py's handlers).


async def receive_item(fed: Federation, document: dict[str, Any], sender: Actor) -> str:
    """Keep a remote group's item, created or updated by the group itself."""
    if id_of(document.get("attributedTo")) != sender.uri:
        return "refused: item not attributed to its group"
    uri = id_of(document)
    if uri is None or fed.urls.is_local(uri):
        return "ignored"
    data = parse_item(document)
    if data is None:
        return "refused: item without a validity date"
    item_id = await board.receive_item(fed.db, sender, data)
    return f"board item {item_id}" if item_id else "not for us"


async def receive_answer(fed: Federation, note: dict[str, Any], author: Actor) -> str:
    """Keep an answer to a local item: private unless addressed to the public."""
    item_id = local_item_id(fed, id_of(note.get("inReplyTo")))
    if item_id is None:
        return "refused: the answer replies to no item"
    audience = set(ids_of(note.get("to")) + ids_of(note.get("cc")))
    return await board.receive_answer(
        fed.db,
        item_id,
        author,
        content_html=text_of(note.get("content"), 100_000),
        public=bool(audience & _PUBLIC),
        uri=str(note["id"]),
    )


# Outbound (jobs).


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)


async def federate_item(fed: Federation, job: Job) -> None:
    """Send a new item to the group's followers (Create), or its new state (Update)."""
    try:
        item = await board.get_item_any(fed.db, int(str(job.payload["item_id"])))
    except DomainError:
        raise PermanentJobError("item is gone") from None
    group_actor = await actors.get_actor(fed.db, item.group_id)
    if not item.is_local or not await outbox.is_public_group(fed.db, group_actor.id):
        return
    group_uri = fed.urls.actor(group_actor)
    uri = item_uri(fed, item.id)
    note = note_document(fed, item)
    note.pop("@context")
    cc = [f"{group_uri}/followers"]
    if job.payload.get("action") == "create":
        activity_id, kind = f"{uri}/activity", "Create"
    else:
        activity_id, kind = f"{uri}/updates/{_stamp()}", "Update"
    document = activity(
        activity_id, kind, group_uri, note, to=[AS_PUBLIC], cc=cc, audience=group_uri,
        published=datetime.now(UTC),
    )  # fmt: skip
    document["@context"] = BOARD_CONTEXT
    await outbox.publish_activity(
        fed.db, uri=activity_id, actor_id=group_actor.id, type=kind, payload=document,
        inboxes=await outbox.follower_inboxes(fed.db, group_actor.id),
    )  # fmt: skip


async def send_answer(fed: Federation, job: Job) -> None:
    """Send a local person's answer to a remote item, to its group only when private."""
    answer = await board.get_answer_any(fed.db, int(str(job.payload["answer_id"])))
    item = await board.get_item_any(fed.db, answer.item_id)
    author = await actors.get_actor(fed.db, answer.author_id)
    group = await actors.get_actor(fed.db, item.group_id)
    if item.uri is None or group.inbox is None or group.uri is None:
        raise PermanentJobError("item is local or its group has no inbox")
    author_uri = fed.urls.actor(author)
    note_id = f"{author_uri}#board-answers/{answer.id}"
    to, cc = ([AS_PUBLIC], [group.uri]) if answer.public else ([group.uri], [])
    mention = (
        f'<span class="h-card"><a href="{escape(group.url or group.uri)}" class="u-url mention">'
        f"@<span>{escape(group.name)}</span></a></span> "
    )
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": author_uri,
        "inReplyTo": item.uri,
        "content": answer.content_html.replace("<p>", f"<p>{mention}", 1),
        "to": to,
        "cc": cc,
        "published": iso(answer.created_at),
        "tag": [{"type": "Mention", "href": group.uri, "name": f"@{group.name}@{group.domain}"}],
    }
    document = activity(f"{note_id}/activity", "Create", author_uri, note, to=to, cc=cc)
    # Mastodon delivers a private mention to the mentioned actor's own inbox.
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=author.id, type="Create", payload=document,
        inboxes=[group.inbox], public=answer.public,
    )  # fmt: skip


async def send_reply(fed: Federation, job: Job) -> None:
    """Send the poster's reply back to the remote author of an answer (Mastodon, Entraide).

    A Note replying to their answer and mentioning them (Mastodon notifies a mention): to them
    alone when their answer was private, as Mastodon's private mention; public otherwise.
    """
    try:
        reply = await board.get_answer_any(fed.db, int(str(job.payload["answer_id"])))
        if reply.in_reply_to_id is None:
            raise PermanentJobError("not a reply")
        answer = await board.get_answer_any(fed.db, reply.in_reply_to_id)
    except DomainError:
        raise PermanentJobError("answer is gone") from None
    poster = await actors.get_actor(fed.db, reply.author_id)
    answerer = await actors.get_actor(fed.db, answer.author_id)
    if answer.uri is None or answerer.inbox is None or answerer.uri is None:
        raise PermanentJobError("the answer is local or its author has no inbox")
    poster_uri = fed.urls.actor(poster)
    note_id = f"{poster_uri}#board-answers/{reply.id}"
    to, cc = ([AS_PUBLIC], [answerer.uri]) if reply.public else ([answerer.uri], [])
    mention = (
        f'<span class="h-card"><a href="{escape(answerer.url or answerer.uri)}" '
        f'class="u-url mention">@<span>{escape(answerer.name)}</span></a></span> '
    )
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": poster_uri,
        "inReplyTo": answer.uri,
        "content": reply.content_html.replace("<p>", f"<p>{mention}", 1),
        "to": to,
        "cc": cc,
        "published": iso(reply.created_at),
        "url": f"{item_uri(fed, reply.item_id)}#answer-{reply.id}",
        "tag": [
            {"type": "Mention", "href": answerer.uri,
             "name": f"@{answerer.name}@{answerer.domain}"}
        ],
    }  # fmt: skip
    document = activity(f"{note_id}/activity", "Create", poster_uri, note, to=to, cc=cc)
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=poster.id, type="Create", payload=document,
        inboxes=[answerer.inbox], public=reply.public,
    )  # fmt: skip


# The document at the item's id.


async def item_json(request: Request) -> Response:
    fed: Federation = request.app.state.federation
    raw = str(request.path_params["item_id"])
    item_id = number(raw)
    if item_id is None:
        return JSONResponse({"error": "No such item"}, status_code=404)
    try:
        item = await board.get_item(fed.db, item_id, None)
    except DomainError as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    if not item.is_local:
        return JSONResponse({"error": "No such item"}, status_code=404)
    return JSONResponse(note_document(fed, item), media_type="application/activity+json")
