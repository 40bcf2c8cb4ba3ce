"""Events on `crm.enterprise.lifecycle.v1`, produced by intake."""

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm_shared.contracts.base import EventData
from crm_shared.contracts.envelope import UtcDatetime
from crm_shared.contracts.topics import LIFECYCLE
from crm_shared.contracts.vocabulary import InteractionKind, Language, Source, Stage, Status


class FieldChange(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    old: Any = None
    new: Any = None


class _LifecycleEvent(EventData):
    topic = LIFECYCLE

    enterprise_id: str = Field(min_length=1)
    actor: str | None = Field(None, description="Staff user or integration that made the change.")


class EnterpriseCreated(_LifecycleEvent):
    event_name = "enterprise.created"

    name: str = Field(min_length=1)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    source: Source
    stage: Stage = Stage.FIRST_CONTACT
    status: Status = Status.ACTIVE
    sector: str | None = None
    website: str | None = None
    owner: str | None = Field(None, description="Account manager (staff user id).")
    primary_contact_id: str | None = None


class EnterpriseUpdated(_LifecycleEvent):
    event_name = "enterprise.updated"

    changes: dict[str, FieldChange] = Field(description="Changed fields with old and new values.")


class EnterpriseStageChanged(_LifecycleEvent):
    event_name = "enterprise.stage_changed"

    from_stage: Stage
    to_stage: Stage
    reason: str | None = None


class EnterpriseStatusChanged(_LifecycleEvent):
    event_name = "enterprise.status_changed"

    from_status: Status
    to_status: Status
    reason: str | None = None


class EnterpriseMerged(_LifecycleEvent):
    """`enterprise_id` is the survivor; the key of the event too."""

    event_name = "enterprise.merged"

    survivor_id: str
    merged_id: str


class ContactAdded(_LifecycleEvent):
    event_name = "contact.added"

    contact_id: str
    full_name: str
    email: str | None = None
    phone: str | None = None
    language: Language = Language.EN
    timezone: str = Field("Asia/Shanghai", description="IANA time zone name")
    country: str | None = Field(None, description="ISO 3166-1 alpha-2, for public holidays")
    email_consent: bool = False
    is_primary: bool = False


class ContactUpdated(_LifecycleEvent):
    event_name = "contact.updated"

    contact_id: str
    changes: dict[str, FieldChange]


class ContactConsentChanged(_LifecycleEvent):
    event_name = "contact.consent_changed"

    contact_id: str
    email_consent: bool
    reason: str | None = None


class ContactErased(_LifecycleEvent):
    """Every consumer must delete what it holds on this contact."""

    event_name = "contact.erased"

    contact_id: str


class InteractionLogged(_LifecycleEvent):
    event_name = "interaction.logged"

    interaction_id: str
    kind: InteractionKind
    occurred_at: UtcDatetime
    summary: str | None = None
    contact_ids: list[str] = Field(default_factory=list)
    next_step: str | None = None
    next_step_due: date | None = None


LIFECYCLE_EVENTS: tuple[type[EventData], ...] = (
    EnterpriseCreated,
    EnterpriseUpdated,
    EnterpriseStageChanged,
    EnterpriseStatusChanged,
    EnterpriseMerged,
    ContactAdded,
    ContactUpdated,
    ContactConsentChanged,
    ContactErased,
    InteractionLogged,
)
