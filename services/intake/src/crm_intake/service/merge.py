"""Merging a duplicate into its survivor: nothing of either firm is lost."""

from typing import Any

from crm_intake.domain.enterprise import EDITABLE_FIELDS, Enterprise
from crm_intake.domain.errors import Conflict, FieldProblem, InvalidInput, MergedAway
from crm_intake.domain.records import diff
from crm_intake.service import common
from crm_intake.service.commands import Merge
from crm_intake.service.context import Actor, IntakeContext
from crm_intake.service.enterprises import EnterpriseView, get_enterprise
from crm_shared.contracts.lifecycle import EnterpriseMerged, EnterpriseUpdated, FieldChange
from crm_shared.mongo.unit_of_work import Tx


def merged_profile(survivor: Enterprise, duplicate: Enterprise) -> dict[str, Any]:
    """The survivor's values win; what it lacks comes from the duplicate; lists are joined."""
    mine, theirs = dict(survivor), dict(duplicate)
    merged = {}
    for name in EDITABLE_FIELDS:
        own, other = mine[name], theirs[name]
        if isinstance(own, list):
            merged[name] = own + [item for item in other if item not in own]
        elif name == "notes" and own and other and other != own:
            merged[name] = f"{own}\n\n— merged from {duplicate.id} ({duplicate.name}):\n{other}"
        else:
            merged[name] = own if own not in (None, "") else other
    return merged


async def merge_enterprises(
    ctx: IntakeContext,
    survivor_id: str,
    command: Merge,
    actor: Actor,
    *,
    expected_version: int | None = None,
) -> EnterpriseView:
    """Move the duplicate's contacts, interactions and history to the survivor; the duplicate
    then points to the survivor (the API answers 301 for it). Emits `enterprise.merged`."""
    if command.duplicate_id == survivor_id:
        raise InvalidInput([FieldProblem("duplicate_id", "a firm cannot be merged into itself")])

    async def work(tx: Tx) -> None:
        survivor = await common.load_for_change(ctx, tx, survivor_id, expected_version)
        try:
            duplicate = await common.load_enterprise(ctx, command.duplicate_id, tx.session)
        except MergedAway as gone:
            raise Conflict(
                f"{command.duplicate_id} was already merged into {gone.survivor_id}"
            ) from None
        moved = {
            "contacts": await ctx.contacts.move(duplicate.id, survivor.id, tx.session),
            "interactions": await ctx.interactions.move(duplicate.id, survivor.id, tx.session),
        }
        for name, records in (
            ("stage_history", ctx.stage_history),
            ("audit", ctx.audit),
            ("activity", ctx.activity),
        ):
            moved[name] = await records.move(duplicate.id, survivor.id, tx.session)
        profile = merged_profile(survivor, duplicate)
        changes = diff(
            survivor.model_dump(mode="json", include=set(EDITABLE_FIELDS)),
            survivor.model_copy(update=profile).model_dump(
                mode="json", include=set(EDITABLE_FIELDS)
            ),
        )
        await common.save_enterprise(
            ctx,
            tx,
            survivor,
            **profile,
            interaction_kinds=sorted({*survivor.interaction_kinds, *duplicate.interaction_kinds}),
            last_activity_at=max(survivor.last_activity_at, duplicate.last_activity_at),
            merged_ids=[*survivor.merged_ids, duplicate.id, *duplicate.merged_ids],
            primary_contact_id=survivor.primary_contact_id or duplicate.primary_contact_id,
        )
        await common.save_enterprise(ctx, tx, duplicate, merged_into=survivor.id)
        note = (
            f"merged {duplicate.id} ({duplicate.name}, "
            f"{duplicate.stage.value}, {duplicate.status.value}); "
            + ", ".join(f"{count} {name}" for name, count in moved.items())
            + " moved"
        )
        for entity_id in (survivor.id, duplicate.id):
            await ctx.audit_change(
                tx,
                actor,
                enterprise_id=survivor.id,
                entity="enterprise",
                entity_id=entity_id,
                action="merged",
                changes=changes
                if entity_id == survivor.id
                else {"merged_into": (None, survivor.id)},
                note=note,
            )
        tx.emit(
            EnterpriseMerged(
                enterprise_id=survivor.id,
                actor=actor.id,
                survivor_id=survivor.id,
                merged_id=duplicate.id,
            ),
            subject=survivor.id,
        )
        if changes:
            tx.emit(
                EnterpriseUpdated(
                    enterprise_id=survivor.id,
                    actor=actor.id,
                    changes={k: FieldChange(old=o, new=n) for k, (o, n) in changes.items()},
                ),
                subject=survivor.id,
            )

    await ctx.uow.run(work)
    return await get_enterprise(ctx, survivor_id)
