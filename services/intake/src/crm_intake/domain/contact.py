"""Contacts (people at a firm: personal data) and the interactions staff log with them."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from crm_intake.domain import validation
from crm_intake.domain.types import (
    CountryCode,
    EmailAddress,
    LongText,
    Name,
    ShortText,
    TimeZoneName,
    UtcDatetime,
)
from crm_shared.contracts.vocabulary import InteractionKind, Language

ERASED = "[erased]"


class ContactFields(BaseModel):
    """A contact's editable fields, each validated; the phone is stored in E.164."""

    model_config = ConfigDict(extra="forbid")

    full_name: Name
    email: EmailAddress | None = None
    # Declared before `phone`: a number without + is read in this country.
    country: CountryCode | None = Field(None, description="ISO alpha-2; for public holidays")
    phone: str | None = Field(None, max_length=40, description="E.164, e.g. +493012345678")
    language: Language = Language.EN
    timezone: TimeZoneName = "Asia/Shanghai"
    email_consent: bool = False
    job_title: ShortText | None = None

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        return validation.phone_number(value, info.data.get("country"))


class ContactDetails(ContactFields):
    """A new or edited contact: reachable by email or phone."""

    @model_validator(mode="after")
    def _reachable(self) -> "ContactDetails":
        if not self.email and not self.phone:
            raise ValueError("a contact needs an email or a phone number")
        return self


CONTACT_FIELDS: tuple[str, ...] = tuple(ContactFields.model_fields)
PERSONAL_FIELDS: tuple[str, ...] = ("full_name", "email", "phone", "job_title")


class Contact(ContactFields):
    model_config = ConfigDict(extra="ignore")

    id: str
    enterprise_id: str
    is_primary: bool = False
    version: int = 1
    created_at: UtcDatetime
    updated_at: UtcDatetime
    erased_at: UtcDatetime | None = None

    @property
    def reachable(self) -> bool:
        return self.erased_at is None and bool(self.email or self.phone)

    def personal_values(self) -> list[str]:
        """The strings that identify this person, to scrub wherever they were copied."""
        values = [getattr(self, name) for name in PERSONAL_FIELDS]
        return [v for v in values if isinstance(v, str) and v and v != ERASED]


class InteractionDetails(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: InteractionKind
    occurred_at: UtcDatetime
    summary: LongText | None = None
    contact_ids: list[str] = Field(default_factory=list, max_length=100)
    next_step: ShortText | None = None
    next_step_due: date | None = None


class Interaction(InteractionDetails):
    model_config = ConfigDict(extra="ignore")

    id: str
    enterprise_id: str
    created_at: UtcDatetime
    created_by: str
