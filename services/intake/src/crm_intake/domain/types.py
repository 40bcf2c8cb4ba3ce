"""Validated field types: a model field with one of these types is checked on construction."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, StringConstraints

from crm_intake.domain import validation


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


CountryCode = Annotated[str, AfterValidator(validation.country_code)]
CurrencyCode = Annotated[str, AfterValidator(validation.currency_code)]
TimeZoneName = Annotated[str, AfterValidator(validation.time_zone)]
EmailAddress = Annotated[
    str, StringConstraints(max_length=254), AfterValidator(validation.email_address)
]
CreditCode = Annotated[str, AfterValidator(validation.unified_social_credit_code)]
Website = Annotated[str, StringConstraints(max_length=500), AfterValidator(validation.website)]
Name = Annotated[str, StringConstraints(max_length=300), AfterValidator(validation.non_blank)]
ShortText = Annotated[str, StringConstraints(max_length=300), AfterValidator(validation.non_blank)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
# Staff user names double as ids (owners, actors): short, lower-case, readable.
Username = Annotated[str, AfterValidator(validation.username)]
