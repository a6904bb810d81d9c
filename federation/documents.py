"""ActivityStreams documents of local things, shaped for Mastodon, Lemmy and Mobilizon."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from federation.jsondoc import AS_PUBLIC
from federation.urls import Urls
from server.models import Actor, Group, Post

CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    # Fedify reads publicKey only when the security context is present.
    "https://w3id.org/security/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "lemmy": "https://join-lemmy.org/ns#",
        "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
    },
]
AP_TYPES = {"person": "Person", "group": "Group", "application": "Application"}
# What a group says of itself for directories: schema.org's `location` (a Place, as Mobilizon
# sends a group's) and `inLanguage` (in Mobilizon's context too), and its topics as Entraide's
# extension term (ids of server/models.py GROUP_TOPICS). FEDERATION.md, "Groups".
GROUP_CONTEXT: dict[str, Any] = {
    "sc": "http://schema.org#",
    "location": {"@id": "sc:location", "@type": "sc:Place"},
    "inLanguage": "sc:inLanguage",
    "entraide": "https://entraide.org/ns#",
    "topics": "entraide:topics",
}


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def actor_document(
    urls: Urls, actor: Actor, *, group: Group | None = None, avatar_url: str | None = None
) -> dict[str, Any]:
    """Return the JSON-LD of a local actor (Person, Group or the instance's Application)."""
    uri = urls.actor(actor)
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": uri,
        "type": AP_TYPES[actor.kind],
        "preferredUsername": actor.name,
        "name": actor.display_name or actor.name,
        "summary": actor.summary_html,
        "url": uri,
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "following": f"{uri}/following",
        "endpoints": {"sharedInbox": urls.shared_inbox()},
        "publicKey": {
            "id": urls.key_id(actor),
            "owner": uri,
            "publicKeyPem": actor.public_key_pem,
        },
        "manuallyApprovesFollowers": group is not None
        and (group.join_policy != "open" or group.visibility != "public"),
        "discoverable": group is None or group.visibility == "public",
        "published": iso(actor.created_at),
    }
    if actor.kind == "application":
        # Mastodon's instance actor is not discoverable and lists no collections beyond its inbox.
        document["manuallyApprovesFollowers"] = True
        document["discoverable"] = False
    else:
        document["featured"] = f"{uri}/featured"
    if group is not None:
        # Lemmy reads `attributedTo` as the moderators collection; keep it simple: the group.
        document["postingRestrictedToMods"] = False
        document["@context"] = [*CONTEXT, GROUP_CONTEXT]
        document["topics"] = list(group.topics)
        if group.place:
            document["location"] = {"type": "Place", "name": group.place}
        if group.language:
            document["inLanguage"] = group.language
    if avatar_url:
        document["icon"] = {"type": "Image", "mediaType": "image/png", "url": avatar_url}
    if group is not None and group.header:
        # Mastodon and Takahē show it as the profile's header (`image`), a placeholder without.
        media_type = "image/png" if group.header.endswith(".png") else "image/jpeg"
        document["image"] = {
            "type": "Image",
            "mediaType": media_type,
            "url": urls.picture(group.header),
        }
    return document


def note_document(
    urls: Urls,
    post: Post,
    author_uri: str,
    group_uri: str | None,
    tags: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Return the Note of a local post in a group: public, addressed to the group (FEP-1b12)."""
    uri = urls.post(post.id)
    to = [AS_PUBLIC]
    cc = [group_uri, f"{group_uri}/followers"] if group_uri else []
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": uri,
        "type": "Note",
        "attributedTo": author_uri,
        "content": post.content_html,
        "source": {"content": post.content, "mediaType": "text/plain"},
        "summary": post.content_warning or None,
        "sensitive": bool(post.content_warning),
        "published": iso(post.created_at),
        "url": uri,
        "to": to,
        "cc": cc,
        "tag": tags or [],
    }
    if post.attachments:
        # Mastodon: Document with mediaType, url and `name` as the description (alt text), at
        # most four (app/lib/activitypub/parser/media_attachment_parser.rb).
        document["attachment"] = [
            {
                "type": "Document",
                "mediaType": a.media_type,
                "url": urls.picture(a.url) if a.is_local else a.url,
                "name": a.alt,
                **({"width": a.width, "height": a.height} if a.width else {}),
            }
            for a in post.attachments
        ]
    if group_uri:
        document["audience"] = group_uri
    if post.updated_at is not None:
        document["updated"] = iso(post.updated_at)
    return document


def members_only_note(
    urls: Urls,
    post: Post,
    author_uri: str,
    group_uri: str,
    tags: list[dict[str, str]],
    members: list[str],
) -> dict[str, Any]:
    """Return the Note of a members-only post: addressed to the members, never to the public."""
    document = note_document(urls, post, author_uri, group_uri, tags)
    document.pop("@context", None)
    document["to"] = list(members)
    document["cc"] = []
    return document


def activity(
    activity_id: str,
    type: str,
    actor_uri: str,
    obj: Any,
    *,
    to: list[str],
    cc: list[str],
    audience: str | None = None,
    published: datetime | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": activity_id,
        "type": type,
        "actor": actor_uri,
        "object": obj,
        "to": to,
        "cc": cc,
    }
    if audience:
        document["audience"] = audience
    if published is not None:
        document["published"] = iso(published)
    return document


def tombstone(uri: str) -> dict[str, Any]:
    return {"@context": CONTEXT, "id": uri, "type": "Tombstone"}


def ordered_collection(
    uri: str, total: int, first: str | None, items: list[Any] | None = None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": uri,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first is not None:
        document["first"] = first
    if items is not None:
        document["orderedItems"] = items
    return document


def collection_page(
    uri: str, part_of: str, items: list[Any], next_uri: str | None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": uri,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    }
    if next_uri is not None:
        document["next"] = next_uri
    return document
