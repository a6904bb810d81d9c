"""Moderation across servers: Flags sent and received, and posts removed by their group.

A Flag is Mastodon's report (app/serializers/activitypub/flag_serializer.rb): `actor` is the
reporting server's instance actor, never the person who reported; `object` lists the reported
account, then the reported posts; `content` is the reason. A moderator's removal of a post is a
`Delete` by the group (as Lemmy removes a post from a community).
"""

from __future__ import annotations

from typing import Any

from federation.context import Federation
from federation.documents import activity
from federation.jsondoc import AS_PUBLIC, ids_of, text_of
from server.errors import DomainError
from server.models import Actor, Job
from server.services import actors, inbound, moderation, outbox
from server.worker import PermanentJobError

MAX_FLAG_OBJECTS = 20


async def send_flag(fed: Federation, job: Job) -> None:
    """Forward a report to the reported post's server, as the instance actor."""
    report_id = int(str(job.payload["report_id"]))
    reason, target_id, post_id = await moderation.get_report_for_flag(fed.db, report_id)
    if target_id is None:
        raise PermanentJobError("nothing reported")
    target = await actors.get_actor(fed.db, target_id)
    if target.uri is None or target.inbox is None:
        raise PermanentJobError("the reported actor is not remote")
    objects = [target.uri]
    if post_id is not None:
        post, _deleted = await actors.get_post_any(fed.db, post_id)
        if post is not None and post.uri is not None:
            objects.append(post.uri)
    instance = fed.instance_actor
    instance_uri = fed.urls.actor(instance)
    document = activity(
        f"{fed.urls.base}/reports/{report_id}", "Flag", instance_uri, objects,
        to=[target.uri], cc=[],
    )  # fmt: skip
    document["content"] = reason
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=instance.id, type="Flag", payload=document,
        inboxes=[target.inbox], public=False,
    )  # fmt: skip


async def on_flag(fed: Federation, document: dict[str, Any], sender: Actor) -> str:
    """Queue a received Flag as a report about the local people and posts it names."""
    actor_ids: list[int] = []
    post_ids: list[int] = []
    for uri in ids_of(document.get("object"))[:MAX_FLAG_OBJECTS]:
        if not fed.urls.is_local(uri):
            continue
        post_id = fed.urls.local_post_id(uri)
        if post_id is not None:
            post_ids.append(post_id)
            continue
        name = fed.urls.local_actor_name(uri)
        if name is not None:
            try:
                local = await actors.get_local_actor(fed.db, name)
            except DomainError:  # a Flag about someone gone: nothing to report
                continue
            actor_ids.append(local.id)
    if not actor_ids and not post_ids:
        return "ignored: names nothing of ours"
    reason = text_of(document.get("content"), 1000)
    report_id = await moderation.receive_flag(
        fed.db, sender, str(document["id"]), reason, actor_ids, post_ids
    )
    return f"report {report_id}" if report_id else "already reported"


async def send_group_removal(fed: Federation, post_id: int, group: Actor, note_uri: str) -> None:
    """Send the group's Delete of a post its moderators removed, to whom the post went."""
    group_uri = fed.urls.actor(group)
    if await outbox.is_public_group(fed.db, group.id):
        to, cc = [AS_PUBLIC], [f"{group_uri}/followers"]
        inboxes = await outbox.follower_inboxes(fed.db, group.id)
        public = True
    else:
        recipients = await outbox.member_recipients(fed.db, group.id)
        to, cc = [uri for uri, _ in recipients], []
        inboxes = [inbox for _, inbox in recipients]
        public = False
    if not inboxes:
        return
    tomb = {"id": note_uri, "type": "Tombstone"}
    document = activity(
        f"{fed.urls.post(post_id)}/removals/{group.id}", "Delete", group_uri, tomb, to=to, cc=cc,
        audience=group_uri,
    )  # fmt: skip
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=group.id, type="Delete", payload=document,
        inboxes=inboxes, post_id=post_id, public=public,
    )  # fmt: skip


async def on_group_delete(fed: Federation, uri: str, group: Actor) -> str:
    """Apply a remote group's removal of a post it holds (Lemmy's moderator Delete)."""
    post_id = await inbound.receive_group_removal(fed.db, group, uri)
    return f"removed post {post_id}"
