"""The enterprise (a foreign firm) and what it is made of: partnerships, planned investment."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from crm_intake.domain.types import (
    CountryCode,
    CreditCode,
    CurrencyCode,
    LongText,
    Name,
    ShortText,
    Username,
    UtcDatetime,
    Website,
)
from crm_shared.contracts.vocabulary import InteractionKind, Need, Source, Stage, Status


class PlannedInvestment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2)
    currency: CurrencyCode


class Partnership(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_organisation: Name
    kind: ShortText = Field(description="e.g. joint_venture, supplier, research, distribution")
    since: date | None = None


class EnterpriseProfile(BaseModel):
    """What staff edit about a firm (merge-patchable); the lifecycle state is not in here."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    local_name: Name | None = Field(None, description="Name in another script, e.g. Chinese")
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 of the firm's home country")
    source: Source
    sector: ShortText | None = None
    website: Website | None = None
    needs: list[Need] = Field(default_factory=list)
    owner: Username | None = Field(None, description="Account manager (staff user name)")
    planned_investment: PlannedInvestment | None = None
    partnership_type: ShortText | None = None
    target_date: date | None = None
    credit_code: CreditCode | None = Field(None, description="Unified social credit code")
    landing_date: date | None = None
    partnerships: list[Partnership] = Field(default_factory=list)
    aftercare_owner: Username | None = None
    notes: LongText | None = None


EDITABLE_FIELDS: tuple[str, ...] = tuple(EnterpriseProfile.model_fields)


class Enterprise(EnterpriseProfile):
    """A firm as stored: its profile plus lifecycle state and bookkeeping."""

    model_config = ConfigDict(extra="ignore")

    id: str
    stage: Stage = Stage.FIRST_CONTACT
    status: Status = Status.ACTIVE
    status_reason: str | None = None
    version: int = 1
    primary_contact_id: str | None = None
    interaction_kinds: list[InteractionKind] = Field(default_factory=list)
    last_activity_at: UtcDatetime
    created_at: UtcDatetime
    updated_at: UtcDatetime
    created_by: str
    merged_into: str | None = None
    merged_ids: list[str] = Field(default_factory=list)

    def profile(self) -> dict[str, object]:
        return self.model_dump(include=set(EDITABLE_FIELDS))

    @property
    def is_merged(self) -> bool:
        return self.merged_into is not None


def enterprise_from_profile(
    profile: EnterpriseProfile, *, enterprise_id: str, actor: str, now: datetime
) -> Enterprise:
    return Enterprise(
        **profile.model_dump(),
        id=enterprise_id,
        last_activity_at=now,
        created_at=now,
        updated_at=now,
        created_by=actor,
    )
