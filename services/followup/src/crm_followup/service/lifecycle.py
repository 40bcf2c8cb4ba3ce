"""Lifecycle events (`crm.enterprise.lifecycle.v1`) applied to projections and plans."""

from __future__ import annotations

from typing import Any

from crm_followup.domain.model import CancelReason, Contact
from crm_followup.domain.planning import Occasion
from crm_followup.rules.models import CancelOn, TriggerKind
from crm_followup.service.plans import PlanKeeper
from crm_shared.contracts import CloudEvent
from crm_shared.contracts.lifecycle import (
    ContactAdded,
    ContactConsentChanged,
    ContactErased,
    ContactUpdated,
    EnterpriseCreated,
    EnterpriseMerged,
    EnterpriseStageChanged,
    EnterpriseStatusChanged,
    EnterpriseUpdated,
    InteractionLogged,
)
from crm_shared.contracts.vocabulary import Language
from crm_shared.mongo.outbox import Outbox
from crm_shared.mongo.unit_of_work import Tx

# enterprise.updated field -> projection attribute (intake may call the owner either way)
FIRM_FIELDS = {
    "name": "name",
    "country": "country",
    "owner": "owner",
    "account_manager": "owner",
    "aftercare_owner": "aftercare_owner",
    "primary_contact_id": "primary_contact_id",
}
CONTACT_FIELDS = {
    "full_name",
    "email",
    "language",
    "timezone",
    "country",
    "email_consent",
    "is_primary",
}


class LifecycleHandlers:
    def __init__(self, plans: PlanKeeper) -> None:
        self.plans = plans
        self.store = plans.store

    async def enterprise_created(self, event: CloudEvent[EnterpriseCreated], tx: Tx) -> None:
        data = event.data
        firm = await self.plans.firm_or_new(tx, data.enterprise_id)
        firm.name, firm.country, firm.owner = data.name, data.country, data.owner
        firm.stage, firm.status = data.stage, data.status
        firm.primary_contact_id = data.primary_contact_id or firm.primary_contact_id
        firm.created_at = event.time
        await self.store.save_firm(tx, firm)
        # The primary contact may have been announced first: welcome it now.
        primary = await self.plans.primary_contacts(tx, firm)
        await self.plans.welcome(tx, firm, primary, str(event.id))
        await self.plans.arm_quiet_rules(tx, firm, str(event.id), restart=False)

    async def enterprise_updated(self, event: CloudEvent[EnterpriseUpdated], tx: Tx) -> None:
        firm = await self.plans.firm_or_new(tx, event.data.enterprise_id)
        for name, change in event.data.changes.items():
            if name in FIRM_FIELDS:
                setattr(firm, FIRM_FIELDS[name], change.new)
        await self.store.save_firm(tx, firm)

    async def stage_changed(self, event: CloudEvent[EnterpriseStageChanged], tx: Tx) -> None:
        data = event.data
        firm = await self.plans.firm_or_new(tx, data.enterprise_id)
        await self.plans.stage_changed(
            tx, firm, data.from_stage, data.to_stage, str(event.id), at=event.time
        )

    async def status_changed(self, event: CloudEvent[EnterpriseStatusChanged], tx: Tx) -> None:
        firm = await self.plans.firm_or_new(tx, event.data.enterprise_id)
        await self.plans.status_changed(tx, firm, event.data.to_status, str(event.id))

    async def merged(self, event: CloudEvent[EnterpriseMerged], tx: Tx) -> None:
        data = event.data
        await self.plans.merged(tx, data.survivor_id, data.merged_id, str(event.id))

    async def contact_added(self, event: CloudEvent[ContactAdded], tx: Tx) -> None:
        data = event.data
        previous = await self.store.contact(tx, data.contact_id)
        contact = Contact(
            id=data.contact_id,
            enterprise_id=data.enterprise_id,
            full_name=data.full_name,
            email=data.email,
            language=data.language,
            timezone=data.timezone,
            country=data.country,
            email_consent=data.email_consent,
            is_primary=data.is_primary,
            recent_sends=previous.recent_sends if previous else [],
        )
        await self.store.save_contact(tx, contact)
        firm = await self.store.firm(tx, data.enterprise_id)
        if firm is None:
            return  # enterprise.created will welcome it
        if data.is_primary and firm.primary_contact_id != contact.id:
            firm.primary_contact_id = contact.id
            await self.store.save_firm(tx, firm)
        if contact.id == firm.primary_contact_id:
            await self.plans.welcome(tx, firm, [contact], str(event.id))
            await self.plans.arm_quiet_rules(tx, firm, str(event.id), restart=False)

    async def contact_updated(self, event: CloudEvent[ContactUpdated], tx: Tx) -> None:
        data = event.data
        contact = await self.store.contact(tx, data.contact_id)
        if contact is None:
            return
        for name, change in data.changes.items():
            if name in CONTACT_FIELDS:
                setattr(contact, name, _contact_value(name, change.new))
        await self.store.save_contact(tx, contact)
        if not contact.email_consent:
            await self.plans.cancel_contact_emails(tx, contact.id, CancelReason.OPTED_OUT)

    async def consent_changed(self, event: CloudEvent[ContactConsentChanged], tx: Tx) -> None:
        data = event.data
        contact = await self.store.contact(tx, data.contact_id)
        if contact is not None:
            contact.email_consent = data.email_consent
            await self.store.save_contact(tx, contact)
        if not data.email_consent:
            await self.plans.cancel_contact_emails(tx, data.contact_id, CancelReason.OPTED_OUT)

    async def contact_erased(self, event: CloudEvent[ContactErased], tx: Tx) -> None:
        """Delete what follow-up holds on the contact: its projection and follow-up details."""
        contact_id = event.data.contact_id
        await self.plans.cancel_contact_emails(
            tx, contact_id, CancelReason.CONTACT_ERASED, scrub=True
        )
        for doc in await self.store.of_contact(tx, contact_id):
            if doc.get("anchor"):
                await self.store.set_fields(tx, doc["_id"], {}, unset=["anchor"])
        await self.store.delete_contact(tx, contact_id)
        # The email requests already sent keep the address in the outbox: scrub them too.
        await Outbox(tx.db).erase_contact(tx.session, event.subject, contact_id)

    async def interaction_logged(self, event: CloudEvent[InteractionLogged], tx: Tx) -> None:
        data = event.data
        firm = await self.plans.firm_or_new(tx, data.enterprise_id)
        if firm.last_interaction_at is None or data.occurred_at > firm.last_interaction_at:
            firm.last_interaction_at = data.occurred_at
        await self.store.save_firm(tx, firm)
        await self.plans.cancel_on(
            tx, firm.id, CancelOn.INTERACTION_LOGGED, CancelReason.SUPERSEDED_BY_INTERACTION
        )
        await self.plans.arm_quiet_rules(tx, firm, str(event.id), restart=True)
        named = await self.store.contacts_by_id(tx, data.contact_ids)
        contacts = list(named.values()) or await self.plans.primary_contacts(tx, firm)
        occasion = Occasion(
            TriggerKind.INTERACTION_LOGGED,
            data.occurred_at,
            data.interaction_id,
            interaction_kind=data.kind,
            contact_ids=tuple(data.contact_ids),
        )
        await self.plans.schedule(tx, occasion, firm, contacts)
        if data.next_step_due is not None:
            reminder = Occasion(
                TriggerKind.NEXT_STEP_DUE,
                data.occurred_at,
                data.interaction_id,
                interaction_kind=data.kind,
                next_step=data.next_step,
                next_step_due=data.next_step_due,
            )
            await self.plans.schedule(tx, reminder, firm, contacts)


def _contact_value(name: str, value: Any) -> Any:
    if name == "language":
        return Language(value) if value in set(Language) else Language.EN
    if name in {"email_consent", "is_primary"}:
        return bool(value)
    return value
