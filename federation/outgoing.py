"""Turning jobs written by the services into activities in the outbox, with their deliveries.

FEP-1b12: a member's Create is addressed to the group; the group Announces the post to its
followers, so Mastodon shows it as a boost by the group. The group never forwards a member's
activity unchanged: Mastodon drops activities signed by someone other than their actor.
"""

from __future__ import annotations

import html
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from federation.context import Federation
from federation.documents import activity, members_only_note, note_document
from federation.fetch import FetchError
from federation.jsondoc import AS_PUBLIC
from federation.objects import moderation as moderation_objects
from federation.remote_actors import resolve_handle
from server.errors import DomainError
from server.models import Actor, Job, Post
from server.sanitize import find_hashtags, find_mentions
from server.services import actors, follows, outbox
from server.services import inbox as inbox_service
from server.worker import PermanentJobError

log = logging.getLogger(__name__)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)


def _undo(done: dict[str, Any], undo_id: str) -> dict[str, Any]:
    """Return the Undo of an activity, by the same actor, to the same recipients."""
    inner = {k: v for k, v in done.items() if k != "@context"}
    return activity(undo_id, "Undo", done["actor"], inner, to=done["to"], cc=done["cc"])


async def _send_private(
    fed: Federation, actor: Actor, document: dict[str, Any], inbox: str
) -> None:
    """Publish an activity addressed to one actor (not listed in the public outbox)."""
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=actor.id, type=document["type"],
        payload=document, inboxes=[inbox], public=False,
    )  # fmt: skip


async def _reply_inboxes(fed: Federation, in_reply_to_id: int | None) -> list[str]:
    """Return the inbox of the author of the post answered, when that author is remote."""
    if in_reply_to_id is None:
        return []
    parent, _deleted = await actors.get_post_any(fed.db, in_reply_to_id)
    if parent is None or parent.author_domain is None:
        return []
    author = await actors.get_actor(fed.db, parent.author_id)
    return [author.inbox] if author.inbox else []


MAX_RESOLVED_MENTIONS = 10  # handles looked up on the network for one post


async def _mentioned_actor(
    fed: Federation, name: str, host: str, lookups: list[str] | None
) -> Actor | None:
    """Return the remote actor of @name@host: known here, else (with `lookups`) found by
    WebFinger on its server (the fetcher refuses private networks outside tests)."""
    known = await actors.find_remote_actor_by_handle(fed.db, name, host)
    if known is not None or lookups is None or len(lookups) >= MAX_RESOLVED_MENTIONS:
        return known
    lookups.append(host)
    try:
        return await resolve_handle(fed, f"{name}@{host}")
    except FetchError as exc:
        log.info("mention of @%s@%s not resolved: %s", name, host, exc)
        return None


async def post_tags(
    fed: Federation, content: str, *, resolve: bool = False
) -> tuple[list[dict[str, str]], list[str], list[str]]:
    """Return the Mention and Hashtag tags of a local post, and the inboxes and ids of the
    remote actors it mentions (Mastodon notifies them from the tag and their own address).

    With `resolve` (the worker publishing the post), handles not known yet are looked up on
    their server; serving the document later reads only what is known.
    """
    tags: list[dict[str, str]] = []
    inboxes: list[str] = []
    mentioned: list[str] = []
    lookups: list[str] | None = [] if resolve else None
    for name, host in find_mentions(content):
        if host is None or host == fed.urls.host:
            try:
                local = await actors.get_local_actor(fed.db, name)
            except DomainError:
                continue
            href, handle = fed.urls.actor(local), f"@{local.name}@{fed.urls.host}"
        else:
            remote = await _mentioned_actor(fed, name, host, lookups)
            if remote is None or remote.uri is None:
                continue
            href, handle = remote.uri, f"@{remote.name}@{remote.domain}"
            mentioned.append(remote.uri)
            if remote.inbox:
                inboxes.append(remote.shared_inbox or remote.inbox)
        tags.append({"type": "Mention", "href": href, "name": handle})
    for tag in find_hashtags(content):
        tags.append({"type": "Hashtag", "href": f"{fed.urls.base}/tags/{tag}", "name": f"#{tag}"})
    return tags, inboxes, mentioned


async def federate_post(fed: Federation, job: Job) -> None:
    """Publish a post's creation, edit or deletion, and the group's Announce of it."""
    post_id = int(str(job.payload["post_id"]))
    action = str(job.payload["action"])
    try:
        post, author, group = await outbox.get_post_for_federation(fed.db, post_id)
    except LookupError:
        raise PermanentJobError("post is gone") from None
    if group is None:
        return
    if action == "remove":  # by a moderator: the group deletes it (as Lemmy does)
        note_uri = post.uri or fed.urls.post(post.id)
        await moderation_objects.send_group_removal(fed, post.id, group, note_uri)
        return
    if not await outbox.is_public_group(fed.db, group.id):
        if action == "relay_members":
            await relay_members_only_reply(fed, post, author, group)
        else:
            await federate_members_only_post(fed, post, author, group, action)
        return
    urls = fed.urls
    group_uri = urls.actor(group)
    followers = f"{group_uri}/followers"
    note_uri = post.uri or urls.post(post.id)
    inboxes = await outbox.follower_inboxes(fed.db, group.id)
    now = datetime.now(UTC)

    async def announce(obj: Any, suffix: str) -> None:
        document = activity(
            f"{urls.post(post.id)}/{suffix}",
            "Announce",
            group_uri,
            obj,
            to=[AS_PUBLIC],
            cc=[followers],
            audience=group_uri,
            published=now,
        )
        await outbox.publish_activity(
            fed.db,
            uri=document["id"],
            actor_id=group.id,
            type="Announce",
            payload=document,
            inboxes=inboxes,
            post_id=post.id,
        )

    if action == "announce":  # a remote post kept in the group
        await announce(note_uri, "announce")
        return
    if author.domain is not None:
        # A remote author's edit or deletion: the group relays the activity it received,
        # embedded (FEP-1b12); its followers may not follow the author.
        received = await inbox_service.get_received_activity(
            fed.db, str(job.payload.get("activity_id")), str(job.payload.get("activity_type"))
        )
        if received is not None:
            received.pop("@context", None)
            await announce(received, f"announces/{_stamp()}")
        return
    author_uri = urls.actor(author)
    parent_uri = None
    if post.in_reply_to_id is not None:
        parent, _ = await actors.get_post_any(fed.db, post.in_reply_to_id)
        parent_uri = (parent.uri or urls.post(parent.id)) if parent else None
    elif post.event_id is not None:
        parent_uri = f"{urls.base}/events/{post.event_id}"  # a comment in its discussion
    tags, mentioned_inboxes, mentioned = await post_tags(fed, post.content, resolve=True)
    note = note_document(urls, post, author_uri, group_uri, tags)
    note.pop("@context")
    if parent_uri:
        note["inReplyTo"] = parent_uri
    # Those mentioned are addressed too, as Mastodon does (cc): their server shows it to them.
    to, cc = [AS_PUBLIC], [group_uri, followers, *mentioned]
    note["cc"] = cc
    targets = inboxes + mentioned_inboxes + await _reply_inboxes(fed, post.in_reply_to_id)
    if action == "create":
        inner = activity(
            f"{note_uri}/activity", "Create", author_uri, note, to=to, cc=cc,
            audience=group_uri, published=post.created_at,
        )  # fmt: skip
        suffix = "announce"
    elif action == "update":
        inner = activity(
            f"{note_uri}/updates/{_stamp()}", "Update", author_uri, note, to=to, cc=cc,
            audience=group_uri, published=now,
        )  # fmt: skip
        suffix = f"announces/{_stamp()}"
    elif action == "delete":
        tomb = {"id": note_uri, "type": "Tombstone"}
        inner = activity(
            f"{note_uri}/deletes/{_stamp()}", "Delete", author_uri, tomb, to=to, cc=cc,
            audience=group_uri, published=now,
        )  # fmt: skip
        suffix = f"announces/{_stamp()}"
    else:
        raise PermanentJobError(f"unknown action {action}")
    # The author's own activity reaches the group's followers too: Mastodon applies edits and
    # deletions only from the author, and shows a reply in its thread from the Create.
    await outbox.publish_activity(
        fed.db,
        uri=inner["id"],
        actor_id=author.id,
        type=inner["type"],
        payload=inner,
        inboxes=targets if action != "create" else _without(targets, inboxes),
        post_id=post.id,
    )
    if action == "create":
        await announce(note_uri, suffix)
    else:
        embedded = dict(inner)
        embedded.pop("@context")
        await announce(embedded, suffix)


async def federate_members_only_post(
    fed: Federation, post: Post, author: Actor, group: Actor, action: str
) -> None:
    """Send a members-only post to the group's remote members alone, addressed to them.

    Never the public collection, never a followers collection, never a shared inbox: each
    member's own inbox gets the author's activity, whose `to` names the members and whose
    `audience` is the group. Nothing of it is listed in any outbox (`public` is false), and
    its id answers only a fetch signed by a member or a member's instance (routes.py).
    Replies kept from remote members go on through `relay_members_only_reply`.
    """
    if author.domain is not None or action not in ("create", "update", "delete"):
        return
    recipients = await outbox.member_recipients(fed.db, group.id)
    if not recipients:
        return
    urls = fed.urls
    group_uri, author_uri = urls.actor(group), urls.actor(author)
    note_uri = urls.post(post.id)
    to = [uri for uri, _inbox in recipients]
    now = datetime.now(UTC)
    if action == "delete":
        obj: dict[str, Any] = {"id": note_uri, "type": "Tombstone"}
    else:
        tags, _inboxes, _mentioned = await post_tags(fed, post.content)
        obj = members_only_note(urls, post, author_uri, group_uri, tags, to)
        if post.in_reply_to_id is not None:
            parent, _ = await actors.get_post_any(fed.db, post.in_reply_to_id)
            if parent is not None:
                obj["inReplyTo"] = parent.uri or urls.post(parent.id)
    kind = {"create": "Create", "update": "Update", "delete": "Delete"}[action]
    suffix = "activity" if action == "create" else f"{action}s/{_stamp()}"
    document = activity(
        f"{note_uri}/{suffix}", kind, author_uri, obj, to=to, cc=[], audience=group_uri,
        published=post.created_at if action == "create" else now,
    )  # fmt: skip
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=author.id, type=kind, payload=document,
        inboxes=[inbox for _uri, inbox in recipients], post_id=post.id, public=False,
    )  # fmt: skip


async def relay_members_only_reply(
    fed: Federation, post: Post, author: Actor, group: Actor
) -> None:
    """Relay a remote member's reply in a members-only group to the other remote members.

    FEP-1b12: the group `Announce`s it, the Note embedded (its author's server may serve it
    to no one else), addressed to the members alone, never to the public or a followers
    collection, never to a shared inbox, never listed (`public` is false). The author is
    left out: their server has it.
    """
    if author.domain is None or post.uri is None or post.in_reply_to_id is None:
        return
    recipients = [
        (uri, inbox)
        for uri, inbox in await outbox.member_recipients(fed.db, group.id)
        if uri != author.uri
    ]
    if not recipients:
        return
    urls = fed.urls
    group_uri = urls.actor(group)
    to = [uri for uri, _inbox in recipients]
    parent, _ = await actors.get_post_any(fed.db, post.in_reply_to_id)
    if parent is None:
        return
    note: dict[str, Any] = {
        "id": post.uri, "type": "Note", "attributedTo": author.uri,
        "content": post.content_html, "inReplyTo": parent.uri or urls.post(parent.id),
        "to": to, "cc": [], "audience": group_uri,
        "published": post.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }  # fmt: skip
    if post.content_warning:
        note["summary"], note["sensitive"] = post.content_warning, True
    document = activity(
        f"{urls.post(post.id)}/relays/{_stamp()}", "Announce", group_uri, note, to=to, cc=[],
        audience=group_uri, published=datetime.now(UTC),
    )  # fmt: skip
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=group.id, type="Announce", payload=document,
        inboxes=[inbox for _uri, inbox in recipients], post_id=post.id, public=False,
    )  # fmt: skip


def _without(items: list[str], excluded: list[str]) -> list[str]:
    drop = set(excluded)
    return [i for i in items if i not in drop]


async def send_follow_response(fed: Federation, job: Job) -> None:
    """Send Accept or Reject of a Follow received by a local actor."""
    follower = await actors.get_actor(fed.db, int(str(job.payload["follower_id"])))
    target = await actors.get_actor(fed.db, int(str(job.payload["target_id"])))
    if follower.inbox is None:
        raise PermanentJobError("follower has no inbox")
    accept = bool(job.payload["accept"])
    kind = "Accept" if accept else "Reject"
    target_uri = fed.urls.actor(target)
    follow = {
        "id": str(job.payload["follow_uri"]),
        "type": "Follow",
        "actor": follower.uri,
        "object": target_uri,
    }
    document = activity(
        f"{target_uri}#{kind.lower()}s/{_stamp()}", kind, target_uri, follow,
        to=[str(follower.uri)], cc=[],
    )  # fmt: skip
    # Mastodon sends Accept and Reject to the personal inbox, not the shared one.
    await _send_private(fed, target, document, follower.inbox)


async def send_follow(fed: Federation, job: Job) -> None:
    """Send a local account's Follow (or its Undo) to a remote actor."""
    follower = await actors.get_actor(fed.db, int(str(job.payload["follower_id"])))
    target = await actors.get_actor(fed.db, int(str(job.payload["target_id"])))
    if target.inbox is None:
        raise PermanentJobError("target has no inbox")
    follower_uri = fed.urls.actor(follower)
    follow = activity(
        str(job.payload["follow_uri"]), "Follow", follower_uri, target.uri,
        to=[str(target.uri)], cc=[],
    )  # fmt: skip
    document = _undo(follow, f"{follow['id']}/undo") if job.payload.get("undo") else follow
    await _send_private(fed, follower, document, target.inbox)


async def resolve_and_follow(fed: Federation, job: Job) -> None:
    """Find @name@host (or a URL) and follow it for a local account."""
    account_id = int(str(job.payload["account_id"]))
    handle = str(job.payload["handle"])
    try:
        target = await resolve_handle(fed, handle)
    except FetchError as exc:
        # The person is waiting for an answer: tell them now rather than retry for days.
        reason = "not_found" if exc.status in (404, 410) or not exc.retryable else "unreachable"
        if "resolve" in exc.message or exc.message.startswith("Request failed"):
            reason = "unreachable"
        log.warning("follow of %s for account %s failed: %s", handle, account_id, exc.message)
        await follows.record_failed_lookup(fed.db, account_id, handle, reason)
        raise PermanentJobError(f"lookup of {handle} failed: {exc.message}") from None
    follower: Actor = await actors.get_actor(fed.db, account_id)
    follow_uri = f"{fed.urls.actor(follower)}/follows/{secrets.token_hex(8)}"
    try:
        await follows.follow_actor(fed.db, account_id, target, follow_uri)
    except DomainError as exc:
        log.warning("follow of %s for account %s refused: %s", handle, account_id, exc.message)
        await follows.record_failed_lookup(fed.db, account_id, handle, "refused")
        raise PermanentJobError(exc.message) from None


async def send_like(fed: Federation, job: Job) -> None:
    """Send a local account's Like (or its Undo) of a remote post to the post's author."""
    liker = await actors.get_actor(fed.db, int(str(job.payload["actor_id"])))
    post, _deleted = await actors.get_post_any(fed.db, int(str(job.payload["post_id"])))
    if post is None or post.uri is None:
        raise PermanentJobError("post is gone or local")
    author = await actors.get_actor(fed.db, post.author_id)
    if author.inbox is None:
        raise PermanentJobError("author has no inbox")
    liker_uri = fed.urls.actor(liker)
    # Likes queued before they had ids of their own fall back to one per post.
    like_id = str(job.payload.get("like_uri") or f"{liker_uri}/likes/{post.id}")
    document = activity(like_id, "Like", liker_uri, post.uri, to=[str(author.uri)], cc=[])
    if job.payload.get("undo"):
        document = _undo(document, f"{like_id}/undo")
    await _send_private(fed, liker, document, author.inbox)


async def send_block(fed: Federation, job: Job) -> None:
    """Send a local person's Block (or its Undo) to the blocked person's server.

    Mastodon sends it too (block_service.rb), to that person alone: their server then hides
    the blocker from them and stops delivering their interactions.
    """
    blocker = await actors.get_actor(fed.db, int(str(job.payload["actor_id"])))
    target = await actors.get_actor(fed.db, int(str(job.payload["target_id"])))
    if target.inbox is None or target.uri is None:
        raise PermanentJobError("target has no inbox")
    blocker_uri = fed.urls.actor(blocker)
    block_id = str(job.payload["block_uri"])
    document = activity(block_id, "Block", blocker_uri, target.uri, to=[target.uri], cc=[])
    if job.payload.get("undo"):
        document = _undo(document, f"{block_id}/undo")
    await _send_private(fed, blocker, document, target.inbox)


async def send_group_rules(fed: Federation, job: Job) -> None:
    """Send a members-only group's rules to the remote person who asked to join it.

    A `Create{Note}` by the group addressed to that person alone, mentioning them (Mastodon
    shows it as a direct message), `inReplyTo` their `Follow` so that an Entraide server keeps
    it with the request. It is never listed anywhere, and its id answers 404.
    """
    group = await actors.get_actor(fed.db, int(str(job.payload["group_id"])))
    person = await actors.get_actor(fed.db, int(str(job.payload["follower_id"])))
    rules = await follows.get_rules_shown(fed.db, group.id, person.id)
    if rules is None:
        return  # decided (or withdrawn) before the rules went out: nothing to say any more
    if person.inbox is None or person.uri is None:
        raise PermanentJobError("the person has no inbox")
    group_uri = fed.urls.actor(group)
    handle = f"@{person.name}@{person.domain}"
    mention = (
        f'<span class="h-card"><a href="{html.escape(person.url or person.uri)}" '
        f'class="u-url mention">{html.escape(handle)}</a></span>'
    )
    body = "".join(f"<p>{html.escape(line)}</p>" for line in rules.splitlines() if line.strip())
    content = (
        f"<p>{mention} Your request to join {html.escape(group.display_name or group.name)} "
        "awaits its moderators. Its rules, which you accept by joining:</p>"
        + (body or "<p>(no rules)</p>")
    )
    note_id = f"{group_uri}/rules/{_stamp()}"
    note = {
        "id": note_id, "type": "Note", "attributedTo": group_uri, "content": content,
        "inReplyTo": str(job.payload["follow_uri"]), "to": [person.uri], "cc": [],
        "tag": [{"type": "Mention", "href": person.uri, "name": handle}],
        "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }  # fmt: skip
    document = activity(f"{note_id}/activity", "Create", group_uri, note, to=[person.uri], cc=[])
    await _send_private(fed, group, document, person.inbox)


async def send_account_delete(fed: Federation, job: Job) -> None:
    """Tell every server that knew a deleted account that it is gone (Delete of the actor)."""
    actor = await actors.get_actor(fed.db, int(str(job.payload["actor_id"])))
    actor_uri = fed.urls.actor(actor)
    document = activity(
        f"{actor_uri}#delete", "Delete", actor_uri, actor_uri, to=[AS_PUBLIC], cc=[]
    )
    inboxes = job.payload.get("inboxes")
    await outbox.publish_activity(
        fed.db, uri=document["id"], actor_id=actor.id, type="Delete", payload=document,
        inboxes=[str(i) for i in inboxes] if isinstance(inboxes, list) else [], public=False,
    )  # fmt: skip
