"""The lifecycle (SPEC §3): what each stage requires, and which moves are allowed.

A forward move checks the requirements of every stage up to the target and reports all
that is missing at once; a backward move needs the manager role and a reason.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_intake.domain.enterprise import Enterprise
from crm_intake.domain.errors import FieldProblem, InvalidInput, RoleRequired, TransitionRefused
from crm_shared.auth.tokens import Role
from crm_shared.contracts.vocabulary import InteractionKind, Stage, Status

STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)
ENGAGING_KINDS = frozenset({InteractionKind.MEETING, InteractionKind.SITE_VISIT})
CLOSED_STATUSES = frozenset({Status.LOST, Status.WITHDRAWN})


@dataclass(frozen=True)
class Facts:
    """What the rules need beyond the enterprise document."""

    reachable_contacts: int


Check = Callable[[Enterprise, Facts], bool]


@dataclass(frozen=True)
class Requirement:
    field: str
    message: str
    met: Check


REQUIREMENTS: dict[Stage, tuple[Requirement, ...]] = {
    Stage.FIRST_CONTACT: (
        Requirement("name", "a name is required", lambda e, _: bool(e.name)),
        Requirement("country", "a country is required", lambda e, _: bool(e.country)),
        Requirement("source", "a source is required", lambda e, _: e.source is not None),
        Requirement(
            "contacts",
            "at least one contact with an email or a phone number is required",
            lambda _, f: f.reachable_contacts > 0,
        ),
    ),
    Stage.QUALIFIED: (
        Requirement("sector", "a sector is required", lambda e, _: bool(e.sector)),
        Requirement("needs", "at least one need is required", lambda e, _: bool(e.needs)),
        Requirement("owner", "an account manager is required", lambda e, _: bool(e.owner)),
    ),
    Stage.ENGAGED: (
        Requirement(
            "interactions",
            "at least one interaction of kind meeting or site_visit is required",
            lambda e, _: bool(ENGAGING_KINDS.intersection(e.interaction_kinds)),
        ),
    ),
    Stage.NEGOTIATING: (
        Requirement(
            "planned_investment",
            "a planned investment (amount and currency) or a partnership_type is required",
            lambda e, _: e.planned_investment is not None or bool(e.partnership_type),
        ),
        Requirement(
            "target_date", "a target date is required", lambda e, _: e.target_date is not None
        ),
    ),
    Stage.LANDED: (
        Requirement(
            "credit_code",
            "a valid unified social credit code is required",
            lambda e, _: bool(e.credit_code),
        ),
        Requirement(
            "landing_date", "a landing date is required", lambda e, _: e.landing_date is not None
        ),
    ),
    Stage.ESTABLISHED_PARTNERSHIP: (
        Requirement(
            "partnerships",
            "at least one partnership (partner organisation and kind) is required",
            lambda e, _: bool(e.partnerships),
        ),
        Requirement(
            "aftercare_owner",
            "an aftercare owner is required",
            lambda e, _: bool(e.aftercare_owner),
        ),
    ),
}


def stage_rank(stage: Stage) -> int:
    return STAGE_ORDER.index(stage)


def missing_for(stage: Stage, enterprise: Enterprise, facts: Facts) -> list[FieldProblem]:
    """Every requirement of every stage up to and including `stage` that is not met."""
    problems = []
    for passed in STAGE_ORDER[: stage_rank(stage) + 1]:
        for requirement in REQUIREMENTS[passed]:
            if not requirement.met(enterprise, facts):
                problems.append(
                    FieldProblem(requirement.field, f"{requirement.message} ({passed.value})")
                )
    return problems


@dataclass(frozen=True)
class StageChange:
    from_stage: Stage
    to_stage: Stage
    reason: str | None

    @property
    def backward(self) -> bool:
        return stage_rank(self.to_stage) < stage_rank(self.from_stage)


def plan_stage_change(
    enterprise: Enterprise, to_stage: Stage, *, role: Role, reason: str | None, facts: Facts
) -> StageChange:
    """The move, if the rules allow it; else raise naming what stands in the way."""
    reason = (reason or "").strip() or None
    change = StageChange(enterprise.stage, to_stage, reason)
    if to_stage == enterprise.stage:
        raise InvalidInput([FieldProblem("to_stage", f"the firm is already {to_stage.value}")])
    if enterprise.status in CLOSED_STATUSES:
        raise InvalidInput(
            [FieldProblem("status", f"the firm is {enterprise.status.value}; reactivate it first")]
        )
    if change.backward:
        if not role.at_least(Role.MANAGER):
            raise RoleRequired(Role.MANAGER.value, "moving a firm backward needs the manager role")
        if reason is None:
            raise InvalidInput([FieldProblem("reason", "a backward move needs a reason")])
        return change
    missing = missing_for(to_stage, enterprise, facts)
    if missing:
        raise TransitionRefused(
            missing, f"cannot move to {to_stage.value}: {len(missing)} requirement(s) missing"
        )
    return change


@dataclass(frozen=True)
class StatusChange:
    from_status: Status
    to_status: Status
    reason: str | None


def plan_status_change(
    enterprise: Enterprise, to_status: Status, *, reason: str | None
) -> StatusChange:
    reason = (reason or "").strip() or None
    if to_status == enterprise.status:
        raise InvalidInput([FieldProblem("status", f"the firm is already {to_status.value}")])
    if to_status is Status.LOST and reason is None:
        raise InvalidInput([FieldProblem("reason", "a firm marked lost needs a reason")])
    return StatusChange(enterprise.status, to_status, reason)


def dormant_cutoff(now: datetime, after_days: int) -> datetime:
    """Active firms without activity since before this become dormant."""
    return now - timedelta(days=after_days)
