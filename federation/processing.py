"""Processing stored inbox activities: a table of small handlers, one per activity type.

Unknown types are kept (the row stays in inbox_activities) and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from federation.context import Federation
from federation.fetch import FetchError
from federation.jsondoc import id_of, ids_of, text_of, types_of
from federation.objects import board as board_objects
from federation.objects import conversations as conversation_objects
from federation.objects import events as event_objects
from federation.objects import goals as goal_objects
from federation.objects import mobilizations as mobilization_objects
from federation.objects import moderation as moderation_objects
from federation.objects import petitions as petition_objects
from federation.objects import resources as resource_objects
from federation.remote_actors import get_actor, parse_actor
from server.errors import DomainError, NotFound
from server.models import Actor, Attachment, RemoteNote
from server.services import actors, follows, inbound, muting, resources
from server.services import inbox as inbox_service
from server.worker import PermanentJobError

log = logging.getLogger(__name__)

NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question"})
# Events are kept as events, not posts (federation/objects/events.py).
ANNOUNCEABLE = NOTE_TYPES | {"Event"}
# The public collection, as peers write it (AS2 §5.6 allows the compact forms).
PUBLIC_IDS = frozenset({"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"})
ActivityHandler = Callable[[Federation, dict[str, Any], Actor], Awaitable[str]]


async def _local_target(fed: Federation, uri: str | None) -> Actor:
    name = fed.urls.local_actor_name(uri) if uri else None
    if name is None:
        raise NotFound("No such actor here.")
    return await actors.get_local_actor(fed.db, name)


async def on_follow(fed: Federation, activity: dict[str, Any], actor: Actor) -> str:
    if await inbox_service.was_undone(fed.db, str(activity["id"]), str(actor.uri)):
        return "ignored: undone before it was processed"
    target = await _local_target(fed, id_of(activity.get("object")))
    return await follows.receive_follow(fed.db, actor, target, str(activity["id"]))


async def on_undo(fed: Federation, activity: dict[str, Any], actor: Actor) -> str:
    obj = activity.get("object")
    inner_type = types_of(obj)[0] if isinstance(obj, dict) and types_of(obj) else ""
    if inner_type == "Follow" and isinstance(obj, dict):
        target = await _local_target(fed, id_of(obj.get("object")))
        removed = await follows.receive_undo_follow(fed.db, actor, target)
        return "unfollowed" if removed else "no such follow"
    if inner_type == "Create" and isinstance(obj, dict):
        return await petition_objects.receive_undo_vote(fed, obj, actor)
    if inner_type == "Join" and isinstance(obj, dict):
        return await event_objects.on_leave(fed, activity, actor)
    if inner_type == "Block" and isinstance(obj, dict) and id_of(obj):
        removed = await muting.receive_undo_block(fed.db, actor, str(id_of(obj)))
        return "unblocked" if removed else "no such block"
    like_uri = id_of(obj)
    if inner_type in ("Like", "") and like_uri:
        removed = await inbound.receive_undo_like(fed.db, actor, like_uri)
        return "unliked" if removed else "no such like"
    return "ignored"


async def on_follow_response(fed: Federation, activity: dict[str, Any], actor: Actor) -> str:
    if event_objects.is_join_response(activity, fed):
        return await event_objects.on_join_response(fed, activity, actor)
    obj = activity.get("object")
    if mobilization_objects.is_alliance_answer(obj):
        return await mobilization_objects.on_alliance_answer(fed, activity, actor)
    follower_uri = id_of(obj.get("actor")) if isinstance(obj, dict) else None
    follow_uri = id_of(obj)
    # Mastodon matches by the Follow's id; an embedded Follow also names its actor.
    follower_name = fed.urls.local_actor_name(follower_uri) if follower_uri else None
    if follower_name is None and follow_uri and fed.urls.is_local(follow_uri):
        follower_name = follow_uri.rsplit("/follows/", 1)[0].rsplit("/", 1)[-1]
    if follower_name is None:
        return "not our follow"
    follower = await actors.get_local_actor(fed.db, follower_name)
    accepted = activity.get("type") == "Accept"
    await follows.receive_follow_response(fed.db, actor, follower.id, accepted=accepted)
    return "follow accepted" if accepted else "follow rejected"


async def note_from(fed: Federation, obj: dict[str, Any]) -> RemoteNote:
    """Read a Note (or Page, Article) into what the services need, ids resolved."""
    uri = id_of(obj)
    if uri is None:
        raise FetchError("The object has no usable id")
    in_reply_to = id_of(obj.get("inReplyTo"))
    reply_id = None
    if in_reply_to:
        reply_id = fed.urls.local_post_id(in_reply_to) or await actors.find_post_by_uri(
            fed.db, in_reply_to
        )
    groups: list[int] = []
    people: list[int] = []
    addressed = ids_of(obj.get("to")) + ids_of(obj.get("cc"))
    for ref in addressed + ids_of(obj.get("audience")):
        name = fed.urls.local_actor_name(ref)
        if name is None:
            continue
        try:
            target = await actors.get_local_actor(fed.db, name)
        except DomainError:
            continue
        if target.kind == "group" and target.id not in groups:
            groups.append(target.id)
        elif target.kind == "person" and ref in addressed and target.id not in people:
            people.append(target.id)
    mentioned = await _mentioned_people(fed, obj)
    audience_uri = id_of(obj.get("audience"))
    audience = (
        await actors.find_remote_actor(fed.db, audience_uri)
        if audience_uri and not fed.urls.is_local(audience_uri)
        else None
    )
    content = text_of(obj.get("content"), 200_000)
    if not content and obj.get("name"):
        content = f"<p>{text_of(obj.get('name'), 500)}</p>"
    sensitive = obj.get("sensitive") is True or bool(obj.get("summary"))
    url = obj.get("url")
    event_id = event_objects.local_event_id(fed, in_reply_to)
    return RemoteNote(
        in_reply_to_event_id=event_id if reply_id is None else None,
        attachments=attachments_of(obj),
        sensitive=sensitive,
        uri=uri,
        url=url if isinstance(url, str) else id_of(url),
        content_html=content,
        content_warning=text_of(obj.get("summary"), 500) if sensitive else "",
        in_reply_to_id=reply_id,
        in_reply_to_uri=in_reply_to,
        addressed_group_ids=tuple(groups),
        public=bool(PUBLIC_IDS.intersection(addressed)),
        addressed_person_ids=tuple(people),
        audience_id=audience.id if audience is not None and audience.kind == "group" else None,
        mentioned_person_ids=tuple(mentioned),
    )


MAX_MENTIONS = 50  # Mastodon counts more as spam; enough for any real post


async def _mentioned_people(fed: Federation, obj: dict[str, Any]) -> list[int]:
    """Return the local people a Note's `Mention` tags name by their actor id (Mastodon's
    shape: `{"type": "Mention", "href": actor, "name": "@name@host"}`)."""
    tags = obj.get("tag")
    tags = [tags] if isinstance(tags, dict) else tags
    found: list[int] = []
    for tag in tags[:MAX_MENTIONS] if isinstance(tags, list) else []:
        if not isinstance(tag, dict) or "Mention" not in types_of(tag):
            continue
        href = tag.get("href")
        name = fed.urls.local_actor_name(href) if isinstance(href, str) else None
        if name is None:
            continue
        try:
            person = await actors.get_local_actor(fed.db, name)
        except DomainError:
            continue
        if person.kind == "person" and person.id not in found:
            found.append(person.id)
    return found


MAX_ATTACHMENTS = 4  # Mastodon's Status::MEDIA_ATTACHMENTS_LIMIT


def _picture_url(value: Any) -> str | None:
    """Return the https address of a picture from a `url` (a string, a Link, or a list)."""
    for candidate in value if isinstance(value, list) else [value]:
        href = candidate.get("href") if isinstance(candidate, dict) else candidate
        if isinstance(href, str) and href.startswith("https://") and len(href) <= 2000:
            return href
    return None


def _dimension(value: Any) -> int | None:
    return value if isinstance(value, int) and 0 < value <= 20_000 else None


def attachments_of(obj: dict[str, Any]) -> tuple[Attachment, ...]:
    """Read the pictures of a Note (Mastodon sends Document or Image, with `name` as alt text).

    Only images at https addresses are kept, four at most; other media are left to their page.
    """
    items = obj.get("attachment")
    items = [items] if isinstance(items, dict) else items
    found: list[Attachment] = []
    for item in items[:20] if isinstance(items, list) else []:
        if not isinstance(item, dict) or not {"Image", "Document"} & set(types_of(item)):
            continue
        media_type = text_of(item.get("mediaType"), 100)
        if media_type and not media_type.startswith("image/"):
            continue
        if not media_type and "Image" not in types_of(item):
            continue
        url = _picture_url(item.get("url"))
        if url is None:
            continue
        alt = " ".join(text_of(item.get("name"), 1500).split())
        width, height = _dimension(item.get("width")), _dimension(item.get("height"))
        found.append(Attachment(url, media_type or "image/*", alt, width, height))
        if len(found) == MAX_ATTACHMENTS:
            break
    return tuple(found)


def _same_host(a: str, b: str) -> bool:
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()


async def on_create(fed: Federation, activity: dict[str, Any], actor: Actor) -> str:
    obj = activity.get("object")
    if isinstance(obj, str):
        obj = await fed.http.get_json(obj, fed.instance_signer)
    if isinstance(obj, dict) and "Event" in types_of(obj):
        return await event_objects.receive_event_document(fed, obj, actor)
    if not isinstance(obj, dict) or not NOTE_TYPES.intersection(types_of(obj)):
        return "ignored: not a post"
    if id_of(obj) is None or not _same_host(obj["id"], str(actor.uri)):
        return "refused: the object is not on the actor's host"
    # A list is valid AS2 (PeerTube: [Person, channel Group]); the actor must be one of them.
    authors = ids_of(obj.get("attributedTo"))
    if authors and actor.uri not in authors:
        return "refused: the object is attributed to someone else"
    # A members-only group's rules, in answer to a local person's Follow (see FEDERATION.md).
    answered = id_of(obj.get("inReplyTo"))
    if (
        answered
        and actor.kind == "group"
        and fed.urls.is_local(answered)
        and fed.urls.local_post_id(answered) is None
    ):
        rules = text_of(obj.get("content"), 20_000)
        return await follows.receive_group_rules(fed.db, actor, answered, rules)
    # A poll vote is a signature, never a post (Mastodon: create.rb#poll_vote?).
    if petition_objects.is_vote(obj):
        return await petition_objects.receive_vote(fed, obj, actor)
    if petition_objects.is_petition(obj):
        return await petition_objects.receive_petition(fed, obj, actor)
    # A member of another instance asks one of ours for a conversation: a private request.
    if conversation_objects.is_conversation_request(obj):
        return await conversation_objects.receive_request(fed, obj, actor)
    # An answer to a need or an offer is kept with it, never relayed as a group post.
    if board_objects.answers_local_item(fed, obj):
        return await board_objects.receive_answer(fed, obj, actor)
    if board_objects.is_board_item(obj):
        return await board_objects.receive_item(fed, obj, actor)
    if goal_objects.is_goal(obj):
        return await goal_objects.receive_goal(fed, obj, actor)
    if goal_objects.is_goal_update(obj):
        return await goal_objects.receive_goal_update(fed, obj, actor)
    if resource_objects.is_resource(obj):
        return await resource_objects.receive_resource(fed, obj, actor)
    if mobilization_objects.is_mobilization(obj):
        return await mobilization_objects.receive_created(fed, obj, actor)
    post_id = await inbound.receive_note(fed.db, actor, await note_from(fed, obj))
    return f"stored post {post_id}" if post_id else "not for us"


async def on_announce(fed: Federation, activity: dict[str, Any], actor: Actor) -> str:
    obj = activity.get("object")
    if isinstance(obj, dict) and "Create" in types_of(obj):
        obj = obj.get("object")  # Lemmy and FEP-1b12 groups announce the Create
    elif isinstance(obj, dict) and {"Update", "Delete"}.intersection(types_of(obj)):
        return await _announced_change(fed, obj)
    elif isinstance(obj, dict) and types_of(obj) and not ANNOUNCEABLE.intersection(types_of(obj)):
        return "ignored: announced activity"
    if isinstance(obj, dict) and _is_members_relay(activity, obj, actor):
        return await _members_relay(fed, obj, actor)
    uri = id_of(obj)
    if uri is not None and fed.urls.is_local(uri):
        # An ally relaying one of our mobilizations: noted, never relayed back.
        return await mobilization_objects.receive_relay_of_ours(fed, uri, actor)
    if uri is None:
        return "ignored"
    if isinstance(obj, dict) and "Event" in types_of(obj):
        return await event_objects.on_announced_event(fed, uri, actor)
    if await actors.find_post_by_uri(fed.db, uri) is not None:
        return "already known"
    if await event_objects.is_known_event(fed, uri):
        return "already known"
    # Never trust an announced copy: fetch the object from its origin.
    document = await fed.http.get_json(uri, fed.instance_signer)
    author_uri = id_of(document.get("attributedTo"))
    if author_uri is None or not _same_host(author_uri, uri):
        return "refused: object not attributed on its own host"
    if not NOTE_TYPES.intersection(types_of(document)):
        return "ignored: not a post"
    if "Event" in types_of(document):
        return await event_objects.receive_event_document(
            fed, document, await get_actor(fed, author_uri)
        )
    author = await get_actor(fed, author_uri)
    if petition_objects.is_petition(document):
        return await petition_objects.receive_petition(fed, document, author)
    if mobilization_objects.is_mobilization(document):
        hops = activity.get("hops")
        return await mobilization_objects.receive_announced(fed, document, author, actor, hops)
    note = await note_from(fed, document)
    post_id = await inbound.receive_note(fed.db, author, note, via=actor)
    return f"stored post {post_id}" if post_id else "not for us"


def _is_members_relay(activity: dict[str, Any], obj: dict[str, Any], actor: Actor) -> bool:
    """Tell whether an Announce is a members-only group relaying a member's reply to us."""
    addressed = ids_of(activity.get("to")) + ids_of(activity.get("cc"))
    return (
        actor.kind == "group"
        and "Note" in types_of(obj)
        and not PUBLIC_IDS.intersection(addressed)
        and id_of(obj.get("inReplyTo")) is not None
    )


async def _members_relay(fed: Federation, obj: dict[str, Any], group: Actor) -> str:
    """Keep a member's reply a members-only group relays, the group vouching for it.

    Its author's server may serve it to no one but the group: the embedded copy is taken from
    the group, for a reply to a post of that very group we hold (inbound.receive_members_relay).
    """
    author_uri = id_of(obj.get("attributedTo"))
    if author_uri is None or fed.urls.is_local(author_uri):
        return "refused: no remote author"
    author = await get_actor(fed, author_uri)
    note = await note_from(fed, obj)
    post_id = await inbound.receive_members_relay(fed.db, group, author, note)
    return f"stored relayed reply {post_id}" if post_id else "not for us"


async def _announced_change(fed: Federation, change: dict[str, Any]) -> str:
    """Apply an edit or deletion a group relays (FEP-1b12), checked against the post's origin.

    The embedded activity is not trusted: the post is fetched again from its server; a 410
    (or 404) there confirms a deletion (Mobilizon and Mastodon confirm deletions this way).
    """
    uri = id_of(change.get("object"))
    if uri is None or fed.urls.is_local(uri) or await actors.find_post_by_uri(fed.db, uri) is None:
        return "ignored: unknown post"
    try:
        document = await fed.http.get_json(uri, fed.instance_signer)
    except FetchError as exc:
        if exc.status in (404, 410) and "Delete" in types_of(change):
            author = await actors.find_remote_actor(fed.db, id_of(change.get("actor")) or "")
            if author is None:
                return "ignored: unknown author"
            post_id = await inbound.receive_note_delete(fed.db, author, uri)
            return f"deleted post {post_id}"
        raise
    author_uri = id_of(document.get("attributedTo"))
    if author_uri is None or not _same_host(author_uri, uri):
        return "refused: object not attributed on its own host"
    if document.get("type") == "Tombstone":
        author = await get_actor(fed, author_uri)
        post_id = await inbound.receive_note_delete(fed.db, author, uri)
        return f"deleted post {post_id}"
    if "Update" not in types_of(change):
        # Anyone can announce a Delete: while the origin serves the post, it stands unchanged.
        return "ignored: the origin still serves the post"
    author = await get_actor(fed, author_uri)
    note = await note_from(fed, document)
    post_id, changed = await inbound.receive_note_update(fed.db, author, note)
    return f"updated post {post_id}" if changed else f"unchanged post {post_id}"


async def on_update(fed: Federation, activity: dict[str, Any], actor: Actor) -> str:
    obj = activity.get("object")
    if not isinstance(obj, dict):
        return "ignored"
    if id_of(obj) == actor.uri:
        await inbound.store_remote_actor(fed.db, parse_actor(obj))
        fed.known.forget(actor)  # its key may have changed
        return "actor refreshed"
    if petition_objects.is_petition(obj):
        return await petition_objects.receive_petition(fed, obj, actor)
    if board_objects.is_board_item(obj):
        return await board_objects.receive_item(fed, obj, actor)
    if "Event" in types_of(obj):
        # Mobilizon publishes a draft with an Update: an unknown event is kept as new.
        return await event_objects.receive_event_document(fed, obj, actor)
    if NOTE_TYPES.intersection(types_of(obj)):
        note = await note_from(fed, obj)
        post_id, changed = await inbound.receive_note_update(
            fed.db, actor, note, str(activity["id"])
        )
        return f"updated post {post_id}" if changed else f"unchanged post {post_id}"
    return "ignored"


async def on_delete(fed: Federation, activity: dict[str, Any], actor: Actor) -> str:
    uri = id_of(activity.get("object"))
    if uri is None:
        return "ignored"
    if uri == actor.uri:
        await inbound.receive_actor_delete(fed.db, actor)
        fed.known.forget(actor)
        return "actor deleted"
    if await event_objects.is_known_event(fed, uri):
        return await event_objects.on_event_delete(fed, uri, actor)
    if actor.kind == "group" and await resources.is_remote_resource(fed.db, uri):
        return await resource_objects.receive_delete(fed, uri, actor)
    if actor.kind == "group":
        # A group's moderators removed a post of its thread (Lemmy; Entraide).
        return await moderation_objects.on_group_delete(fed, uri, actor)
    post_id = await inbound.receive_note_delete(fed.db, actor, uri, str(activity["id"]))
    return f"deleted post {post_id}"


async def on_like(fed: Federation, activity: dict[str, Any], actor: Actor) -> str:
    uri = id_of(activity.get("object"))
    post_id = fed.urls.local_post_id(uri) if uri else None
    if post_id is None and uri:
        post_id = await actors.find_post_by_uri(fed.db, uri)
    if post_id is None:
        return "ignored: unknown post"
    if await inbox_service.was_undone(fed.db, str(activity["id"]), str(actor.uri)):
        return "ignored: undone before it was processed"
    await inbound.receive_like(fed.db, actor, post_id, str(activity["id"]))
    return "liked"


async def on_block(fed: Federation, activity: dict[str, Any], actor: Actor) -> str:
    """Apply a remote person's Block of a local person (Mastodon sends it on a block)."""
    if await inbox_service.was_undone(fed.db, str(activity["id"]), str(actor.uri)):
        return "ignored: undone before it was processed"
    target = await _local_target(fed, id_of(activity.get("object")))
    return await muting.receive_block(fed.db, actor, target, str(activity["id"]))


HANDLERS: dict[str, ActivityHandler] = {
    "Follow": on_follow,
    "Undo": on_undo,
    "Accept": on_follow_response,
    "Reject": on_follow_response,
    "Create": on_create,
    "Announce": on_announce,
    "Update": on_update,
    "Delete": on_delete,
    "Like": on_like,
    "Block": on_block,
    "Flag": moderation_objects.on_flag,
    "Offer": mobilization_objects.on_offer,
    "Join": event_objects.on_join,
    "Leave": event_objects.on_leave,
}


async def process_activity(
    fed: Federation,
    row_id: int,
    *,
    activity: dict[str, Any] | None = None,
    job_id: int | None = None,
) -> str:
    """Process one stored activity; return a short outcome (kept with the row).

    `activity` is the row's payload when the caller has it; `job_id`, the job that ends with
    the write of the outcome.
    """
    if activity is None:
        activity = await inbox_service.get_activity(fed.db, row_id)
    if activity is None:
        raise PermanentJobError("activity row is gone")
    handler = HANDLERS.get(str(activity.get("type")))
    if handler is None:
        outcome = "ignored: unknown type"
    else:
        actor_uri = id_of(activity.get("actor")) or ""
        known = fed.known
        try:
            actor = known.get_actor(actor_uri)
            if actor is None:
                actor = await actors.find_remote_actor(fed.db, actor_uri)
                actor = actor or await get_actor(fed, actor_uri)
                known.put_actor(actor)
            outcome = await handler(fed, activity, actor)
        except DomainError as exc:
            outcome = f"refused: {exc.message}"
        except FetchError as exc:
            if exc.retryable:
                raise
            outcome = f"failed: {exc.message}"
    await inbox_service.record_outcome(fed.db, row_id, outcome, job_id=job_id)
    return outcome
