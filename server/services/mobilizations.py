"""Mobilizations and alliances: an urgent call reaches the group's followers, and allied groups
relay it to theirs, once each, never back, within a hop limit.

An alliance is proposed by one group's organizers and accepted by the other's; each side keeps
its own row. Relaying happens when a mobilization arrives from an accepted ally: at once, or
after an organizer approves, as the receiving group chose for that alliance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from server import validation as v
from server.config import Config
from server.db import Connection, Pool
from server.errors import Forbidden, Invalid, NotFound
from server.models import (
    URGENCIES,
    Account,
    Actor,
    Alliance,
    Group,
    Mobilization,
    Reach,
    RemoteMobilization,
)
from server.sanitize import sanitize_html
from server.services import roles
from server.storage import follows as follow_store
from server.storage import groups as group_store
from server.storage import jobs as job_store
from server.storage import mobilizations as store

# Jobs: publish a mobilization (Create by its group); relay one (Announce by an allied group);
# send an alliance Offer or its Accept.
FEDERATE_MOBILIZATION = "federate_mobilization"
RELAY_MOBILIZATION = "relay_mobilization"
SEND_ALLIANCE = "send_alliance"
RESOLVE_AND_OFFER = "resolve_and_offer_alliance"
# A relay of a relay of a relay is not relayed again.
MAX_HOPS = 3
# Jobs of a mobilization are due in the past: the worker claims by due time, so they go first.
AHEAD = timedelta(hours=1)
MAX_WHAT = 200
MAX_PLACE = 200
MAX_TEXT = 5000
LABELS = {
    "fr": {"urgent": "URGENT", "where": "Où", "when": "Quand", "help": "Comment aider"},
    "en": {"urgent": "URGENT", "where": "Where", "when": "When", "help": "How to help"},
}


def render_mobilization(
    language: str, what: str, place: str, when: str, why: str, how_to_help: str, urgency: str
) -> str:
    """Return the HTML every peer shows: what, where, when first (Mastodon reads only this)."""
    words = LABELS.get(language, LABELS["en"])
    head = f"{words['urgent']} : {escape(what)}" if urgency != "normal" else escape(what)
    html = f"<p><strong>{head}</strong></p>"
    html += f"<p>{words['where']} : {escape(place)}<br>{words['when']} : {escape(when)}</p>"
    if why:
        html += f"<p>{escape(why)}</p>"
    if how_to_help:
        html += f"<p>{words['help']} : {escape(how_to_help)}</p>"
    return html


def _parse_start(value: str, timezone: str) -> tuple[datetime | None, str | None]:
    value = value.strip()
    if not value:
        return None, "This field is required."
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, "Enter a date like 2026-12-31 or 2026-12-31T18:00."
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    if moment < datetime.now(UTC) - timedelta(hours=1):
        return None, "This moment is already past."
    return moment, None


async def publish_mobilization(
    db: Pool,
    config: Config,
    group: Group,
    organizer: Account,
    *,
    what: str,
    place: str,
    starts_at: str,
    why: str = "",
    how_to_help: str = "",
    urgency: str = "high",
) -> Mobilization:
    """Publish a mobilization; its federation goes ahead of everything waiting."""
    what, place, why, how_to_help = what.strip(), place.strip(), why.strip(), how_to_help.strip()
    start, start_error = _parse_start(starts_at, organizer.timezone)
    errors = v.collect(
        what=v.check_text(what, max_length=MAX_WHAT, required=True),
        place=v.check_text(place, max_length=MAX_PLACE, required=True),
        starts_at=start_error,
        why=v.check_text(why, max_length=MAX_TEXT),
        how_to_help=v.check_text(how_to_help, max_length=MAX_TEXT),
        urgency=v.check_choice(urgency, URGENCIES),
    )
    if errors or start is None:
        raise Invalid(errors)
    when = start.astimezone(ZoneInfo(organizer.timezone)).strftime("%Y-%m-%d %H:%M")
    html = render_mobilization(config.language, what, place, when, why, how_to_help, urgency)
    async with db.acquire() as conn, conn.transaction():
        await roles.require_organizer(conn, group.id, organizer)
        mobilization_id = await store.insert_mobilization(
            conn, group_id=group.id, author_id=organizer.id, what=what, place=place,
            starts_at=start, why=why, how_to_help=how_to_help, urgency=urgency,
            content_html=html,
        )  # fmt: skip
        if group.visibility == "public":
            await job_store.insert_job(
                conn,
                FEDERATE_MOBILIZATION,
                {"mobilization_id": mobilization_id},
                run_at=datetime.now(UTC) - AHEAD,
            )
            await _relay_by_allies(
                conn, mobilization_id, sender_id=group.id, origin_id=group.id, hops=0
            )
        mobilization = await store.get_mobilization(conn, mobilization_id)
    assert mobilization is not None
    return mobilization


async def _relay_by_allies(
    conn: Connection, mobilization_id: int, *, sender_id: int, origin_id: int, hops: int
) -> list[int]:
    """Have the local allies of the sender relay a mobilization (once each, never its origin)."""
    relaying: list[int] = []
    if hops >= MAX_HOPS:
        return relaying
    for alliance in await store.list_allied_groups(conn, sender_id):
        if alliance.group_id == origin_id:
            continue
        state = "relayed" if alliance.relay == "auto" else "pending"
        if not await store.insert_relay(conn, mobilization_id, alliance.group_id, state):
            continue  # this group relayed it already: never twice
        if state == "relayed":
            await _queue_relay(conn, mobilization_id, alliance.group_id, sender_id, hops + 1)
            relaying.append(alliance.group_id)
    # Allies here of those local relays relay in turn (the relay rows stop any loop).
    for group_id in list(relaying):
        relaying += await _relay_by_allies(
            conn, mobilization_id, sender_id=group_id, origin_id=origin_id, hops=hops + 1
        )
    return relaying


async def _queue_relay(
    conn: Connection, mobilization_id: int, group_id: int, sender_id: int, hops: int
) -> None:
    await job_store.insert_job(
        conn,
        RELAY_MOBILIZATION,
        {"mobilization_id": mobilization_id, "group_id": group_id, "sender_id": sender_id,
         "hops": hops},
        run_at=datetime.now(UTC) - AHEAD,
    )  # fmt: skip


async def get_mobilization(db: Pool, mobilization_id: int, viewer: Account | None) -> Mobilization:
    async with db.acquire() as conn:
        mobilization = await store.get_mobilization(conn, mobilization_id)
        if mobilization is None:
            raise NotFound("This mobilization does not exist.")
        if mobilization.is_local:
            await roles.require_reader(conn, mobilization.group_id, viewer)
    return mobilization


async def get_reach(db: Pool, mobilization: Mobilization, organizer: Account) -> Reach:
    """Return where a mobilization went; only for the organizers of its group."""
    async with db.acquire() as conn:
        await roles.require_organizer(conn, mobilization.group_id, organizer)
        delivered, pending, failed = await store.get_delivery_tally(conn, mobilization.id)
        relays = await store.list_relays(conn, mobilization.id)
    return Reach(
        delivered=delivered,
        pending=pending,
        failed=failed,
        relayed_by=[name for name, state in relays if state == "relayed"],
        awaiting_approval=[name for name, state in relays if state == "pending"],
    )


async def is_organizer(db: Pool, group_id: int, account: Account | None) -> bool:
    if account is None:
        return False
    async with db.acquire() as conn:
        return await roles.is_organizer(conn, group_id, account)


async def list_group_mobilizations(db: Pool, group: Group) -> list[Mobilization]:
    async with db.acquire() as conn:
        return await store.list_group_mobilizations(conn, group.id)


async def list_followed_mobilizations(db: Pool, account: Account) -> list[Mobilization]:
    """Return the coming mobilizations of remote groups the account follows (or relayed)."""
    async with db.acquire() as conn:
        return await store.list_followed_mobilizations(conn, account.id)


async def approve_relay(db: Pool, group: Group, organizer: Account, mobilization_id: int) -> None:
    """Relay a mobilization an ally sent, which the group chose to approve first."""
    async with db.acquire() as conn, conn.transaction():
        await roles.require_organizer(conn, group.id, organizer)
        mobilization = await store.get_mobilization(conn, mobilization_id)
        if mobilization is None or not await store.update_relay_approved(
            conn, mobilization_id, group.id
        ):
            raise NotFound("This mobilization does not exist.")
        await _queue_relay(
            conn, mobilization_id, group.id, mobilization.group_id, mobilization.hops + 1
        )


async def list_pending_relays(db: Pool, group: Group) -> list[Mobilization]:
    async with db.acquire() as conn:
        return await store.list_pending_relays(conn, group.id)


# Alliances


async def list_alliances(db: Pool, group: Group, organizer: Account) -> list[Alliance]:
    async with db.acquire() as conn:
        await roles.require_organizer(conn, group.id, organizer)
        return await store.list_alliances(conn, group.id)


async def propose_alliance(
    db: Pool, config: Config, group: Group, organizer: Account, handle: str
) -> None:
    """Offer an alliance to another group: by its slug here, or @name@host elsewhere."""
    handle = handle.strip().lstrip("@")
    name, _, host = handle.partition("@")
    if not handle or len(handle) > 300:
        raise Invalid({"handle": "This field is required."})
    async with db.acquire() as conn, conn.transaction():
        await roles.require_organizer(conn, group.id, organizer)
        if host and host.lower() != config.host.lower():
            await job_store.insert_job(
                conn, RESOLVE_AND_OFFER, {"group_id": group.id, "handle": handle}
            )
            return
        other = await group_store.find_group_by_slug(conn, name.lower())
        if other is None:
            raise Invalid({"handle": "No group has this address."})
        if other.id == group.id:
            raise Invalid({"handle": "A group cannot ally with itself."})
        uri = f"{config.base_url}/groups/{group.slug}#alliances/{other.slug}"
        await store.upsert_alliance(conn, group.id, other.id, state="offered", uri=uri)
        await store.upsert_alliance(conn, other.id, group.id, state="requested", uri=uri)


async def offer_to_remote(db: Pool, group_id: int, ally: Actor, offer_uri: str) -> bool:
    """Record an offer to a remote group and queue it; False when an alliance exists."""
    if ally.kind != "group" or ally.is_local:
        raise Invalid({"handle": "No group has this address."})
    async with db.acquire() as conn, conn.transaction():
        if not await store.upsert_alliance(conn, group_id, ally.id, state="offered", uri=offer_uri):
            return False
        await job_store.insert_job(
            conn, SEND_ALLIANCE, {"group_id": group_id, "ally_id": ally.id, "kind": "Offer"}
        )
    return True


async def accept_alliance(db: Pool, group: Group, organizer: Account, ally_id: int) -> None:
    """Accept an alliance another group offered; each side may then relay the other's calls."""
    async with db.acquire() as conn, conn.transaction():
        await roles.require_organizer(conn, group.id, organizer)
        alliance = await store.get_alliance(conn, group.id, ally_id)
        if alliance is None or alliance.state != "requested":
            raise NotFound("No such alliance request.")
        await store.update_alliance_accepted(conn, group.id, ally_id)
        if alliance.ally_domain is None:
            await store.update_alliance_accepted(conn, ally_id, group.id)
        else:
            await job_store.insert_job(
                conn, SEND_ALLIANCE, {"group_id": group.id, "ally_id": ally_id, "kind": "Accept"}
            )


async def set_relay_policy(
    db: Pool, group: Group, organizer: Account, ally_id: int, relay: str
) -> None:
    error = v.check_choice(relay, ("auto", "approve"))
    if error:
        raise Invalid({"relay": error})
    async with db.acquire() as conn, conn.transaction():
        await roles.require_organizer(conn, group.id, organizer)
        if await store.get_alliance(conn, group.id, ally_id) is None:
            raise NotFound("No such alliance request.")
        await store.update_alliance_relay(conn, group.id, ally_id, relay)


async def receive_offer(db: Pool, offerer: Actor, target: Actor, offer_uri: str) -> str:
    """Record a remote group's offer of alliance to a local group, for its organizers."""
    if offerer.kind != "group" or offerer.is_local:
        raise Forbidden("Only a group can offer an alliance.")
    if target.kind != "group" or not target.is_local:
        raise NotFound("No such group here.")
    async with db.acquire() as conn:
        created = await store.upsert_alliance(
            conn, target.id, offerer.id, state="requested", uri=offer_uri
        )
    return "alliance requested" if created else "alliance already known"


async def receive_accept(db: Pool, accepter: Actor, offer_uri: str) -> str:
    """Apply the Accept of an offer we made; only the group it was offered to may accept."""
    async with db.acquire() as conn, conn.transaction():
        alliance = await store.find_alliance_by_uri(conn, offer_uri)
        if alliance is None or alliance.ally_id != accepter.id or alliance.state != "offered":
            raise Forbidden("Only the group offered this alliance can accept it.")
        await store.update_alliance_accepted(conn, alliance.group_id, alliance.ally_id)
    return "alliance accepted"


async def get_alliance_for_federation(db: Pool, group_id: int, ally_id: int) -> Alliance:
    async with db.acquire() as conn:
        alliance = await store.get_alliance(conn, group_id, ally_id)
    if alliance is None:
        raise NotFound("No such alliance request.")
    return alliance


# From federation


async def receive_mobilization(
    db: Pool, origin: Actor, data: RemoteMobilization, *, sender: Actor, hops: int
) -> str:
    """Keep a remote group's mobilization and have local allies of its sender relay it.

    `sender` is the origin itself (its Create) or an allied group that relayed it (Announce);
    a group that is no ally of the sender makes nobody here relay anything.
    """
    if origin.kind != "group" or origin.is_local:
        raise Forbidden("Only a group publishes mobilizations.")
    data = RemoteMobilization(
        uri=data.uri,
        url=data.url,
        what=data.what.strip()[:MAX_WHAT] or "…",
        place=data.place.strip()[:MAX_PLACE],
        starts_at=data.starts_at,
        why=data.why.strip()[:MAX_TEXT],
        how_to_help=data.how_to_help.strip()[:MAX_TEXT],
        urgency=data.urgency if data.urgency in URGENCIES else "high",
        content_html=sanitize_html(data.content_html[:100_000]),
    )
    hops = max(0, min(hops, MAX_HOPS))
    async with db.acquire() as conn, conn.transaction():
        allied = await store.list_allied_groups(conn, sender.id)
        known = await store.find_mobilization_by_uri(conn, data.uri)
        if known is None:
            wanted = allied or await follow_store.has_local_follower(conn, origin.id)
            if not wanted and sender.id != origin.id:
                wanted = await follow_store.has_local_follower(conn, sender.id)
            if not wanted:
                return "not for us"
            mobilization_id = await store.insert_remote_mobilization(conn, origin.id, data, hops)
            if mobilization_id is None:  # stored meanwhile by another worker
                return "already known"
        else:
            mobilization_id = known.id
        if sender.id != origin.id:
            await store.insert_relay(conn, mobilization_id, sender.id, "relayed")
        relaying = await _relay_by_allies(
            conn, mobilization_id, sender_id=sender.id, origin_id=origin.id, hops=hops
        )
    return f"mobilization {mobilization_id}, relayed by {len(relaying)}"


async def receive_relay_of_ours(db: Pool, mobilization_id: int, relayer: Actor) -> str:
    """Note that an ally relayed one of our mobilizations (it never loops back here)."""
    async with db.acquire() as conn:
        mobilization = await store.get_mobilization(conn, mobilization_id)
        if mobilization is None or not mobilization.is_local:
            return "ignored"
        alliance = await store.get_alliance(conn, mobilization.group_id, relayer.id)
        if alliance is None or alliance.state != "accepted":
            return "ignored: not an ally"
        await store.insert_relay(conn, mobilization_id, relayer.id, "relayed")
    return "relay noted"


# For the federation worker


async def get_mobilization_any(db: Pool, mobilization_id: int) -> Mobilization:
    async with db.acquire() as conn:
        mobilization = await store.get_mobilization(conn, mobilization_id)
    if mobilization is None:
        raise NotFound("This mobilization does not exist.")
    return mobilization


async def publish_urgent(
    db: Pool,
    *,
    uri: str,
    actor_id: int,
    type: str,
    payload: dict[str, object],
    mobilization_id: int,
    inboxes: list[str],
) -> int:
    """Store an activity about a mobilization with deliveries ahead of the queue."""
    async with db.acquire() as conn, conn.transaction():
        return await store.insert_urgent_activity(
            conn, uri=uri, actor_id=actor_id, type=type, payload=payload,
            mobilization_id=mobilization_id, inboxes=inboxes,
        )  # fmt: skip


async def relay_inboxes(db: Pool, group_id: int) -> list[str]:
    """Return the inboxes of a group's followers and of its remote allies.

    The origin, an ally too, hears of the relay: it never relays its own call again, and
    counts the ally among those that relayed it.
    """
    async with db.acquire() as conn:
        followers = await follow_store.list_follower_inboxes(conn, group_id)
        allies = await store.list_ally_inboxes(conn, group_id)
    return sorted({*followers, *allies})
