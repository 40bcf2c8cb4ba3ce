"""Inputs of the use cases, validated field by field (HTTP bodies, forms and CSV rows alike)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crm_intake.domain.contact import ContactDetails, InteractionDetails
from crm_intake.domain.enterprise import EnterpriseProfile
from crm_intake.domain.errors import FieldProblem, InvalidInput
from crm_intake.domain.types import LongText
from crm_shared.contracts.vocabulary import Stage, Status


class NewEnterprise(EnterpriseProfile):
    """A first contact: the firm and the person the desk spoke to."""

    primary_contact: ContactDetails


class NewContact(ContactDetails):
    """Another person at the firm."""

    is_primary: bool = Field(False, description="Make this the firm's primary contact")


class NewInteraction(InteractionDetails):
    """A call, meeting, visit… with the firm."""


class StageMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_stage: Stage
    reason: LongText | None = Field(None, description="Required for a backward move")


class StatusMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
    reason: LongText | None = Field(None, description="Required for `lost`")


class Merge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duplicate_id: str = Field(min_length=1, description="This firm is merged into the survivor")


class Erase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: LongText | None = Field(None, description="e.g. the data subject's request reference")


def problems_from(error: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """Pydantic's errors as field problems (`primary_contact.email`, `needs.1`)."""
    problems = []
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"]]
        path = ".".join([prefix, *location] if prefix else location) or prefix or "body"
        message = item["msg"].removeprefix("Value error, ")
        problems.append(FieldProblem(path, message))
    return problems


def validated(model: type[BaseModel], data: Any, prefix: str = "") -> Any:
    """`model.model_validate(data)`, or InvalidInput naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(problems_from(error, prefix)) from None
