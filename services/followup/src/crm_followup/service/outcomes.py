"""What the notification service reports (`crm.notification.v1`), applied to follow-ups."""

from __future__ import annotations

from crm_followup.domain.model import CancelReason
from crm_followup.service.plans import PlanKeeper
from crm_shared.contracts import CloudEvent
from crm_shared.contracts.notification import (
    NotificationFailed,
    NotificationSent,
    NotificationSuppressed,
    NotificationUnsubscribed,
)
from crm_shared.mongo.unit_of_work import Tx

NOTIFICATION_ID_PREFIX = "ntf:"
# Suppressions that mean the person does not want our email: stop the rest too.
CONSENT_LOST = {"unsubscribed", "no_consent"}


def followup_id_of(followup_id: str | None, notification_id: str) -> str | None:
    if followup_id:
        return followup_id
    if notification_id.startswith(NOTIFICATION_ID_PREFIX):
        return notification_id.removeprefix(NOTIFICATION_ID_PREFIX)
    return None  # not one of ours (another producer's notification)


class OutcomeHandlers:
    def __init__(self, plans: PlanKeeper) -> None:
        self.plans = plans
        self.journal = plans.journal

    async def sent(self, event: CloudEvent[NotificationSent], tx: Tx) -> None:
        data = event.data
        if followup_id := followup_id_of(data.followup_id, data.notification_id):
            await self.journal.settle(
                tx, followup_id, sent=True, notification_id=data.notification_id
            )

    async def failed(self, event: CloudEvent[NotificationFailed], tx: Tx) -> None:
        data = event.data
        if followup_id := followup_id_of(data.followup_id, data.notification_id):
            reason = f"notification_failed: {data.smtp_code or ''} {data.smtp_response}".strip()
            await self.journal.settle(
                tx,
                followup_id,
                sent=False,
                notification_id=data.notification_id,
                reason=reason[:300],
            )

    async def suppressed(self, event: CloudEvent[NotificationSuppressed], tx: Tx) -> None:
        data = event.data
        if followup_id := followup_id_of(data.followup_id, data.notification_id):
            await self.journal.settle(
                tx, followup_id, sent=False, notification_id=data.notification_id,
                reason=f"notification_suppressed: {data.reason}",
            )  # fmt: skip
        if data.contact_id and data.reason in CONSENT_LOST:
            await self._consent_lost(tx, data.contact_id, CancelReason.UNSUBSCRIBED)

    async def unsubscribed(self, event: CloudEvent[NotificationUnsubscribed], tx: Tx) -> None:
        if event.data.contact_id:
            await self._consent_lost(tx, event.data.contact_id, CancelReason.UNSUBSCRIBED)

    async def _consent_lost(self, tx: Tx, contact_id: str, reason: str) -> None:
        contact = await self.plans.store.contact(tx, contact_id)
        if contact is not None and contact.email_consent:
            contact.email_consent = False
            await self.plans.store.save_contact(tx, contact)
        await self.plans.cancel_contact_emails(tx, contact_id, reason)
