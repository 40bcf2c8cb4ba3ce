"""The rules file, validated: what triggers a follow-up, when, to whom, and what cancels it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from crm_followup.domain.durations import Delay
from crm_followup.domain.model import Firm, stage_rank
from crm_followup.domain.templates import TEMPLATES, Audience
from crm_shared.contracts.vocabulary import (
    InteractionKind,
    NotificationCategory,
    Stage,
    Status,
)


def _delay(value: Any) -> Delay:
    return value if isinstance(value, Delay) else Delay.parse(value)


DelayField = Annotated[Delay, BeforeValidator(_delay)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class TriggerKind(StrEnum):
    FIRM_CREATED = "firm_created"  # once per primary contact, when firm and contact are known
    INTERACTION_LOGGED = "interaction_logged"  # anchored at the interaction's occurred_at
    NO_INTERACTION = "no_interaction"  # `delay` after the last interaction (or creation)
    STAGE_REACHED = "stage_reached"  # the firm moves forward into `stage`
    NEXT_STEP_DUE = "next_step_due"  # an interaction's next_step_due, at business opening


class CancelOn(StrEnum):
    INTERACTION_LOGGED = "interaction_logged"
    STAGE_CHANGED = "stage_changed"


class Trigger(_Strict):
    event: TriggerKind
    kinds: list[InteractionKind] | None = Field(
        None, description="interaction_logged/next_step_due: only these interaction kinds"
    )
    stage: Stage | None = Field(None, description="stage_reached: the stage entered")

    @model_validator(mode="after")
    def _fields_fit_the_kind(self) -> Self:
        if self.event is TriggerKind.STAGE_REACHED and self.stage is None:
            raise ValueError("stage_reached needs `stage`")
        if self.event is not TriggerKind.STAGE_REACHED and self.stage is not None:
            raise ValueError(f"`stage` only applies to stage_reached, not {self.event.value}")
        interaction_based = {TriggerKind.INTERACTION_LOGGED, TriggerKind.NEXT_STEP_DUE}
        if self.kinds is not None and self.event not in interaction_based:
            raise ValueError(
                f"`kinds` only applies to interaction triggers, not {self.event.value}"
            )
        return self

    def matches_kind(self, kind: InteractionKind | str) -> bool:
        return self.kinds is None or InteractionKind(kind) in self.kinds


class Conditions(_Strict):
    """Must hold when scheduling and when sending; a follow-up whose conditions stop holding
    (after a stage or status change) is cancelled."""

    status_in: list[Status] | None = None
    stage_before: Stage | None = None
    stage_at_least: Stage | None = None

    def hold_for(self, firm: Firm) -> bool:
        if self.status_in is not None and firm.status not in self.status_in:
            return False
        if self.stage_before is not None and stage_rank(firm.stage) >= stage_rank(
            self.stage_before
        ):
            return False
        return self.stage_at_least is None or stage_rank(firm.stage) >= stage_rank(
            self.stage_at_least
        )


class Repeat(_Strict):
    every: DelayField
    max_times: int | None = Field(None, ge=1, description="Stop after this many (none: forever)")


class Rule(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    description: str = ""
    enabled: bool = True
    trigger: Trigger
    delay: DelayField
    template: str
    audience: Audience
    category: NotificationCategory
    conditions: Conditions = Conditions()
    cancel_on: list[CancelOn] = Field(default_factory=list)
    repeat: Repeat | None = None

    @field_validator("template")
    @classmethod
    def _known_template(cls, name: str) -> str:
        if name not in TEMPLATES:
            raise ValueError(f"unknown template {name!r}; known: {', '.join(sorted(TEMPLATES))}")
        return name

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        template = TEMPLATES[self.template]
        if template.audience is not self.audience:
            raise ValueError(
                f"template {self.template!r} is written for audience "
                f"{template.audience.value!r}, not {self.audience.value!r}"
            )
        staff = self.audience is Audience.ACCOUNT_MANAGER
        if staff != (self.category is NotificationCategory.STAFF_REMINDER):
            raise ValueError("category staff_reminder goes with audience account_manager only")
        if (
            self.trigger.event is TriggerKind.NO_INTERACTION
            and CancelOn.INTERACTION_LOGGED not in self.cancel_on
        ):
            raise ValueError("a no_interaction rule must list interaction_logged in cancel_on")
        return self


class RulesFile(_Strict):
    version: Literal[1]
    rules: list[Rule]

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}")
            seen.add(rule.name)
        return rules

    def active(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.enabled]

    def triggered_by(self, kind: TriggerKind) -> list[Rule]:
        return [rule for rule in self.active() if rule.trigger.event is kind]

    def named(self, name: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.name == name), None)
