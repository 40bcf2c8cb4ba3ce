"""Every change to a follow-up, written with the event that tells the world about it.

Each function works inside the caller's transaction (`tx`): the state change and
its `crm.followup.v1` event commit together through the outbox, or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crm_followup.adapters.documents import followup_from
from crm_followup.adapters.store import OPEN, FollowupStore
from crm_followup.domain.model import Followup, FollowupStatus
from crm_shared.contracts.followup import FollowupCancelled, FollowupCompleted, FollowupScheduled
from crm_shared.mongo.unit_of_work import Tx


def scheduled_event(followup: Followup, reason: str | None = None) -> FollowupScheduled:
    return FollowupScheduled(
        followup_id=followup.id,
        enterprise_id=followup.enterprise_id,
        rule=followup.rule,
        template=followup.template,
        category=followup.category,
        due_at=followup.due_at,
        contact_id=followup.contact_id,
        audience=followup.audience,
        reason=reason,
    )


class Journal:
    def __init__(self, store: FollowupStore) -> None:
        self.store = store

    async def schedule(self, tx: Tx, planned: Sequence[Followup]) -> list[Followup]:
        """Store the follow-ups not stored before (ids are deterministic) and announce them."""
        existing = await self.store.existing_ids(tx, [f.id for f in planned])
        fresh = list({f.id: f for f in planned if f.id not in existing}.values())
        await self.store.insert(tx, fresh)
        for followup in fresh:
            tx.emit(scheduled_event(followup), subject=followup.enterprise_id)
        return fresh

    async def cancel(
        self,
        tx: Tx,
        doc: dict[str, Any],
        reason: str,
        *,
        actor: str | None = None,
        scrub: bool = False,
    ) -> bool:
        """Cancel an open follow-up; `scrub` also drops the personal data it holds."""
        changes: dict[str, Any] = {
            "status": FollowupStatus.CANCELLED.value,
            "cancel_reason": str(reason),
            "cancelled_at": tx.now,
        }
        unset = ["claim", "lease_until", *(["anchor"] if scrub else [])]
        if not await self.store.transition(
            tx, doc["_id"], expected=OPEN, changes=changes, unset=unset
        ):
            return False
        tx.emit(
            FollowupCancelled(
                followup_id=doc["_id"],
                enterprise_id=doc["enterprise_id"],
                reason=str(reason),
                rule=doc.get("rule"),
                contact_id=doc.get("contact_id"),
                actor=actor,
            ),
            subject=doc["enterprise_id"],
        )
        return True

    async def cancel_all(
        self, tx: Tx, docs: Sequence[dict[str, Any]], reason: str, *, scrub: bool = False
    ) -> int:
        cancelled = 0
        for doc in docs:
            cancelled += await self.cancel(tx, doc, reason, scrub=scrub)
        return cancelled

    async def reschedule(
        self, tx: Tx, doc: dict[str, Any], changes: dict[str, Any], reason: str
    ) -> None:
        """A follow-up that keeps its id but moves (in time, or to a merge survivor)."""
        await self.store.set_fields(tx, doc["_id"], changes, unset=["claim", "lease_until"])
        moved = followup_from({**doc, **changes})
        tx.emit(scheduled_event(moved, reason), subject=moved.enterprise_id)

    async def settle(
        self, tx: Tx, followup_id: str, *, sent: bool, notification_id: str, reason: str = ""
    ) -> bool:
        """Record what the notification service reports about a dispatched follow-up."""
        doc = await self.store.get(tx, followup_id)
        if doc is None:
            return False
        status = FollowupStatus.COMPLETED if sent else FollowupStatus.FAILED
        changes: dict[str, Any] = {"status": status.value, "settled_at": tx.now}
        if not sent:
            changes["failure"] = reason
        if not await self.store.transition(
            tx, followup_id, expected=[FollowupStatus.DISPATCHED], changes=changes
        ):
            return False
        if sent:
            event: Any = FollowupCompleted(
                followup_id=followup_id,
                enterprise_id=doc["enterprise_id"],
                notification_id=notification_id,
                rule=doc.get("rule"),
                contact_id=doc.get("contact_id"),
            )
        else:
            event = FollowupCancelled(
                followup_id=followup_id,
                enterprise_id=doc["enterprise_id"],
                reason=reason,
                rule=doc.get("rule"),
                contact_id=doc.get("contact_id"),
            )
        tx.emit(event, subject=doc["enterprise_id"])
        return True
