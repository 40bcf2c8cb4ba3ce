"""Keeps each firm's plan in step with its lifecycle: schedule, re-arm and cancel.

Every method runs inside the transaction of the event that caused it (the
consumer's inbox transaction), so one event costs exactly one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from crm_followup.adapters.store import FollowupStore
from crm_followup.domain.model import CLOSED_STATUSES, CancelReason, Contact, Firm, stage_rank
from crm_followup.domain.planning import Occasion, Planner
from crm_followup.rules.models import CancelOn, Rule, RulesFile, TriggerKind
from crm_followup.service.journal import Journal
from crm_shared.contracts.vocabulary import Stage, Status
from crm_shared.mongo.unit_of_work import Tx


class PlanKeeper:
    def __init__(self, store: FollowupStore, planner: Planner, journal: Journal) -> None:
        self.store = store
        self.planner = planner
        self.journal = journal

    @property
    def rules(self) -> RulesFile:
        return self.planner.rules

    def _rule(self, doc: dict[str, Any]) -> Rule | None:
        return self.rules.named(doc.get("rule", ""))

    # -- scheduling ----------------------------------------------------------------

    async def schedule(
        self, tx: Tx, occasion: Occasion, firm: Firm, contacts: Iterable[Contact]
    ) -> None:
        await self.journal.schedule(tx, self.planner.plan(occasion, firm, contacts))

    async def primary_contacts(self, tx: Tx, firm: Firm) -> list[Contact]:
        contacts = await self.store.contacts_of(tx, firm.id)
        return [c for c in contacts if c.is_primary or c.id == firm.primary_contact_id]

    async def welcome(self, tx: Tx, firm: Firm, contacts: list[Contact], key: str) -> None:
        at = firm.created_at or tx.now
        await self.schedule(tx, Occasion(TriggerKind.FIRM_CREATED, at, key), firm, contacts)

    async def arm_quiet_rules(self, tx: Tx, firm: Firm, key: str, *, restart: bool) -> None:
        """Schedule the no-interaction rules from the firm's last interaction (or creation).

        `restart` cancels the pending ones first (an interaction restarts the clock);
        otherwise rules that already have an open follow-up are left as they are.
        """
        quiet = self.rules.triggered_by(TriggerKind.NO_INTERACTION)
        if not quiet or firm.closed:
            return
        names = {rule.name for rule in quiet}
        open_docs = [d for d in await self.store.open_of_firm(tx, firm.id) if d["rule"] in names]
        if restart:
            await self.journal.cancel_all(tx, open_docs, CancelReason.SUPERSEDED_BY_INTERACTION)
            armed: set[str] = set()
        else:
            armed = {doc["rule"] for doc in open_docs}
        since = firm.last_interaction_at or firm.created_at or tx.now
        occasion = Occasion(TriggerKind.NO_INTERACTION, since, key)
        contacts = await self.primary_contacts(tx, firm)
        planned = [f for f in self.planner.plan(occasion, firm, contacts) if f.rule not in armed]
        await self.journal.schedule(tx, planned)

    # -- cancelling ----------------------------------------------------------------

    async def cancel_firm_plan(self, tx: Tx, firm_id: str, reason: str) -> None:
        await self.journal.cancel_all(tx, await self.store.open_of_firm(tx, firm_id), reason)

    async def cancel_on(self, tx: Tx, firm_id: str, trigger: CancelOn, reason: str) -> None:
        docs = await self.store.open_of_firm(tx, firm_id)
        await self.journal.cancel_all(
            tx, [d for d in docs if (rule := self._rule(d)) and trigger in rule.cancel_on], reason
        )

    async def cancel_where_conditions_fail(self, tx: Tx, firm: Firm) -> None:
        docs = await self.store.open_of_firm(tx, firm.id)
        failing = [
            d for d in docs if (rule := self._rule(d)) and not rule.conditions.hold_for(firm)
        ]
        await self.journal.cancel_all(tx, failing, CancelReason.CONDITIONS_NO_LONGER_HOLD)

    async def cancel_contact_emails(
        self, tx: Tx, contact_id: str, reason: str, *, scrub: bool = False
    ) -> None:
        """Cancel what is still to be sent to a contact (staff reminders are not theirs)."""
        docs = await self.store.of_contact(tx, contact_id, ["pending", "claimed"])
        await self.journal.cancel_all(tx, docs, reason, scrub=scrub)

    # -- firm state ----------------------------------------------------------------

    async def firm_or_new(self, tx: Tx, enterprise_id: str) -> Firm:
        return await self.store.firm(tx, enterprise_id) or Firm(id=enterprise_id)

    async def stage_changed(
        self, tx: Tx, firm: Firm, from_stage: Stage, to_stage: Stage, key: str, *, at: datetime
    ) -> None:
        firm.stage = to_stage
        await self.store.save_firm(tx, firm)
        await self.cancel_on(tx, firm.id, CancelOn.STAGE_CHANGED, "stage_changed")
        await self.cancel_where_conditions_fail(tx, firm)
        if firm.closed:
            return
        # Moving forward over several stages reaches each of them.
        reached = [
            s for s in Stage if stage_rank(from_stage) < stage_rank(s) <= stage_rank(to_stage)
        ]
        contacts = await self.primary_contacts(tx, firm) if reached else []
        for stage in reached:
            occasion = Occasion(
                TriggerKind.STAGE_REACHED, at, f"{firm.id}:{stage.value}", stage=stage
            )
            await self.schedule(tx, occasion, firm, contacts)
        await self.arm_quiet_rules(tx, firm, key, restart=False)

    async def status_changed(self, tx: Tx, firm: Firm, to_status: Status, key: str) -> None:
        firm.status = to_status
        await self.store.save_firm(tx, firm)
        if to_status in CLOSED_STATUSES:
            reason = (
                CancelReason.FIRM_LOST if to_status is Status.LOST else CancelReason.FIRM_WITHDRAWN
            )
            await self.cancel_firm_plan(tx, firm.id, reason)
            return
        await self.cancel_where_conditions_fail(tx, firm)
        await self.arm_quiet_rules(tx, firm, key, restart=False)

    async def merged(self, tx: Tx, survivor_id: str, merged_id: str, key: str) -> None:
        """The duplicate's contacts and plan move to the survivor; nothing is sent twice.

        Pending follow-ups keep their ids (and so their notification ids); the
        duplicate's no-interaction clock is dropped and the survivor's restarts
        from the later of the two firms' last interactions.
        """
        survivor = await self.firm_or_new(tx, survivor_id)
        duplicate = await self.store.firm(tx, merged_id)
        if duplicate is not None:
            later = _latest(survivor.last_interaction_at, duplicate.last_interaction_at)
            restart = later != survivor.last_interaction_at
            survivor.last_interaction_at = later
            duplicate.merged_into = survivor_id
            await self.store.save_firm(tx, duplicate)
        else:
            restart = False
        await self.store.save_firm(tx, survivor)
        for contact in await self.store.contacts_of(tx, merged_id):
            contact.enterprise_id = survivor_id
            contact.is_primary = contact.is_primary and survivor.primary_contact_id is None
            await self.store.save_contact(tx, contact)
        for doc in await self.store.open_of_firm(tx, merged_id):
            rule = self._rule(doc)
            if rule is None or rule.trigger.event is TriggerKind.NO_INTERACTION or survivor.closed:
                await self.journal.cancel(tx, doc, CancelReason.MERGED)
            else:
                await self.journal.reschedule(
                    tx, doc, {"enterprise_id": survivor_id}, "moved_by_merge"
                )
        await self.arm_quiet_rules(tx, survivor, key, restart=restart)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    present = [value for value in (a, b) if value is not None]
    return max(present) if present else None
