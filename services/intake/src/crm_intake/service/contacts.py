"""Contacts: add, edit (merge patch), consent, and the data subject's export and erasure."""

from typing import Any

from crm_intake.domain.contact import CONTACT_FIELDS, ERASED, Contact, ContactDetails
from crm_intake.domain.errors import (
    Conflict,
    FieldProblem,
    InvalidInput,
    NotFound,
    VersionMismatch,
)
from crm_intake.domain.records import apply_merge_patch, diff
from crm_intake.service import common
from crm_intake.service.commands import NewContact, validated
from crm_intake.service.context import Actor, IntakeContext, new_id
from crm_intake.service.enterprises import contact_added
from crm_shared.contracts.lifecycle import (
    ContactConsentChanged,
    ContactErased,
    ContactUpdated,
    FieldChange,
)
from crm_shared.mongo.unit_of_work import Tx


def _json(contact: Contact) -> dict[str, Any]:
    return contact.model_dump(mode="json", include=set(CONTACT_FIELDS))


async def add_contact(
    ctx: IntakeContext, enterprise_id: str, command: NewContact, actor: Actor
) -> Contact:
    """Another person at the firm; `is_primary` makes them the primary contact."""

    async def work(tx: Tx) -> Contact:
        enterprise = await common.load_enterprise(ctx, enterprise_id, tx.session)
        existing = await ctx.contacts.of_enterprise(enterprise_id, tx.session)
        if command.email and any(
            c.email and c.email.casefold() == command.email.casefold() for c in existing
        ):
            raise InvalidInput(
                [FieldProblem("email", "this firm already has a contact with this email")]
            )
        contact = Contact(
            **command.model_dump(exclude={"is_primary"}),
            id=new_id("con"),
            enterprise_id=enterprise_id,
            is_primary=command.is_primary or enterprise.primary_contact_id is None,
            created_at=tx.now,
            updated_at=tx.now,
        )
        if contact.is_primary:
            for other in existing:
                if other.is_primary:
                    demoted = other.model_copy(
                        update={"is_primary": False, "version": other.version + 1}
                    )
                    await ctx.contacts.replace(
                        demoted, expected_version=other.version, session=tx.session
                    )
            await common.save_enterprise(ctx, tx, enterprise, primary_contact_id=contact.id)
        await ctx.contacts.insert(contact, tx.session)
        await ctx.audit_change(
            tx,
            actor,
            enterprise_id=enterprise_id,
            entity="contact",
            entity_id=contact.id,
            contact_id=contact.id,
            action="created",
            changes={k: (None, v) for k, v in _json(contact).items() if v is not None},
        )
        tx.emit(contact_added(contact, actor), subject=enterprise_id)
        return contact

    return await ctx.uow.run(work)


async def update_contact(
    ctx: IntakeContext,
    enterprise_id: str,
    contact_id: str,
    patch: Any,
    actor: Actor,
    *,
    expected_version: int | None,
) -> Contact:
    """Apply a JSON merge patch to a contact at `expected_version` (its own version)."""
    patch = common.require_merge_patch(
        patch, expected_version, missing="say which version of the contact you edit (If-Match)"
    )

    async def work(tx: Tx) -> Contact:
        await common.load_enterprise(ctx, enterprise_id, tx.session)
        before = await _contact_of(ctx, tx, enterprise_id, contact_id)
        if before.erased_at is not None:
            raise Conflict("this contact was erased; its data can no longer be changed")
        if before.version != expected_version:
            raise VersionMismatch(expected_version, before.version)
        old = _json(before)
        details = validated(ContactDetails, apply_merge_patch(old, patch))
        new = details.model_dump(mode="json")
        changes = diff(old, new)
        if not changes:
            return before
        after = before.model_copy(
            update={**details.model_dump(), "version": before.version + 1, "updated_at": tx.now}
        )
        if not await ctx.contacts.replace(
            after, expected_version=before.version, session=tx.session
        ):
            raise VersionMismatch(expected_version, before.version + 1)
        await ctx.audit_change(
            tx,
            actor,
            enterprise_id=enterprise_id,
            entity="contact",
            entity_id=contact_id,
            contact_id=contact_id,
            action="updated",
            changes=changes,
        )
        tx.emit(
            ContactUpdated(
                enterprise_id=enterprise_id,
                actor=actor.id,
                contact_id=contact_id,
                changes={k: FieldChange(old=o, new=n) for k, (o, n) in changes.items()},
            ),
            subject=enterprise_id,
        )
        if "email_consent" in changes:
            tx.emit(
                ContactConsentChanged(
                    enterprise_id=enterprise_id,
                    actor=actor.id,
                    contact_id=contact_id,
                    email_consent=after.email_consent,
                    reason="changed by staff",
                ),
                subject=enterprise_id,
            )
        return after

    return await ctx.uow.run(work)


async def _contact_of(ctx: IntakeContext, tx: Tx, enterprise_id: str, contact_id: str) -> Contact:
    contact = await ctx.contacts.get(contact_id, tx.session)
    if contact is None or contact.enterprise_id != enterprise_id:
        raise NotFound("contact", contact_id)
    return contact


async def withdraw_consent(
    ctx: IntakeContext, tx: Tx, contact_id: str, *, reason: str, actor: Actor
) -> bool:
    """Inside the caller's transaction (a consumer's): the contact no longer wants email."""
    contact = await ctx.contacts.get(contact_id, tx.session)
    if contact is None or contact.erased_at is not None or not contact.email_consent:
        return False
    after = contact.model_copy(
        update={"email_consent": False, "version": contact.version + 1, "updated_at": tx.now}
    )
    if not await ctx.contacts.replace(after, expected_version=contact.version, session=tx.session):
        raise RuntimeError(f"contact {contact_id} changed concurrently; the event will be retried")
    await ctx.audit_change(
        tx,
        actor,
        enterprise_id=contact.enterprise_id,
        entity="contact",
        entity_id=contact_id,
        contact_id=contact_id,
        action="consent_withdrawn",
        changes={"email_consent": (True, False)},
        note=reason,
    )
    tx.emit(
        ContactConsentChanged(
            enterprise_id=contact.enterprise_id,
            actor=actor.id,
            contact_id=contact_id,
            email_consent=False,
            reason=reason,
        ),
        subject=contact.enterprise_id,
    )
    return True


async def export_contact(ctx: IntakeContext, contact_id: str) -> dict[str, Any]:
    """Everything intake holds on this person (a data subject access request)."""
    contact = await ctx.contacts.get(contact_id)
    if contact is None:
        raise NotFound("contact", contact_id)
    enterprise = await ctx.enterprises.get(contact.enterprise_id)
    interactions = await ctx.interactions.with_contact(contact_id)
    return {
        "contact": contact.model_dump(mode="json"),
        "enterprise": {"id": enterprise.id, "name": enterprise.name} if enterprise else None,
        "interactions": [i.model_dump(mode="json") for i in interactions],
        "audit": [_plain(entry) for entry in await ctx.audit.about_contact(contact_id)],
        "activity": [_plain(entry) for entry in await ctx.activity.about_contact(contact_id)],
        "exported_at": ctx.clock().isoformat(),
    }


def _plain(entry: dict[str, Any]) -> dict[str, Any]:
    data = {("id" if k == "_id" else k): v for k, v in entry.items()}
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


async def erase_contact(
    ctx: IntakeContext, contact_id: str, actor: Actor, *, reason: str | None = None
) -> Contact:
    """Replace the person's data with a tombstone wherever intake copied it; emit contact.erased.

    Kept: the contact's id (so history still adds up), interactions and audit entries,
    with the person's name, email, phone and title scrubbed out of every text.
    """

    async def work(tx: Tx) -> Contact:
        contact = await ctx.contacts.get(contact_id, tx.session)
        if contact is None:
            raise NotFound("contact", contact_id)
        if contact.erased_at is not None:
            return contact
        secrets = contact.personal_values()
        enterprise = await ctx.enterprises.get(contact.enterprise_id, tx.session)
        firm_ids = [contact.enterprise_id, *(enterprise.merged_ids if enterprise else [])]
        tombstone = contact.model_copy(
            update={
                "full_name": ERASED,
                "email": None,
                "phone": None,
                "job_title": None,
                "email_consent": False,
                "erased_at": tx.now,
                "updated_at": tx.now,
                "version": contact.version + 1,
            },
        )
        await ctx.contacts.replace(tombstone, expected_version=contact.version, session=tx.session)
        in_firms = {"enterprise_id": {"$in": firm_ids}}
        for collection in ("interactions", "audit", "activity", "stage_history"):
            await ctx.scrubber.documents(collection, in_firms, secrets, tx.session)
        await ctx.scrubber.documents("audit", {"contact_id": contact_id}, secrets, tx.session)
        await ctx.scrubber.documents(
            "enterprises", {"_id": {"$in": firm_ids}}, secrets, tx.session, bump_version=True
        )
        await ctx.scrubber.outbox(firm_ids, secrets, tx.session)
        await ctx.audit_change(
            tx,
            actor,
            enterprise_id=contact.enterprise_id,
            entity="contact",
            entity_id=contact_id,
            contact_id=contact_id,
            action="erased",
            note=reason,
        )
        tx.emit(
            ContactErased(
                enterprise_id=contact.enterprise_id, actor=actor.id, contact_id=contact_id
            ),
            subject=contact.enterprise_id,
        )
        return tombstone

    return await ctx.uow.run(work)
