"""The table of job handlers the worker runs: every outgoing federation effect starts here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from federation import outgoing
from federation.context import Federation
from federation.delivery import DeliveryWorker
from federation.objects import board as board_objects
from federation.objects import conversations as conversation_objects
from federation.objects import events as event_objects
from federation.objects import goals as goal_objects
from federation.objects import mobilizations as mobilization_objects
from federation.objects import moderation as moderation_objects
from federation.objects import petitions as petition_objects
from federation.objects import resources as resource_objects
from federation.processing import process_activity
from server.leases import WorkerLease
from server.models import Job
from server.services import mail, media, notifications
from server.services.accounts import SEND_ACCOUNT_DELETE
from server.services.availability import SEND_CONVERSATION_REQUEST
from server.services.board import FEDERATE_BOARD_ITEM, SEND_BOARD_ANSWER, SEND_BOARD_REPLY
from server.services.events import FEDERATE_EVENT, SEND_EVENT_JOIN, SEND_EVENT_RESPONSE
from server.services.follows import (
    RESOLVE_AND_FOLLOW,
    SEND_FOLLOW,
    SEND_FOLLOW_RESPONSE,
    SEND_GROUP_RULES,
)
from server.services.goals import FEDERATE_GOAL
from server.services.inbox import PROCESS_INBOX
from server.services.mobilizations import (
    FEDERATE_MOBILIZATION,
    RELAY_MOBILIZATION,
    RESOLVE_AND_OFFER,
    SEND_ALLIANCE,
)
from server.services.moderation import SEND_FLAG
from server.services.muting import SEND_BLOCK
from server.services.petitions import FEDERATE_PETITION, SEND_PETITION_VOTE
from server.services.posts import FEDERATE_POST, SEND_LIKE
from server.services.resources import FEDERATE_RESOURCE
from server.worker import JOB_ENDED, Handler, run_worker


def job_handlers(fed: Federation) -> Mapping[str, Handler]:
    """Return the handler of each job kind, bound to the federation context."""

    def bind(function: Callable[[Federation, Job], Awaitable[None]]) -> Handler:
        async def handler(job: Job) -> None:
            await function(fed, job)

        return handler

    async def process_inbox(job: Job) -> str:
        # The claim brought the activity along (server/storage/jobs.py); the write of its
        # outcome ends the job.
        activity = job.payload.get("activity")
        await process_activity(
            fed,
            int(str(job.payload["row_id"])),
            activity=activity if isinstance(activity, dict) else None,
            job_id=job.id,
        )
        return JOB_ENDED

    return {
        FEDERATE_POST: bind(outgoing.federate_post),
        SEND_FOLLOW_RESPONSE: bind(outgoing.send_follow_response),
        SEND_FOLLOW: bind(outgoing.send_follow),
        RESOLVE_AND_FOLLOW: bind(outgoing.resolve_and_follow),
        SEND_LIKE: bind(outgoing.send_like),
        SEND_BLOCK: bind(outgoing.send_block),
        SEND_GROUP_RULES: bind(outgoing.send_group_rules),
        SEND_ACCOUNT_DELETE: bind(outgoing.send_account_delete),
        PROCESS_INBOX: process_inbox,
        FEDERATE_PETITION: bind(petition_objects.federate_petition),
        SEND_PETITION_VOTE: bind(petition_objects.send_vote),
        FEDERATE_MOBILIZATION: bind(mobilization_objects.federate_mobilization),
        RELAY_MOBILIZATION: bind(mobilization_objects.relay_mobilization),
        SEND_ALLIANCE: bind(mobilization_objects.send_alliance),
        RESOLVE_AND_OFFER: bind(mobilization_objects.resolve_and_offer),
        FEDERATE_EVENT: bind(event_objects.federate_event),
        SEND_EVENT_RESPONSE: bind(event_objects.send_event_response),
        SEND_EVENT_JOIN: bind(event_objects.send_event_join),
        FEDERATE_BOARD_ITEM: bind(board_objects.federate_item),
        SEND_BOARD_ANSWER: bind(board_objects.send_answer),
        SEND_BOARD_REPLY: bind(board_objects.send_reply),
        SEND_CONVERSATION_REQUEST: bind(conversation_objects.send_request),
        FEDERATE_RESOURCE: bind(resource_objects.federate_resource),
        FEDERATE_GOAL: bind(goal_objects.federate_goal),
        SEND_FLAG: bind(moderation_objects.send_flag),
        **mail.job_handlers(fed.db, fed.config),
        **media.job_handlers(fed.db, fed.config),
    }


def _waking(handlers: Mapping[str, Handler], worker: DeliveryWorker) -> dict[str, Handler]:
    """Wrap the handlers so that the delivery worker claims as soon as a job is done.

    A job that publishes (a post's fan-out) queues deliveries: without this they would wait
    for the delivery worker's next poll, up to half a second.
    """

    def waking(handler: Handler) -> Handler:
        async def run(job: Job) -> object:
            try:
                return await handler(job)
            finally:
                worker.wake()

        return run

    return {kind: waking(handler) for kind, handler in handlers.items()}


async def run_workers(fed: Federation, stop: asyncio.Event) -> None:
    """Run the job worker and the delivery worker until `stop` is set."""
    # One lease per process: one connection holds the lock both claim under.
    lease = WorkerLease(fed.db)
    deliveries = DeliveryWorker(fed, lease)
    try:
        await asyncio.gather(
            run_worker(fed.db, _waking(job_handlers(fed), deliveries), stop, lease=lease),
            deliveries.run(stop),
            notifications.run_schedule(
                stop,
                [
                    lambda: notifications.send_event_reminders(fed.db),
                    lambda: mail.send_digests(fed.db, fed.config),
                ],
            ),
        )
    finally:
        await lease.close()
