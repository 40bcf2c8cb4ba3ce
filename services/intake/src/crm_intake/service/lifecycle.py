"""Interactions, stage moves and status changes; the dormancy sweep."""

from datetime import timedelta

import structlog

from crm_intake.domain.contact import Interaction
from crm_intake.domain.errors import FieldProblem, IntakeError, InvalidInput
from crm_intake.domain.stages import dormant_cutoff, plan_stage_change, plan_status_change
from crm_intake.service import common
from crm_intake.service.commands import NewInteraction, StageMove, StatusMove
from crm_intake.service.context import SYSTEM, Actor, IntakeContext, new_id
from crm_intake.service.enterprises import EnterpriseView, get_enterprise
from crm_shared.contracts.lifecycle import (
    EnterpriseStageChanged,
    EnterpriseStatusChanged,
    InteractionLogged,
)
from crm_shared.contracts.vocabulary import Status
from crm_shared.mongo.unit_of_work import Tx

log = structlog.get_logger(__name__)
# An interaction may be logged a little ahead (time zones, clock skew), not days ahead.
MAX_FUTURE = timedelta(days=1)


async def log_interaction(
    ctx: IntakeContext,
    enterprise_id: str,
    command: NewInteraction,
    actor: Actor,
    *,
    expected_version: int | None = None,
) -> Interaction:
    """Record a call, meeting, visit… A dormant firm becomes active again."""

    async def work(tx: Tx) -> Interaction:
        before = await common.load_for_change(ctx, tx, enterprise_id, expected_version)
        problems = []
        if command.occurred_at > tx.now + MAX_FUTURE:
            problems.append(FieldProblem("occurred_at", "lies in the future"))
        own = {c.id for c in await ctx.contacts.of_enterprise(enterprise_id, tx.session)}
        problems += [
            FieldProblem(f"contact_ids.{i}", f"{cid} is not a contact of this firm")
            for i, cid in enumerate(command.contact_ids)
            if cid not in own
        ]
        if problems:
            raise InvalidInput(problems)
        interaction = Interaction(
            **command.model_dump(),
            id=new_id("int"),
            enterprise_id=enterprise_id,
            created_at=tx.now,
            created_by=actor.id,
        )
        await ctx.interactions.insert(interaction, tx.session)
        kinds = sorted({*before.interaction_kinds, interaction.kind})
        reactivate = before.status is Status.DORMANT
        await common.save_enterprise(
            ctx,
            tx,
            before,
            interaction_kinds=kinds,
            last_activity_at=max(before.last_activity_at, interaction.occurred_at),
            **({"status": Status.ACTIVE, "status_reason": None} if reactivate else {}),
        )
        await ctx.audit_change(
            tx,
            actor,
            enterprise_id=enterprise_id,
            entity="interaction",
            entity_id=interaction.id,
            action="logged",
            changes={k: (None, v) for k, v in command.model_dump(mode="json").items() if v},
        )
        tx.emit(
            InteractionLogged(
                enterprise_id=enterprise_id,
                actor=actor.id,
                interaction_id=interaction.id,
                kind=interaction.kind,
                occurred_at=interaction.occurred_at,
                summary=interaction.summary,
                contact_ids=interaction.contact_ids,
                next_step=interaction.next_step,
                next_step_due=interaction.next_step_due,
            ),
            subject=enterprise_id,
        )
        if reactivate:
            await _status_recorded(
                ctx, tx, actor, enterprise_id, Status.DORMANT, Status.ACTIVE, "interaction logged"
            )
        return interaction

    return await ctx.uow.run(work)


async def move_stage(
    ctx: IntakeContext,
    enterprise_id: str,
    command: StageMove,
    actor: Actor,
    *,
    expected_version: int | None = None,
) -> EnterpriseView:
    """Move the firm to another stage; the rules of SPEC §3 decide (see domain.stages)."""

    async def work(tx: Tx) -> None:
        before = await common.load_for_change(ctx, tx, enterprise_id, expected_version)
        facts = await common.facts_for(ctx, enterprise_id, tx.session)
        change = plan_stage_change(
            before, command.to_stage, role=actor.role, reason=command.reason, facts=facts
        )
        await common.save_enterprise(ctx, tx, before, stage=change.to_stage)
        await ctx.stage_history.add(
            {
                "_id": new_id("stg"),
                "enterprise_id": enterprise_id,
                "from_stage": change.from_stage.value,
                "to_stage": change.to_stage.value,
                "reason": change.reason,
                "actor": actor.id,
                "at": tx.now,
            },
            tx.session,
        )
        await ctx.audit_change(
            tx,
            actor,
            enterprise_id=enterprise_id,
            entity="enterprise",
            entity_id=enterprise_id,
            action="stage_changed",
            changes={"stage": (change.from_stage.value, change.to_stage.value)},
            note=change.reason,
        )
        tx.emit(
            EnterpriseStageChanged(
                enterprise_id=enterprise_id,
                actor=actor.id,
                from_stage=change.from_stage,
                to_stage=change.to_stage,
                reason=change.reason,
            ),
            subject=enterprise_id,
        )

    await ctx.uow.run(work)
    return await get_enterprise(ctx, enterprise_id)


async def change_status(
    ctx: IntakeContext,
    enterprise_id: str,
    command: StatusMove,
    actor: Actor,
    *,
    expected_version: int | None = None,
) -> EnterpriseView:
    """Put the firm on hold, mark it lost (with a reason), withdrawn, dormant or active."""

    async def work(tx: Tx) -> None:
        before = await common.load_for_change(ctx, tx, enterprise_id, expected_version)
        change = plan_status_change(before, command.status, reason=command.reason)
        await common.save_enterprise(
            ctx, tx, before, status=change.to_status, status_reason=change.reason
        )
        await _status_recorded(
            ctx, tx, actor, enterprise_id, change.from_status, change.to_status, change.reason
        )

    await ctx.uow.run(work)
    return await get_enterprise(ctx, enterprise_id)


async def _status_recorded(
    ctx: IntakeContext,
    tx: Tx,
    actor: Actor,
    enterprise_id: str,
    from_status: Status,
    to_status: Status,
    reason: str | None,
) -> None:
    await ctx.audit_change(
        tx,
        actor,
        enterprise_id=enterprise_id,
        entity="enterprise",
        entity_id=enterprise_id,
        action="status_changed",
        changes={"status": (from_status.value, to_status.value)},
        note=reason,
    )
    tx.emit(
        EnterpriseStatusChanged(
            enterprise_id=enterprise_id,
            actor=actor.id,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
        ),
        subject=enterprise_id,
    )


async def mark_dormant_firms(ctx: IntakeContext, *, after_days: int, batch: int = 200) -> int:
    """Active firms without activity for `after_days` become dormant; returns how many."""
    cutoff = dormant_cutoff(ctx.clock(), after_days)
    reason = f"no activity for {after_days} days"
    marked = 0
    for enterprise_id in await ctx.enterprises.inactive_since(cutoff, batch):

        async def work(tx: Tx, enterprise_id: str = enterprise_id) -> bool:
            before = await common.load_enterprise(ctx, enterprise_id, tx.session)
            if before.status is not Status.ACTIVE or before.last_activity_at >= cutoff:
                return False  # an interaction arrived since the candidates were read
            await common.save_enterprise(
                ctx, tx, before, status=Status.DORMANT, status_reason=reason
            )
            await _status_recorded(
                ctx, tx, SYSTEM, enterprise_id, Status.ACTIVE, Status.DORMANT, reason
            )
            return True

        try:
            marked += await ctx.uow.run(work)
        except IntakeError as error:  # merged or changed meanwhile: the next sweep sees it
            log.info("dormancy skipped", enterprise_id=enterprise_id, reason=error.detail)
    return marked
