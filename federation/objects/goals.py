"""Goals on the wire: a member's goal is a `Note` by its author, with `name` the goal and the
`entraide:goal` term; each follow-up of the author is a `Note` replying to it, with
`entraide:goalUpdate`. Members-only goals (the default) go to the group's members on other
instances alone, addressed to them by their ids, never the public nor a followers collection;
a public goal of a public group goes to the group's followers (FEDERATION.md, *Goals*).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from federation.context import Federation
from federation.documents import CONTEXT, activity, iso
from federation.jsondoc import AS_PUBLIC, id_of, ids_of, text_of, types_of
from federation.objects.addressing import local_actor_ids
from federation.objects.board import NAMESPACE
from server.errors import DomainError
from server.models import Actor, Goal, Job, RemoteGoal
from server.services import actors, goals, outbox
from server.worker import PermanentJobError

GOAL_CONTEXT: list[Any] = [
    *CONTEXT,
    {"entraide": NAMESPACE, "goal": "entraide:goal", "goalUpdate": "entraide:goalUpdate"},
]
_PUBLIC = {AS_PUBLIC, "as:Public", "Public"}


def goal_uri(fed: Federation, goal_id: int) -> str:
    return f"{fed.urls.base}/goals/{goal_id}"


def is_goal(note: dict[str, Any]) -> bool:
    return "Note" in types_of(note) and note.get("goal") is True


def is_goal_update(note: dict[str, Any]) -> bool:
    return "Note" in types_of(note) and note.get("goalUpdate") == "followup"


async def _audience(fed: Federation, goal: Goal) -> tuple[list[str], list[str], list[str], bool]:
    """Return (to, cc, inboxes, public) for a goal: followers when public, else members."""
    group = await actors.get_actor(fed.db, goal.group_id)
    group_uri = fed.urls.actor(group)
    visibility = await goals.get_group_visibility(fed.db, group.id)
    if goal.visibility == "public" and visibility == "public":
        inboxes = await outbox.follower_inboxes(fed.db, group.id)
        return [AS_PUBLIC], [f"{group_uri}/followers"], inboxes, True
    recipients = await outbox.member_recipients(fed.db, group.id)
    return [uri for uri, _ in recipients], [], [inbox for _, inbox in recipients], False


async def federate_goal(fed: Federation, job: Job) -> None:
    """Send a local goal, or a follow-up of its author, to who may read it."""
    try:
        if "update_id" in job.payload:
            update = await goals.get_update_any(fed.db, int(str(job.payload["update_id"])))
            goal = await goals.get_goal_any(fed.db, update.goal_id)
        else:
            update = None
            goal = await goals.get_goal_any(fed.db, int(str(job.payload["goal_id"])))
    except DomainError:
        raise PermanentJobError("goal is gone") from None
    if not goal.is_local:
        return
    to, cc, inboxes, public = await _audience(fed, goal)
    if not inboxes:
        return
    author = await actors.get_actor(fed.db, goal.author_id)
    group = await actors.get_actor(fed.db, goal.group_id)
    author_uri, group_uri, uri = (
        fed.urls.actor(author),
        fed.urls.actor(group),
        goal_uri(fed, goal.id),
    )
    base: dict[str, Any] = {
        "type": "Note", "attributedTo": author_uri, "to": to, "cc": cc, "audience": group_uri,
    }  # fmt: skip
    goal_note = base | {
        "id": uri, "name": goal.title, "content": goal.body_html or f"<p>{goal.title}</p>",
        "url": uri, "published": iso(goal.created_at), "goal": True,
    }  # fmt: skip
    if update is None:
        note = goal_note
    else:
        # The goal travels inside its follow-up: a follow-up delivered before its goal (two
        # deliveries race) still finds it.
        note = base | {
            "id": f"{uri}/updates/{update.id}", "inReplyTo": goal_note,
            "content": update.content_html, "url": f"{uri}#u{update.id}",
            "published": iso(update.created_at), "goalUpdate": "followup",
        }  # fmt: skip
    document = activity(
        f"{note['id']}/activity", "Create", author_uri, note, to=to, cc=cc, audience=group_uri
    )
    document["@context"] = GOAL_CONTEXT
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=author.id, type="Create", payload=document,
        inboxes=inboxes, public=public,
    )  # fmt: skip


async def receive_goal(fed: Federation, note: dict[str, Any], author: Actor) -> str:
    """Keep a goal of a member of another instance's group, for who may read it here."""
    uri, group_uri = id_of(note), id_of(note.get("audience"))
    if uri is None or group_uri is None or fed.urls.is_local(group_uri):
        return "refused: a goal names its group"
    group = await actors.find_remote_actor(fed.db, group_uri)
    if group is None:
        return "not for us"
    addressed = ids_of(note.get("to")) + ids_of(note.get("cc"))
    people = await local_actor_ids(fed, addressed, "person")
    url = note.get("url")
    data = RemoteGoal(
        uri=uri,
        url=url if isinstance(url, str) else id_of(url),
        title=text_of(note.get("name"), 500),
        body_html=text_of(note.get("content"), 50_000),
        public=bool(_PUBLIC.intersection(addressed)),
        addressed_person_ids=people,
    )
    goal_id = await goals.receive_goal(fed.db, author, group, data)
    return f"goal {goal_id}" if goal_id else "not for us"


async def receive_goal_update(fed: Federation, note: dict[str, Any], author: Actor) -> str:
    parent = note.get("inReplyTo")
    target, uri = id_of(parent), id_of(note)
    if target is None or uri is None:
        return "refused: a follow-up replies to its goal"
    if (
        isinstance(parent, dict)
        and is_goal(parent)
        and id_of(parent.get("attributedTo")) == author.uri
        and author.uri is not None
        and urlsplit(target).netloc == urlsplit(author.uri).netloc
    ):
        await receive_goal(fed, parent, author)  # kept (or refreshed) first, if not yet here
    update_id = await goals.receive_followup(
        fed.db, author, target, uri=uri, content_html=text_of(note.get("content"), 50_000)
    )
    return f"goal follow-up {update_id}" if update_id else "already received"
