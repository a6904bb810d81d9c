"""Conversation requests on the wire: a member asks a member of another instance to talk.

A private `Note` from the asking person to the other alone (Mastodon shows it as a direct
message), mentioning them, with the group as `audience`, a link back to the group, and the
`entraide:conversationRequest` term so that an Entraide receiver files it as a request
(FEDERATION.md, *Conversation requests*). Availability itself is never sent.
"""

from __future__ import annotations

import html
import re
from typing import Any

from federation.context import Federation
from federation.documents import CONTEXT, activity, iso
from federation.jsondoc import AS_PUBLIC, id_of, ids_of, text_of
from federation.objects.board import NAMESPACE
from server.errors import DomainError, NotFound
from server.models import Actor, Job
from server.services import actors, availability, outbox
from server.worker import PermanentJobError

CONVERSATION_CONTEXT: list[Any] = [
    *CONTEXT,
    {"entraide": NAMESPACE, "conversationRequest": "entraide:conversationRequest"},
]
_PUBLIC = {AS_PUBLIC, "as:Public", "Public"}
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"</p>|<br\s*/?>", re.IGNORECASE)


def is_conversation_request(note: dict[str, Any]) -> bool:
    return note.get("conversationRequest") is True


def _plain(fragment: str) -> str:
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", fragment))).strip()


async def send_request(fed: Federation, job: Job) -> None:
    """Deliver a request to a member of another instance: a private Note to them alone."""
    try:
        request = await availability.get_conversation_request_any(
            fed.db, int(str(job.payload["request_id"]))
        )
    except DomainError:
        raise PermanentJobError("request is gone") from None
    assert request.to_id is not None
    sender = await actors.get_actor(fed.db, request.from_id)
    recipient = await actors.get_actor(fed.db, request.to_id)
    group = await actors.get_actor(fed.db, request.group_id)
    if recipient.is_local or recipient.inbox is None or recipient.uri is None:
        raise PermanentJobError("the recipient has no inbox elsewhere")
    sender_uri, group_uri = fed.urls.actor(sender), fed.urls.actor(group)
    group_page = group.url or (f"{fed.urls.base}/groups/{group.name}" if group.is_local else None)
    note_id = f"{sender_uri}#conversations/{request.id}"
    mention = (
        f'<span class="h-card"><a href="{html.escape(recipient.url or recipient.uri)}" '
        f'class="u-url mention">@<span>{html.escape(recipient.name)}</span></a></span> '
    )
    link = (
        f'<p><a href="{html.escape(group_page)}">{html.escape(group.display_name or group.name)}'
        "</a></p>"
        if group_page
        else ""
    )
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": sender_uri,
        "content": f"<p>{mention}{html.escape(request.message)}</p>{link}",
        # The message as typed, so that an Entraide receiver files it without the mention.
        "source": {"content": request.message, "mediaType": "text/plain"},
        "to": [recipient.uri],
        "cc": [],
        "audience": group_uri,
        "published": iso(request.created_at),
        "tag": [
            {"type": "Mention", "href": recipient.uri,
             "name": f"@{recipient.name}@{recipient.domain}"}
        ],
        "conversationRequest": True,
    }  # fmt: skip
    document = activity(
        f"{note_id}/activity", "Create", sender_uri, note, to=[recipient.uri], cc=[]
    )
    document["@context"] = CONVERSATION_CONTEXT
    # A private message: to the recipient's own inbox, never a shared one.
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=sender.id, type="Create", payload=document,
        inboxes=[recipient.inbox], public=False,
    )  # fmt: skip


async def receive_request(fed: Federation, note: dict[str, Any], sender: Actor) -> str:
    """File a request from a person of another instance for the one local person it names."""
    addressed = ids_of(note.get("to")) + ids_of(note.get("cc"))
    if _PUBLIC.intersection(addressed):
        return "refused: a conversation request is private"
    names = [fed.urls.local_actor_name(uri) for uri in ids_of(note.get("to"))]
    local = [name for name in names if name is not None]
    group_uri = id_of(note.get("audience"))
    if len(local) != 1 or group_uri is None:
        return "refused: a conversation request names one person here and its group"
    recipient = await actors.get_local_actor(fed.db, local[0])
    if fed.urls.is_local(group_uri):
        name = fed.urls.local_actor_name(group_uri)
        if name is None:
            raise NotFound("No such group here.")
        group = await actors.get_local_actor(fed.db, name, kind="group")
    else:
        found = await actors.find_remote_actor(fed.db, group_uri)
        if found is None:
            return "refused: a group nobody here knows"
        group = found
    source = note.get("source")
    typed = (
        source.get("content")
        if isinstance(source, dict) and source.get("mediaType") == "text/plain"
        else None
    )
    if isinstance(typed, str):
        message = typed[:20_000]
    else:
        message = _plain(text_of(note.get("content"), 20_000))
    return await availability.receive_conversation_request(
        fed.db, group, sender, recipient, message=message, uri=str(note["id"])
    )
