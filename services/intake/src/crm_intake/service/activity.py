"""What intake learns from the other services' events (run inside the consumer's transaction)."""

from typing import Any

from crm_intake.service.contacts import withdraw_consent
from crm_intake.service.context import Actor, IntakeContext
from crm_shared.auth.tokens import Role
from crm_shared.contracts import CloudEvent
from crm_shared.contracts.followup import FollowupCancelled, FollowupCompleted, FollowupScheduled
from crm_shared.contracts.notification import (
    NotificationFailed,
    NotificationSent,
    NotificationSuppressed,
    NotificationUnsubscribed,
)
from crm_shared.mongo.unit_of_work import Tx

UNSUBSCRIBED_ACTOR = Actor("notification:unsubscribe", Role.OFFICER)


def _title(data: Any) -> str:
    match data:
        case FollowupScheduled():
            return f"follow-up {data.template} scheduled for {data.due_at.isoformat()}"
        case FollowupCancelled():
            return f"follow-up cancelled: {data.reason}"
        case FollowupCompleted():
            return "follow-up done"
        case NotificationSent():
            return f"email {data.template} sent"
        case NotificationFailed():
            return f"email {data.template} failed: {data.smtp_response}"
        case NotificationSuppressed():
            return f"email {data.template} not sent ({data.reason})"
        case NotificationUnsubscribed():
            return "contact unsubscribed from emails"
    return data.event_name


async def record_activity(ctx: IntakeContext, event: CloudEvent[Any], tx: Tx) -> bool:
    """Keep the event for the timeline, once per event id (idempotent by design)."""
    data = event.data
    enterprise_id = data.enterprise_id
    firm = await ctx.enterprises.get(enterprise_id, tx.session)
    if firm is not None and firm.merged_into:
        enterprise_id = firm.merged_into  # learned after a merge: it belongs to the survivor
    recorded = await ctx.activity.record(
        {
            "_id": str(event.id),
            "enterprise_id": enterprise_id,
            "contact_id": getattr(data, "contact_id", None),
            "kind": data.event_name,
            "title": _title(data),
            "source": event.source,
            "at": event.time,
            "data": data.model_dump(mode="json", exclude={"enterprise_id"}),
        },
        tx.session,
    )
    if recorded and isinstance(data, NotificationUnsubscribed) and data.contact_id:
        await withdraw_consent(
            ctx, tx, data.contact_id, reason="unsubscribed from emails", actor=UNSUBSCRIBED_ACTOR
        )
    return recorded
