"""Intake's event handlers: follow-ups and emails for the timeline; unsubscribes withdraw consent.

Each handler runs inside the consumer's transaction (with the inbox record), and is
idempotent on its own as well: the activity entry's id is the event id.
"""

from typing import Any

from crm_intake.service.activity import record_activity
from crm_intake.service.context import IntakeContext
from crm_shared.contracts import CloudEvent
from crm_shared.contracts.followup import FollowupCancelled, FollowupCompleted, FollowupScheduled
from crm_shared.contracts.notification import (
    NotificationFailed,
    NotificationSent,
    NotificationSuppressed,
    NotificationUnsubscribed,
)
from crm_shared.contracts.topics import FOLLOWUP, NOTIFICATION
from crm_shared.mongo.unit_of_work import Tx
from crm_shared.runtime import Runtime


def register_consumers(runtime: Runtime, ctx: IntakeContext) -> None:
    followups = runtime.consumer(FOLLOWUP)
    notifications = runtime.consumer(NOTIFICATION)

    @followups.on(FollowupScheduled, FollowupCancelled, FollowupCompleted)
    async def on_followup(event: CloudEvent[Any], tx: Tx) -> None:
        await record_activity(ctx, event, tx)

    @notifications.on(
        NotificationSent, NotificationFailed, NotificationSuppressed, NotificationUnsubscribed
    )
    async def on_notification(event: CloudEvent[Any], tx: Tx) -> None:
        await record_activity(ctx, event, tx)
