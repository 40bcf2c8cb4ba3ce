"""Firms: log a first contact, read, list, edit (merge patch), find likely duplicates."""

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import DuplicateKeyError

from crm_intake.adapters.enterprises import EnterpriseQuery, decode_cursor
from crm_intake.domain.contact import Contact
from crm_intake.domain.duplicates import duplicate_keys
from crm_intake.domain.enterprise import (
    EDITABLE_FIELDS,
    Enterprise,
    EnterpriseProfile,
    enterprise_from_profile,
)
from crm_intake.domain.errors import (
    Conflict,
    DuplicatesFound,
    FieldProblem,
    InvalidInput,
)
from crm_intake.domain.records import apply_merge_patch, diff
from crm_intake.domain.stages import missing_for
from crm_intake.service import common, duplicates
from crm_intake.service.commands import NewEnterprise, validated
from crm_intake.service.context import Actor, IntakeContext, audit_entry, new_id, stored_time
from crm_intake.service.duplicates import find_duplicates as find_duplicates  # re-exported
from crm_shared.contracts.lifecycle import (
    ContactAdded,
    EnterpriseCreated,
    EnterpriseUpdated,
    FieldChange,
)
from crm_shared.mongo.unit_of_work import Tx

# Set only through their own use cases (transitions, status, merge), never by a patch.
LIFECYCLE_FIELDS = {"stage": "POST …/transitions", "status": "POST …/status"}


@dataclass
class EnterpriseView:
    """A firm with its contacts, as the API and the forms show it."""

    enterprise: Enterprise
    contacts: list[Contact] = field(default_factory=list)
    replayed: bool = False


def contact_added(contact: Contact, actor: Actor) -> ContactAdded:
    return ContactAdded(
        enterprise_id=contact.enterprise_id,
        actor=actor.id,
        contact_id=contact.id,
        full_name=contact.full_name,
        email=contact.email,
        phone=contact.phone,
        language=contact.language,
        timezone=contact.timezone,
        country=contact.country,
        email_consent=contact.email_consent,
        is_primary=contact.is_primary,
    )


def _fingerprint(command: NewEnterprise, allow_duplicate: bool) -> str:
    return hashlib.sha256(f"{command.model_dump_json()}|{allow_duplicate}".encode()).hexdigest()


async def create_enterprise(
    ctx: IntakeContext,
    command: NewEnterprise,
    actor: Actor,
    *,
    idempotency_key: str | None = None,
    allow_duplicate: bool = False,
) -> EnterpriseView:
    """Log a first contact. The same `idempotency_key` (per actor) answers with the first result."""
    key_id = f"{actor.id}:{idempotency_key}" if idempotency_key else None
    fingerprint = _fingerprint(command, allow_duplicate)
    profile = EnterpriseProfile.model_validate(command.model_dump(exclude={"primary_contact"}))
    # Read before the transaction (keeps it short); a repeat with the same key is answered
    # from the key's record, never refused as its own duplicate.
    candidates = (
        []
        if allow_duplicate
        else await duplicates.candidates(
            ctx,
            duplicate_keys(profile.name, profile.local_name, profile.website, profile.credit_code),
            exclude=None,
        )
    )

    async def work(tx: Tx) -> EnterpriseView:
        if key_id:
            seen = await ctx.idempotency.get(key_id, tx.session)
            if seen is not None:
                if seen["fingerprint"] != fingerprint:
                    raise Conflict("this Idempotency-Key was used before with a different request")
                return EnterpriseView(
                    Enterprise.model_construct(id=seen["enterprise_id"]), replayed=True
                )
        if candidates:
            raise DuplicatesFound(candidates)
        problems = await common.staff_problems(
            ctx, {"owner": profile.owner, "aftercare_owner": profile.aftercare_owner}, tx.session
        )
        if problems:
            raise InvalidInput(problems)
        enterprise_id, contact_id = new_id("ent"), new_id("con")
        now = stored_time(tx.now)
        enterprise = enterprise_from_profile(
            profile, enterprise_id=enterprise_id, actor=actor.id, now=now
        )
        enterprise = enterprise.model_copy(update={"primary_contact_id": contact_id})
        contact = Contact(
            **command.primary_contact.model_dump(),
            id=contact_id,
            enterprise_id=enterprise_id,
            is_primary=True,
            created_at=now,
            updated_at=now,
        )
        await ctx.enterprises.insert(enterprise, tx.session)
        await ctx.contacts.insert(contact, tx.session)
        await ctx.stage_history.add(
            {
                "_id": new_id("stg"),
                "enterprise_id": enterprise_id,
                "from_stage": None,
                "to_stage": enterprise.stage.value,
                "reason": "first contact logged",
                "actor": actor.id,
                "at": tx.now,
            },
            tx.session,
        )
        # One round trip for both entries: the database, not our code, bounds this path.
        await ctx.audit.add_many(
            [
                audit_entry(
                    tx,
                    actor,
                    enterprise_id=enterprise_id,
                    entity="enterprise",
                    entity_id=enterprise_id,
                    action="created",
                    changes={k: (None, v) for k, v in _profile_json(enterprise).items() if v},
                ),
                audit_entry(
                    tx,
                    actor,
                    enterprise_id=enterprise_id,
                    entity="contact",
                    entity_id=contact_id,
                    contact_id=contact_id,
                    action="created",
                    changes={
                        k: (None, v)
                        for k, v in contact.model_dump(
                            mode="json", include=set(type(command.primary_contact).model_fields)
                        ).items()
                        if v is not None
                    },
                ),
            ],
            tx.session,
        )
        if key_id:
            await ctx.idempotency.put(
                key_id,
                fingerprint=fingerprint,
                enterprise_id=enterprise_id,
                at=tx.now,
                session=tx.session,
            )
        tx.emit(
            EnterpriseCreated(
                enterprise_id=enterprise_id,
                actor=actor.id,
                name=enterprise.name,
                country=enterprise.country,
                source=enterprise.source,
                stage=enterprise.stage,
                status=enterprise.status,
                sector=enterprise.sector,
                website=enterprise.website,
                owner=enterprise.owner,
                primary_contact_id=contact_id,
            ),
            subject=enterprise_id,
        )
        tx.emit(contact_added(contact, actor), subject=enterprise_id)
        return EnterpriseView(enterprise, [contact])

    try:
        view = await ctx.uow.run(work)
    except DuplicateKeyError:
        if not key_id:
            raise
        # The same key raced us to the commit: answer with what the winner created.
        view = await ctx.uow.run(work)
    if view.replayed:  # the firm may have changed (or been merged) since the first request
        view = await get_enterprise(ctx, view.enterprise.id, follow_merges=True)
        view.replayed = True
    return view


def _profile_json(enterprise: Enterprise) -> dict[str, Any]:
    return enterprise.model_dump(mode="json", include=set(EDITABLE_FIELDS))


async def get_enterprise(
    ctx: IntakeContext, enterprise_id: str, *, follow_merges: bool = False
) -> EnterpriseView:
    """A firm and its contacts. A merged firm raises MergedAway unless `follow_merges`."""
    enterprise = await ctx.enterprises.get(enterprise_id)
    if enterprise is not None and enterprise.is_merged and follow_merges:
        enterprise_id = await common.survivor_of(ctx, enterprise)
    enterprise = await common.load_enterprise(ctx, enterprise_id)
    return EnterpriseView(enterprise, await ctx.contacts.of_enterprise(enterprise.id))


async def list_enterprises(
    ctx: IntakeContext, query: EnterpriseQuery
) -> tuple[list[Enterprise], str | None]:
    """One page of firms matching the filters, and the cursor of the next page (or None)."""
    if query.cursor:
        try:
            decode_cursor(query.cursor)
        except ValueError as error:
            raise InvalidInput([FieldProblem("cursor", str(error))]) from None
    return await ctx.enterprises.page(query)


async def update_enterprise(
    ctx: IntakeContext,
    enterprise_id: str,
    patch: Any,
    actor: Actor,
    *,
    expected_version: int | None,
) -> EnterpriseView:
    """Apply a JSON merge patch (RFC 7396) to the firm's profile, if it is at `expected_version`."""
    patch = common.require_merge_patch(
        patch, expected_version, missing='say which version you edit (If-Match: "<version>")'
    )
    refused = [
        FieldProblem(
            name, f"{name} is changed with {LIFECYCLE_FIELDS.get(name, 'its own request')}"
        )
        for name in patch
        if name in LIFECYCLE_FIELDS or name in {"id", "version", "primary_contact_id"}
    ]
    if refused:
        raise InvalidInput(refused)

    async def work(tx: Tx) -> None:
        before = await common.load_for_change(ctx, tx, enterprise_id, expected_version)
        old = _profile_json(before)
        profile = validated(EnterpriseProfile, apply_merge_patch(old, patch))
        new = profile.model_dump(mode="json")
        changes = diff(old, new)
        if not changes:
            return
        problems = await common.staff_problems(
            ctx, {k: new[k] for k in ("owner", "aftercare_owner") if k in changes}, tx.session
        )
        after = before.model_copy(update=dict(profile))
        missing = missing_for(
            before.stage, after, await common.facts_for(ctx, enterprise_id, tx.session)
        )
        problems += [
            FieldProblem(
                p.field, f"cannot be removed while the firm is {before.stage.value}: {p.message}"
            )
            for p in missing
            if p.field in changes
        ]
        if problems:
            raise InvalidInput(problems)
        await common.save_enterprise(ctx, tx, before, **dict(profile))
        await ctx.audit_change(
            tx,
            actor,
            enterprise_id=enterprise_id,
            entity="enterprise",
            entity_id=enterprise_id,
            action="updated",
            changes=changes,
        )
        tx.emit(
            EnterpriseUpdated(
                enterprise_id=enterprise_id,
                actor=actor.id,
                changes={k: FieldChange(old=o, new=n) for k, (o, n) in changes.items()},
            ),
            subject=enterprise_id,
        )

    await ctx.uow.run(work)
    return await get_enterprise(ctx, enterprise_id)
