"""Every email template, with the context it is rendered with (its documented contract).

A `notification.requested` event names a template and carries a context dict; the
dict is validated against the template's model here before anything is queued, so
a request that can never render fails at once (notification.failed) instead of
after retries. Unknown keys are ignored (follow-up sends a few for its own use).
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from crm_shared.contracts.vocabulary import InteractionKind, Stage, Status

_DAYS = AliasChoices("days_since_last_interaction", "days_without_interaction")


class BaseContext(BaseModel):
    """Keys every template may use."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    enterprise_name: str = Field(min_length=1, description="The firm's name")
    recipient_name: str | None = Field(
        None, description="Display name of the addressee (default: the request's recipient_name)"
    )
    account_manager_name: str | None = Field(
        None, description="Display name of the firm's account manager, to sign with"
    )


class WelcomeContext(BaseContext):
    pass


class ThankYouContext(BaseContext):
    interaction_kind: InteractionKind = Field(description="What took place")
    interaction_date: date = Field(description="When (YYYY-MM-DD, recipient's time zone)")
    next_step: str | None = Field(None, description="The agreed next step, if any")


class CheckinContext(BaseContext):
    days_since_last_interaction: int | None = Field(
        None, ge=0, validation_alias=_DAYS, description="Whole days since the last interaction"
    )


class LandedContext(BaseContext):
    landing_date: date | None = Field(None, description="Date the entity was established")


class AftercareIntroductionContext(BaseContext):
    aftercare_owner_name: str | None = Field(
        None, description="Display name of the aftercare contact person"
    )


class AftercareCheckinContext(BaseContext):
    occurrence: int | None = Field(None, ge=1, description="1 for the first check-in, 2 for …")
    aftercare_owner_name: str | None = Field(
        None, description="Display name of the aftercare contact person"
    )


class NoInteractionReminderContext(BaseContext):
    days_since_last_interaction: int = Field(
        ge=0, validation_alias=_DAYS, description="Whole days since the last interaction"
    )
    stage: Stage | None = Field(None, description="The firm's stage")
    status: Status | None = Field(None, description="The firm's status")


class NextStepReminderContext(BaseContext):
    next_step: str = Field(min_length=1, description="The next step as logged")
    next_step_due: date | None = Field(None, description="Its due date (YYYY-MM-DD)")
    interaction_kind: InteractionKind | None = Field(
        None, description="Kind of the interaction that set it"
    )
    interaction_date: date | None = Field(None, description="Date of that interaction")


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    purpose: str
    context: type[BaseContext]
    example: dict[str, Any] = field(default_factory=dict)

    def validate(self, context: dict[str, Any], recipient_name: str | None) -> BaseContext:
        values = dict(context)
        if recipient_name and not values.get("recipient_name"):
            values["recipient_name"] = recipient_name
        return self.context.model_validate(values)


_FIRM = {"enterprise_name": "Rheinmetall Präzision GmbH", "recipient_name": "Dr. Anna Weber"}
_MANAGER = {"account_manager_name": "Li Wei"}

TEMPLATES: dict[str, TemplateSpec] = {
    spec.name: spec
    for spec in (
        TemplateSpec("welcome", "Welcome a new firm's contact", WelcomeContext, _FIRM | _MANAGER),
        TemplateSpec(
            "thank_you",
            "Thank a contact after a meeting, visit, forum, training or event",
            ThankYouContext,
            _FIRM
            | _MANAGER
            | {
                "interaction_kind": "meeting",
                "interaction_date": "2025-03-12",
                "next_step": "Visit two office buildings in Wujiaochang",
            },
        ),
        TemplateSpec(
            "checkin",
            "Check in with a firm nobody has talked to for a while",
            CheckinContext,
            _FIRM | _MANAGER | {"days_since_last_interaction": 45},
        ),
        TemplateSpec(
            "landed_congratulations",
            "Congratulate a firm that established its entity in Yangpu",
            LandedContext,
            _FIRM | _MANAGER | {"landing_date": "2025-06-30"},
        ),
        TemplateSpec(
            "aftercare_introduction",
            "Introduce the aftercare services after landing",
            AftercareIntroductionContext,
            _FIRM | _MANAGER | {"aftercare_owner_name": "Zhang Min"},
        ),
        TemplateSpec(
            "aftercare_checkin",
            "Periodic aftercare check-in with an established partner",
            AftercareCheckinContext,
            _FIRM | _MANAGER | {"occurrence": 2, "aftercare_owner_name": "Zhang Min"},
        ),
        TemplateSpec(
            "staff_no_interaction_reminder",
            "Remind the account manager of a firm without interaction",
            NoInteractionReminderContext,
            {
                "enterprise_name": "Rheinmetall Präzision GmbH",
                "recipient_name": "Li Wei",
                "days_since_last_interaction": 60,
                "stage": "qualified",
                "status": "active",
            },
        ),
        TemplateSpec(
            "staff_next_step_reminder",
            "Remind the account manager of an interaction's next step on its due date",
            NextStepReminderContext,
            {
                "enterprise_name": "Rheinmetall Präzision GmbH",
                "recipient_name": "Li Wei",
                "next_step": "Send the draft lease for the Wujiaochang office",
                "next_step_due": "2025-04-01",
                "interaction_kind": "site_visit",
                "interaction_date": "2025-03-20",
            },
        ),
    )
}

# Names used in the first drafts of the follow-up rules; requests using them still render.
ALIASES: dict[str, str] = {
    "thank_you_meeting": "thank_you",
    "next_step_reminder": "staff_next_step_reminder",
}


class TemplateProblem(ValueError):
    """A request that can never be rendered (unknown template, unusable context)."""


def template_spec(name: str) -> TemplateSpec:
    spec = TEMPLATES.get(ALIASES.get(name, name))
    if spec is None:
        raise TemplateProblem(f"unknown template {name!r}; known: {', '.join(TEMPLATES)}")
    return spec


def validated_context(
    name: str, context: dict[str, Any], recipient_name: str | None = None
) -> BaseContext:
    spec = template_spec(name)
    try:
        return spec.validate(context, recipient_name)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'context'}: {e['msg']}"
            for e in error.errors(include_url=False)
        )
        raise TemplateProblem(f"context of {spec.name!r} is not usable: {details}") from None
