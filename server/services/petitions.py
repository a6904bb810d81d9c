"""Petitions: a group publishes one; people sign it from here, another Entraide or Mastodon.

One signature per person whatever the path (the table's primary key). Each change queues
federation in the same transaction: the petition itself, its status, and its count, whose
updates are batched (at most one per COUNT_UPDATE_SECONDS per petition).
"""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from server import validation as v
from server.config import Config
from server.db import Connection, Pool
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.models import (
    PETITION_STATUSES,
    Account,
    Actor,
    Group,
    Petition,
    RemotePetition,
    Signature,
    StatusChange,
)
from server.sanitize import render_text, sanitize_html
from server.services import notifications, roles
from server.services.posts import mention_resolver, tag_url
from server.storage import follows as follow_store
from server.storage import groups as group_store
from server.storage import jobs as job_store
from server.storage import petitions as store

# Jobs the federation worker runs: publish or update the Question; send a local signer's vote.
FEDERATE_PETITION = "federate_petition"
SEND_PETITION_VOTE = "send_petition_vote"
# Followers' instances see the count at most this often (Mastodon waits 3 min: vote_service.rb).
COUNT_UPDATE_SECONDS = 10.0

MAX_TITLE = 200
MAX_ADDRESSEE = 200
MAX_BODY = 20_000
MAX_NOTE = 500
MAX_GOAL = 10_000_000
MAX_REMOTE_HTML = 100_000
# The poll's single option, in the instance's language: what Mastodon shows on the button.
OPTION_NAMES = {"fr": "Je signe", "en": "I sign"}


def _parse_goal(value: str) -> tuple[int, str | None]:
    value = value.strip()
    if not value:
        return 0, "This field is required."
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        return 0, "Enter a whole number."
    goal = int(value)
    if goal < 1 or goal > MAX_GOAL:
        return 0, "The goal must be between 1 and 10,000,000 signatures."
    return goal, None


def _parse_deadline(value: str, timezone: str) -> tuple[datetime | None, str | None]:
    """Read a date (and time) typed in the person's time zone; it must be in the future."""
    value = value.strip()
    if not value:
        return None, None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, "Enter a date like 2026-12-31 or 2026-12-31T18:00."
    if len(value) <= 10:  # a date alone: the end of that day
        moment = moment.replace(hour=23, minute=59)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    if moment <= datetime.now(UTC):
        return None, "The deadline must be in the future."
    return moment, None


async def create_petition(
    db: Pool,
    config: Config,
    group: Group,
    author: Account,
    *,
    title: str,
    body: str,
    addressee: str,
    goal: str,
    deadline: str = "",
) -> Petition:
    """Publish a petition of a group; only its organizers may."""
    title, addressee = title.strip(), addressee.strip()
    goal_value, goal_error = _parse_goal(goal)
    deadline_value, deadline_error = _parse_deadline(deadline, author.timezone)
    errors = v.collect(
        title=v.check_text(title, max_length=MAX_TITLE, required=True),
        body=v.check_text(body, max_length=MAX_BODY, required=True),
        addressee=v.check_text(addressee, max_length=MAX_ADDRESSEE, required=True),
        goal=goal_error,
        deadline=deadline_error,
    )
    if errors:
        raise Invalid(errors)
    async with db.acquire() as conn, conn.transaction():
        await roles.require_organizer(conn, group.id, author)
        petition_id = await store.insert_petition(
            conn,
            group_id=group.id,
            author_id=author.id,
            title=title,
            body=body,
            body_html=render_text(body, mention_resolver(config), tag_url(config)),
            addressee=addressee,
            goal=goal_value,
            deadline=deadline_value,
            option_name=OPTION_NAMES.get(config.language, OPTION_NAMES["en"]),
        )
        await store.update_petition_status(conn, petition_id, status="open", note="")
        if group.visibility == "public":
            await job_store.insert_job(
                conn, FEDERATE_PETITION, {"petition_id": petition_id, "action": "create"}
            )
        petition = await store.get_petition(conn, petition_id)
    assert petition is not None
    return petition


async def change_status(
    db: Pool, petition: Petition, organizer: Account, *, status: str, note: str
) -> Petition:
    """Set a petition's status with a short public note; followers are told at once."""
    note = note.strip()
    errors = v.collect(
        status=v.check_choice(status, PETITION_STATUSES),
        note=v.check_text(note, max_length=MAX_NOTE),
    )
    if errors:
        raise Invalid(errors)
    if not petition.is_local:
        raise Forbidden("Only the group's organizers can do this.")
    async with db.acquire() as conn, conn.transaction():
        await roles.require_organizer(conn, petition.group_id, organizer)
        await store.update_petition_status(conn, petition.id, status=status, note=note)
        group = await group_store.get_group(conn, petition.group_id)
        if group is not None and group.visibility == "public":
            await job_store.insert_job(
                conn, FEDERATE_PETITION, {"petition_id": petition.id, "action": "update"}
            )
        updated = await store.get_petition(conn, petition.id)
    assert updated is not None
    return updated


async def get_petition(db: Pool, petition_id: int, viewer: Account | None) -> Petition:
    """Return a petition the viewer may read (petitions of members-only groups stay inside)."""
    async with db.acquire() as conn:
        petition = await store.get_petition(conn, petition_id)
        if petition is None:
            raise NotFound("This petition does not exist.")
        if petition.is_local:
            await roles.require_reader(conn, petition.group_id, viewer)
    return petition


async def is_organizer(db: Pool, petition: Petition, account: Account | None) -> bool:
    if account is None or not petition.is_local:
        return False
    async with db.acquire() as conn:
        return await roles.is_organizer(conn, petition.group_id, account)


async def _queue_count_update(conn: Connection, petition_id: int) -> None:
    """Queue the federation of the new count, unless an update is already on its way."""
    # One second more than promised: the interval runs from when the previous Update started
    # to be built, and building it (the signers' inboxes) takes a moment.
    due = await store.mark_count_update_due(conn, petition_id, COUNT_UPDATE_SECONDS + 1)
    if due is not None:
        await job_store.insert_job(
            conn, FEDERATE_PETITION, {"petition_id": petition_id, "action": "count"}, run_at=due
        )


async def sign(
    db: Pool, config: Config, petition: Petition, account: Account, *, public: bool
) -> bool:
    """Sign as a local person; return False if they had already signed (nothing changes).

    A remote petition is signed by a vote sent to its group, as Mastodon votes.
    """
    async with db.acquire() as conn, conn.transaction():
        current = await store.get_petition_for_update(conn, petition.id)
        if current is None:
            raise NotFound("This petition does not exist.")
        if not current.is_open:
            raise Conflict("This petition is closed.")
        vote_uri = None
        if not current.is_local:
            vote_uri = f"{config.base_url}/users/{account.username}#votes/{secrets.token_hex(8)}"
        signed = await store.insert_signature(
            conn, petition.id, account.id, public=public, uri=vote_uri
        )
        if not signed:
            return False
        if current.is_local:
            await _queue_count_update(conn, petition.id)
            await notifications.notify_if_goal_reached(conn, petition.id)
        else:
            await job_store.insert_job(
                conn,
                SEND_PETITION_VOTE,
                {"petition_id": petition.id, "actor_id": account.id, "vote_uri": vote_uri,
                 "public": public, "undo": False},
            )  # fmt: skip
    return True


async def withdraw(db: Pool, petition: Petition, account: Account) -> bool:
    """Take back one's signature; return False if there was none."""
    async with db.acquire() as conn, conn.transaction():
        current = await store.get_petition_for_update(conn, petition.id)
        if current is None:
            raise NotFound("This petition does not exist.")
        vote_uri = await store.delete_signature(conn, petition.id, account.id)
        if vote_uri is None:
            return False
        if current.is_local:
            await _queue_count_update(conn, petition.id)
        elif vote_uri:
            await job_store.insert_job(
                conn,
                SEND_PETITION_VOTE,
                {"petition_id": petition.id, "actor_id": account.id, "vote_uri": vote_uri,
                 "public": False, "undo": True},
            )  # fmt: skip
    return True


async def get_signature(db: Pool, petition: Petition, account: Account | None) -> Signature | None:
    if account is None:
        return None
    async with db.acquire() as conn:
        return await store.get_signature(conn, petition.id, account.id)


async def list_public_signatures(db: Pool, petition: Petition) -> list[Signature]:
    """Return the signers who chose to show their name (never the others)."""
    async with db.acquire() as conn:
        return await store.list_signatures(conn, petition.id, public_only=True, limit=200)


async def list_status_changes(db: Pool, petition: Petition) -> list[StatusChange]:
    async with db.acquire() as conn:
        return await store.list_status_changes(conn, petition.id)


async def list_group_petitions(db: Pool, group: Group) -> list[Petition]:
    async with db.acquire() as conn:
        return await store.list_group_petitions(conn, group.id)


async def list_followed_petitions(db: Pool, account: Account) -> list[Petition]:
    """Return the open petitions of remote groups the account follows."""
    async with db.acquire() as conn:
        return await store.list_followed_petitions(conn, account.id)


async def export_signatures(
    db: Pool, config: Config, petition: Petition, organizer: Account
) -> str:
    """Return the signatures as CSV for the organizers, with each signer's choice of display."""
    async with db.acquire() as conn:
        await roles.require_organizer(conn, petition.group_id, organizer)
        signatures = await store.list_signatures(conn, petition.id, public_only=False)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "address", "public", "signed_at"])
    for s in signatures:
        address = f"@{s.name}@{s.domain or config.host}"
        # A leading =, +, - or @ would make a spreadsheet run the cell as a formula.
        name = s.display_name or s.name
        writer.writerow([
            "'" + name if name[:1] in "=+-@" else name,
            address,
            "yes" if s.public else "no",
            s.created_at.astimezone(UTC).isoformat(timespec="seconds"),
        ])  # fmt: skip
    return out.getvalue()


# From federation: votes, and petitions of remote groups.


async def receive_vote(
    db: Pool, petition_id: int, voter: Actor, *, option: str, vote_uri: str, public: bool
) -> str:
    """Count a remote vote as a signature; return what happened (for the inbox's record)."""
    async with db.acquire() as conn, conn.transaction():
        petition = await store.get_petition_for_update(conn, petition_id)
        if petition is None or not petition.is_local:
            raise NotFound("This petition does not exist.")
        if option != petition.option_name:
            raise Invalid({"name": "no such option"}, "This petition has no such option.")
        if not petition.is_open:
            raise Conflict("This petition is closed.")
        if voter.is_local or voter.kind == "group":
            raise Forbidden("Only people sign petitions.")
        if not await store.insert_signature(
            conn, petition_id, voter.id, public=public, uri=vote_uri
        ):
            return "already signed"
        await _queue_count_update(conn, petition_id)
        await notifications.notify_if_goal_reached(conn, petition_id)
    return "signed"


async def receive_unvote(db: Pool, voter: Actor, vote_uri: str) -> bool:
    """Withdraw the signature a remote vote made (an Undo of it by the same actor)."""
    async with db.acquire() as conn, conn.transaction():
        petition_id = await store.delete_signature_by_uri(conn, vote_uri, voter.id)
        if petition_id is None:
            return False
        await _queue_count_update(conn, petition_id)
    return True


async def receive_petition(db: Pool, group: Actor, data: RemotePetition) -> int | None:
    """Keep (or refresh) a remote group's petition if someone here follows the group.

    Only the group may change its own petition. Return its id here, None if not kept.
    """
    if group.is_local or group.kind != "group":
        raise Forbidden("Only a group publishes petitions.")
    data = RemotePetition(
        uri=data.uri,
        url=data.url,
        title=data.title.strip()[:MAX_TITLE] or "…",
        body_html=sanitize_html(data.body_html[:MAX_REMOTE_HTML]),
        addressee=data.addressee.strip()[:MAX_ADDRESSEE],
        goal=min(max(data.goal, 1), MAX_GOAL),
        deadline=data.deadline,
        status=data.status if data.status in PETITION_STATUSES else "open",
        status_note=data.status_note.strip()[:MAX_NOTE],
        option_name=data.option_name[:200],
        count=max(0, data.count),
    )
    async with db.acquire() as conn, conn.transaction():
        before = await store.find_petition_by_uri(conn, data.uri)
        if before is not None and before.group_id != group.id:
            raise Forbidden("Only the group can change its petition.")
        if before is None and not await follow_store.has_local_follower(conn, group.id):
            return None
        petition_id = await store.upsert_remote_petition(conn, group.id, data)
        if before is None or (before.status, before.status_note) != (data.status, data.status_note):
            await store.update_petition_status(
                conn, petition_id, status=data.status, note=data.status_note
            )
    return petition_id


async def find_petition_id(db: Pool, uri: str) -> int | None:
    """Return the id here of a remote petition known by its ActivityPub id."""
    async with db.acquire() as conn:
        petition = await store.find_petition_by_uri(conn, uri)
    return petition.id if petition else None


# For the federation worker.


async def get_petition_any(db: Pool, petition_id: int) -> Petition:
    """Return a petition whoever may read it (the worker publishes only public ones)."""
    async with db.acquire() as conn:
        petition = await store.get_petition(conn, petition_id)
    if petition is None:
        raise NotFound("This petition does not exist.")
    return petition


async def take_count_update(db: Pool, petition_id: int) -> Petition:
    """Mark the pending count update as sent now; return the petition with its count."""
    async with db.acquire() as conn, conn.transaction():
        await store.take_count_update(conn, petition_id)
        petition = await store.get_petition(conn, petition_id)
    if petition is None:
        raise NotFound("This petition does not exist.")
    return petition


async def signer_inboxes(db: Pool, petition: Petition) -> list[str]:
    async with db.acquire() as conn:
        return await store.list_signer_inboxes(conn, petition.id)


async def get_petition_group(db: Pool, petition: Petition) -> Group | None:
    async with db.acquire() as conn:
        return await group_store.get_group(conn, petition.group_id)
