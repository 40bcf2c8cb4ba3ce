"""Response bodies of the API (requests are the service's command models)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, create_model

from crm_intake.domain.contact import Contact, ContactFields
from crm_intake.domain.enterprise import Enterprise, EnterpriseProfile
from crm_intake.entrypoints.http.problems import Candidate
from crm_intake.service.enterprises import EnterpriseView


class EnterprisePublic(Enterprise):
    """A firm with its contacts. `version` is also its ETag."""

    contacts: list[Contact] = Field(default_factory=list)

    @classmethod
    def of(cls, view: EnterpriseView) -> "EnterprisePublic":
        # Built from validated models: no need to run every field's validator again.
        return cls.model_construct(**dict(view.enterprise), contacts=view.contacts)


class EnterprisesPage(BaseModel):
    items: list[Enterprise]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page")


class Duplicates(BaseModel):
    enterprise_id: str
    candidates: list[Candidate]


class TimelineEntryPublic(BaseModel):
    at: datetime
    kind: str = Field(description="stage_changed, interaction, audit, followup.*, notification.*")
    title: str
    actor: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class Timeline(BaseModel):
    enterprise_id: str
    entries: list[TimelineEntryPublic]


class ContactExport(BaseModel):
    """Everything intake holds on one person."""

    contact: dict[str, Any]
    enterprise: dict[str, Any] | None
    interactions: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    activity: list[dict[str, Any]]
    exported_at: datetime


class Me(BaseModel):
    id: str
    role: str


def _optional(model: type[BaseModel], name: str, doc: str) -> type[BaseModel]:
    fields: dict[str, Any] = {
        field: (info.annotation | None, None) for field, info in model.model_fields.items()
    }
    patch = create_model(name, __doc__=doc, **fields)
    return patch


# For the OpenAPI document only: a merge patch is validated after it is applied.
EnterprisePatch = _optional(
    EnterpriseProfile,
    "EnterprisePatch",
    "JSON merge patch (RFC 7396) of the firm's profile: `null` removes a field.",
)
ContactPatch = _optional(
    ContactFields,
    "ContactPatch",
    "JSON merge patch (RFC 7396) of a contact: `null` removes a field.",
)
