"""Event handlers: a request becomes a queued delivery; an erasure forgets a contact;
a consent change opts a contact out (or back in).

Both run inside the consumer's transaction (with the inbox), so a redelivered event
has no second effect. Nothing here talks to SMTP: sending is the dispatcher's job.
"""

from collections.abc import Callable
from typing import Any

import structlog

from crm_notification.adapters.deliveries import DeliveryRepository, new_delivery
from crm_notification.adapters.suppressions import SuppressionRepository
from crm_notification.dispatch import outcomes
from crm_notification.domain.addresses import address_hash, is_plausible_address
from crm_notification.domain.delivery import DeliveryState, SuppressionReason, suppression_applies
from crm_notification.rendering.contexts import TemplateProblem, validated_context
from crm_shared.contracts import CloudEvent
from crm_shared.contracts.followup import NotificationRequested
from crm_shared.contracts.lifecycle import ContactConsentChanged, ContactErased
from crm_shared.contracts.topics import LIFECYCLE, NOTIFICATION_REQUESTS
from crm_shared.contracts.vocabulary import NotificationCategory
from crm_shared.mongo.unit_of_work import Tx
from crm_shared.runtime import Runtime

log = structlog.get_logger(__name__)


class NotificationHandlers:
    def __init__(
        self,
        deliveries: DeliveryRepository,
        suppressions: SuppressionRepository,
        *,
        hash_key: bytes,
        nudge: Callable[[], None],
        message_id: Callable[[str], str],
    ) -> None:
        self._deliveries = deliveries
        self._suppressions = suppressions
        self._hash_key = hash_key
        self._nudge = nudge
        self._message_id = message_id

    def register(self, runtime: Runtime) -> None:
        runtime.consumer(NOTIFICATION_REQUESTS).on(NotificationRequested)(self.on_requested)
        # Erasure and consent reach the suppression list through the lifecycle topic
        # (one consumer: one subscriber in the group, events of a firm in order).
        lifecycle = runtime.consumer(LIFECYCLE)
        lifecycle.on(ContactErased)(self.on_contact_erased)
        lifecycle.on(ContactConsentChanged)(self.on_consent_changed)

    async def on_requested(self, event: CloudEvent[NotificationRequested], tx: Tx) -> None:
        request = event.data
        if await self._deliveries.exists(tx, request.notification_id):
            log.info("notification already requested", notification=request.notification_id)
            return
        who = outcomes.Identity.of_request(request)
        recipient_hash = address_hash(request.recipient, key=self._hash_key)
        document, payload = new_delivery(
            request,
            event_id=str(event.id),
            recipient_hash=recipient_hash,
            message_id=self._message_id(request.notification_id),
            now=tx.now,
        )
        refusal = await self._refusal(request, recipient_hash, tx)
        if isinstance(refusal, SuppressionReason):
            document |= _closed(DeliveryState.SUPPRESSED, suppression_reason=refusal.value)
            tx.emit(outcomes.suppressed(who, refusal), subject=request.enterprise_id)
        elif isinstance(refusal, str):
            document |= _closed(DeliveryState.FAILED, failure=refusal)
            tx.emit(
                outcomes.failed(who, smtp_code=None, smtp_response=refusal, attempts=1),
                subject=request.enterprise_id,
            )
        # A request that ends here keeps no personal data: no payload.
        await self._deliveries.insert(tx, document, payload if refusal is None else None)
        if refusal is None:
            self._nudge()

    async def _refusal(
        self, request: NotificationRequested, recipient_hash: str, tx: Tx
    ) -> SuppressionReason | str | None:
        """Why this request must not be queued: a suppression, or a reason it can never
        be sent (it then fails at once rather than after retries)."""
        if request.contact_id:
            if await self._suppressions.contact_erased(tx, request.contact_id):
                return SuppressionReason.ERASED
            # Withdrawn consent is looked up only where it applies (not transactional email).
            no_consent = SuppressionReason.NO_CONSENT
            applies = suppression_applies(no_consent, request.category)
            if applies and await self._suppressions.contact_opted_out(tx, request.contact_id):
                return no_consent
        reason = await self._suppressions.reason(tx, recipient_hash)
        if reason is not None and suppression_applies(reason, request.category):
            return reason
        if not is_plausible_address(request.recipient):
            return "invalid recipient address"
        try:
            validated_context(request.template, request.context, request.recipient_name)
        except TemplateProblem as problem:
            return str(problem)
        return None

    async def on_contact_erased(self, event: CloudEvent[ContactErased], tx: Tx) -> None:
        """Forget the contact: clear every stored copy of their data, keep the address
        hashes on the suppression list, and stop what was still queued for them."""
        contact_id = event.data.contact_id
        await self._suppressions.mark_erased(tx, contact_id, now=tx.now)
        deliveries = await self._deliveries.of_contact(tx, contact_id)
        for recipient_hash in {d["recipient_hash"] for d in deliveries}:
            await self._suppressions.add(tx, recipient_hash, SuppressionReason.ERASED, now=tx.now)
        await self._deliveries.forget(tx, [d["_id"] for d in deliveries])
        for doc in deliveries:
            await self._suppress_queued(tx, doc, contact_id, SuppressionReason.ERASED)
        log.info("contact erased", deliveries=len(deliveries))

    async def on_consent_changed(self, event: CloudEvent[ContactConsentChanged], tx: Tx) -> None:
        """Withdrawn consent: remember it by contact id and stop what is still queued
        (except transactional email). Renewed consent: forget the opt-out."""
        change = event.data
        contact_id = change.contact_id
        if change.email_consent:
            cleared = await self._suppressions.clear_opted_out(tx, contact_id)
            # Renewed consent recorded by staff is the newer decision: it also lifts the
            # contact's own earlier unsubscribe (intake turned that into lost consent, and
            # staff have since recorded consent again). Bounces and erasures stay.
            lifted = await self._suppressions.lift_unsubscribed(tx, contact_id)
            log.info("contact consented to email", cleared=cleared, unsubscribes_lifted=lifted)
            return
        reason = SuppressionReason.NO_CONSENT
        await self._suppressions.mark_opted_out(tx, contact_id, now=tx.now, reason=change.reason)
        stopped = 0
        for doc in await self._deliveries.of_contact(tx, contact_id):
            if suppression_applies(reason, NotificationCategory(doc["category"])):
                stopped += await self._suppress_queued(tx, doc, contact_id, reason)
        log.info("contact withdrew email consent", stopped=stopped)

    async def _suppress_queued(
        self, tx: Tx, doc: dict[str, Any], contact_id: str, reason: SuppressionReason
    ) -> bool:
        """Stop a delivery that is still `queued` and say so (one the dispatcher holds in
        an SMTP transaction is then not claimed, and its final "." is never sent)."""
        if doc["state"] != DeliveryState.QUEUED.value:
            return False
        moved = await self._deliveries.suppress_queued(tx, doc["_id"], reason.value)
        if moved:
            who = outcomes.Identity(
                notification_id=doc["_id"],
                enterprise_id=doc["enterprise_id"],
                contact_id=contact_id,
                template=doc["template"],
                followup_id=doc.get("followup_id"),
            )
            tx.emit(outcomes.suppressed(who, reason), subject=doc["enterprise_id"])
        return moved


def _closed(state: DeliveryState, **details: Any) -> dict[str, Any]:
    return {"state": state.value, "next_attempt_at": None, **details}
