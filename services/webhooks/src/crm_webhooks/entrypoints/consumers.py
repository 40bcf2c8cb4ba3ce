"""Kafka side: each relayed event becomes one delivery per matching subscription.

Only records are written here (in the consumer's transaction, with its inbox
entry); the dispatcher sends them, so a slow receiver never holds up a partition.
"""

from typing import Any

from crm_shared.contracts import CloudEvent, events_on, topic_named
from crm_shared.contracts.lifecycle import ContactErased
from crm_shared.contracts.topics import LIFECYCLE
from crm_shared.mongo.unit_of_work import Tx
from crm_shared.runtime import Runtime
from crm_webhooks.adapters.deliveries import DeliveryRepository, delivery_document
from crm_webhooks.adapters.subscriptions import SubscriptionRepository
from crm_webhooks.domain.filters import matches_any
from crm_webhooks.domain.states import DeliveryStatus, SubscriptionStatus


def register_consumers(
    runtime: Runtime,
    topics: list[str],
    subscriptions: SubscriptionRepository,
    deliveries: DeliveryRepository,
) -> None:
    async def fan_out(event: CloudEvent[Any], tx: Tx) -> None:
        receivers = [
            s
            for s in await subscriptions.receiving(tx.session)
            if matches_any(s["event_types"], event.type)
        ]
        body = event.to_json()
        await deliveries.add_many(
            tx.session,
            [
                delivery_document(
                    s["_id"],
                    event_id=str(event.id),
                    event_type=event.type,
                    subject=event.subject,
                    body=body,
                    # A disabled subscription keeps its events, sent once it is enabled again.
                    status=DeliveryStatus.PAUSED
                    if s["status"] == SubscriptionStatus.DISABLED
                    else DeliveryStatus.PENDING,
                    now=tx.now,
                )
                for s in receivers
            ],
        )

    async def fan_out_then_erase(event: CloudEvent[Any], tx: Tx) -> None:
        # Relay the erasure itself, then keep nothing on the contact in stored bodies.
        await fan_out(event, tx)
        await deliveries.erase_contact(tx.session, event.subject, event.data.contact_id)

    for name in topics:
        consumer = runtime.consumer(topic_named(name))
        consumer.on(*events_on(name))(fan_out)
        if name == LIFECYCLE.name:
            consumer.on(ContactErased)(fan_out_then_erase)
