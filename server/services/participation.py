"""Taking part in events: join, leave, the waiting list, the organizers' answers, and the
Joins, Leaves and answers peers send about participation.

A local event's counts change with every participation: one Update of them is queued in the
same transaction (`FEDERATE_EVENT`, batched), the Accept or Reject of a remote Join
(`SEND_EVENT_RESPONSE`), a local person's Join or Leave of a remote event (`SEND_EVENT_JOIN`).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from server.config import Config
from server.db import Pool
from server.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from server.models import Account, Actor, Event, Participant
from server.services.events import (
    MAX_MESSAGE,
    SEND_EVENT_JOIN,
    SEND_EVENT_RESPONSE,
    EventView,
    _counts_changed,
    _fill_places,
    _require_organizer,
    may_read,
)
from server.storage import events as store
from server.storage import groups as group_store
from server.storage import jobs as job_store


def _arrival_state(event: Event) -> str:
    if event.join_mode == "approval":
        return "pending"
    if event.capacity is not None and event.going_count >= event.capacity:
        return "waiting"
    return "going"


def _check_joinable(event: Event) -> None:
    if event.deleted_at is not None:
        raise Gone("This event was deleted.")
    if event.status == "cancelled":
        raise Conflict("This event is cancelled.")
    if event.ends_at < datetime.now(UTC):
        raise Conflict("This event is over.")
    if event.join_mode == "external":
        raise Conflict("Registration for this event happens on another site.")


async def join_event(
    db: Pool, config: Config, event: Event, account: Account, *, message: str = ""
) -> Participant:
    """Take part: a place, the waiting list, or a request to the organizers."""
    if len(message) > MAX_MESSAGE or "\x00" in message:
        raise Invalid({"message": "This text is too long."})
    async with db.acquire() as conn, conn.transaction():
        locked = await store.get_event(conn, event.id, lock=True, include_deleted=True)
        if locked is None:
            raise NotFound("This event does not exist.")
        _check_joinable(locked)
        if locked.is_local:
            group = await group_store.get_group(conn, locked.group_id)
            membership = await group_store.get_membership(conn, locked.group_id, account.id)
            if not may_read(locked, group, membership):
                raise Forbidden("This event is for the group's members only.")
            state, join_uri = _arrival_state(locked), None
        else:
            # The organizers' server decides: pending until its Accept (or Reject).
            state = "pending"
            join_uri = f"{config.base_url}/users/{account.username}/joins/{secrets.token_hex(8)}"
        participant_id = await store.insert_participant(
            conn, locked.id, account.id, state=state, message=message.strip(), join_uri=join_uri
        )
        if participant_id is None:
            raise Conflict("You already take part in this event.")
        if locked.is_local:
            await _counts_changed(conn, locked)
        else:
            await job_store.insert_job(
                conn,
                SEND_EVENT_JOIN,
                {"event_id": locked.id, "actor_id": account.id, "join_uri": join_uri,
                 "message": message.strip(), "leave": False},
            )  # fmt: skip
        participant = await store.get_participant(conn, participant_id)
    assert participant is not None
    return participant


async def leave_event(db: Pool, event: Event, account: Account) -> None:
    """Stop taking part; the first person waiting takes the place freed."""
    async with db.acquire() as conn, conn.transaction():
        locked = await store.get_event(conn, event.id, lock=True)
        if locked is None:
            raise NotFound("This event does not exist.")
        participant = await store.find_participant(conn, locked.id, account.id)
        if participant is None:
            raise NotFound("You do not take part in this event.")
        await store.delete_participant(conn, participant.id)
        if locked.is_local:
            await _fill_places(conn, locked.id)
            await _counts_changed(conn, locked)
        else:
            await job_store.insert_job(
                conn,
                SEND_EVENT_JOIN,
                {"event_id": locked.id, "actor_id": account.id,
                 "join_uri": participant.join_uri, "leave": True},
            )  # fmt: skip


async def decide_participant(
    db: Pool, event: Event, organizer: Account, participant_id: int, *, accept: bool
) -> Participant:
    """Accept (a place, or the waiting list when full) or reject a request to take part."""
    async with db.acquire() as conn, conn.transaction():
        await _require_organizer(conn, event, organizer)
        locked = await store.get_event(conn, event.id, lock=True)
        participant = await store.get_participant(conn, participant_id)
        if locked is None or participant is None or participant.event_id != event.id:
            raise NotFound("There is no such request.")
        if participant.state != "pending":
            raise Conflict("This request was already answered.")
        if accept:
            full = locked.capacity is not None and locked.going_count >= locked.capacity
            state = "waiting" if full else "going"
        else:
            state = "rejected"
        await store.update_participant_state(conn, participant.id, state)
        if participant.domain is not None and state != "waiting":
            await job_store.insert_job(
                conn, SEND_EVENT_RESPONSE, {"participant_id": participant.id, "accept": accept}
            )
        await _counts_changed(conn, locked)
        decided = await store.get_participant(conn, participant.id)
    assert decided is not None
    return decided


async def list_participants(db: Pool, view: EventView) -> list[Participant]:
    """Organizers see every participation; others see who comes if the event shows it."""
    async with db.acquire() as conn:
        if view.can_manage:
            return await store.list_participants(
                conn, view.event.id, states=("going", "waiting", "pending", "rejected")
            )
        if view.event.show_participants and view.participation is not None:
            return await store.list_participants(conn, view.event.id, states=("going",))
    return []


async def list_participants_for_export(
    db: Pool, event: Event, organizer: Account
) -> list[Participant]:
    """Return every participation of an event, for its organizers' CSV export."""
    async with db.acquire() as conn:
        await _require_organizer(conn, event, organizer)
        return await store.list_participants(
            conn, event.id, states=("going", "waiting", "pending", "rejected")
        )


# What peers send about participation.


async def receive_join(
    db: Pool,
    participant: Actor,
    event_id: int,
    *,
    join_uri: str,
    message: str,
    addressed_group_ids: tuple[int, ...] = (),
) -> Participant:
    """Take a remote person's Join of a local event: a place (Accept queued), the waiting
    list (Accept when a place frees) or a request to the organizers."""
    if participant.is_local:
        raise Forbidden("Local people join from the event's page.")
    async with db.acquire() as conn, conn.transaction():
        event = await store.get_event(conn, event_id, lock=True, include_deleted=True)
        if event is None or not event.is_local:
            raise NotFound("No such event here.")
        if addressed_group_ids and event.group_id not in addressed_group_ids:
            raise Forbidden("This event belongs to another group.")
        _check_joinable(event)
        group = await group_store.get_group(conn, event.group_id)
        if group is None or group.visibility != "public" or event.visibility != "public":
            raise Forbidden("This event is for the group's members only.")
        state = _arrival_state(event)
        participant_id = await store.insert_participant(
            conn,
            event.id,
            participant.id,
            state=state,
            message=message.strip()[:MAX_MESSAGE],
            join_uri=join_uri,
        )
        if participant_id is None:
            raise Conflict("You already take part in this event.")
        if state == "going":
            await job_store.insert_job(
                conn, SEND_EVENT_RESPONSE, {"participant_id": participant_id, "accept": True}
            )
        await _counts_changed(conn, event)
        joined = await store.get_participant(conn, participant_id)
    assert joined is not None
    return joined


async def receive_leave(
    db: Pool, participant: Actor, *, event_id: int | None, join_uri: str | None
) -> int:
    """Take a remote person's Leave (or Undo of their Join); the waiting list moves up."""
    async with db.acquire() as conn, conn.transaction():
        found = await store.find_participant_by_join_uri(conn, join_uri) if join_uri else None
        if found is None and event_id is not None:
            found = await store.find_participant(conn, event_id, participant.id)
        if found is None or found.actor_id != participant.id:
            raise NotFound("This person does not take part in the event.")
        event = await store.get_event(conn, found.event_id, lock=True)
        if event is None:
            raise NotFound("No such event here.")
        await store.delete_participant(conn, found.id)
        if event.is_local:
            await _fill_places(conn, event.id)
            await _counts_changed(conn, event)
    return found.event_id


async def receive_join_response(
    db: Pool, sender: Actor, join_uri: str, *, accepted: bool
) -> Participant:
    """Apply the organizers' Accept or Reject of a local person's Join of a remote event.

    Only the event's group or organizer may answer. Mobilizon may answer as another moderator
    of the group: its members are not public, so that answer cannot be told from a stranger's.
    """
    async with db.acquire() as conn, conn.transaction():
        participant = await store.find_participant_by_join_uri(conn, join_uri)
        if participant is None or participant.domain is not None:
            raise NotFound("No such participation here.")
        event = await store.get_event(conn, participant.event_id)
        if event is None or event.is_local:
            raise NotFound("No such participation here.")
        if sender.id not in (event.group_id, event.organizer_id):
            raise Forbidden("Only the event's organizers can answer.")
        await store.update_participant_state(
            conn, participant.id, "going" if accepted else "rejected"
        )
        answered = await store.get_participant(conn, participant.id)
    assert answered is not None
    return answered


async def get_participation_for_federation(
    db: Pool, participant_id: int
) -> tuple[Participant, Event]:
    """Return a participation and its event; LookupError when either is gone."""
    async with db.acquire() as conn:
        participant = await store.get_participant(conn, participant_id)
        event = (
            await store.get_event(conn, participant.event_id, include_deleted=True)
            if participant
            else None
        )
    if participant is None or event is None:
        raise LookupError(participant_id)
    return participant, event


async def list_participant_inboxes(db: Pool, event_id: int) -> list[str]:
    async with db.acquire() as conn:
        return await store.list_participant_inboxes(conn, event_id)
