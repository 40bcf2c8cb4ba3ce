"""The service layer's refusals as messages next to each form field, in the page's language.

The forms validate with the same command models as the API (so the rules are the same);
pydantic's error types and the service's field problems are turned into translatable
messages here. A message we have no translation for is shown as the service wrote it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from crm_intake.domain.errors import FieldProblem
from crm_intake.entrypoints.web.labels import N_

FORM = "__form__"  # errors about the whole form, not one field

BY_TYPE = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This field is required."),
    "string_too_long": N_("This is too long."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "bool_parsing": N_("Choose yes or no."),
    "datetime_parsing": N_("Enter a date and time."),
    "datetime_from_date_parsing": N_("Enter a date and time."),
    "timezone_aware": N_("Enter a date and time."),
    "date_parsing": N_("Enter a date."),
    "date_from_datetime_parsing": N_("Enter a date."),
    "decimal_parsing": N_("Enter an amount, e.g. 1500000.50."),
    "greater_than": N_("Enter an amount greater than zero."),
    "decimal_max_digits": N_("This amount has too many digits."),
    "decimal_max_places": N_("Use at most two decimal places."),
    "string_pattern_mismatch": N_("Enter a staff user name (lower-case letters, digits, . _ -)."),
    "extra_forbidden": N_("This field is not expected here."),
    "too_long": N_("Too many entries."),
}
# Validators that raise ValueError: the message depends on which field it was.
BY_FIELD = {
    "email": N_("Enter a valid email address."),
    "phone": N_("Enter a valid phone number, e.g. +49 30 1234567."),
    "country": N_("Choose a country."),
    "currency": N_("Enter an ISO 4217 currency code such as EUR or CNY."),
    "timezone": N_("Enter a time zone such as Europe/Berlin."),
    "website": N_("Enter a web address such as example.com."),
    "credit_code": N_("Enter a valid unified social credit code (18 characters)."),
}
BLANK = N_("This field must not be blank.")
REACHABLE = N_("Give an email address or a phone number.")
# Problems the service layer reports, recognised by field and wording.
SERVICE_MESSAGES: list[tuple[str, str, str]] = [
    ("owner", "no active staff user", N_("No active staff user has this name.")),
    ("aftercare_owner", "no active staff user", N_("No active staff user has this name.")),
    ("email", "already has a contact", N_("This firm already has a contact with this email.")),
    ("occurred_at", "future", N_("This lies in the future.")),
    ("contact_ids", "not a contact", N_("Not a contact of this firm.")),
    ("to_stage", "already", N_("The firm is already at this stage.")),
    ("status", "reactivate", N_("The firm is lost or withdrawn: change its status first.")),
    ("status", "already", N_("The firm already has this status.")),
    ("reason", "reason", N_("Give a reason.")),
    ("duplicate_id", "itself", N_("A firm cannot be merged into itself.")),
    ("", "cannot be removed", N_("This cannot be removed at the firm's current stage.")),
]
# What a stage move lacks, by the requirement's field (domain.stages.REQUIREMENTS).
REQUIREMENTS = {
    "name": N_("A name is required."),
    "country": N_("A country is required."),
    "source": N_("A source is required."),
    "contacts": N_("At least one contact with an email or a phone number is required."),
    "sector": N_("A sector is required."),
    "needs": N_("At least one need is required."),
    "owner": N_("An account manager is required."),
    "interactions": N_("At least one meeting or site visit must be logged."),
    "planned_investment": N_(
        "A planned investment (amount and currency) or a partnership type is required."
    ),
    "target_date": N_("A target date is required."),
    "credit_code": N_("A valid unified social credit code is required."),
    "landing_date": N_("A landing date is required."),
    "partnerships": N_("At least one partnership (partner organisation and kind) is required."),
    "aftercare_owner": N_("An aftercare owner is required."),
}


# Command fields the forms show under another name.
RENAMED = {
    "planned_investment.amount": "investment_amount",
    "planned_investment.currency": "investment_currency",
    "planned_investment": "investment_amount",
    "partnerships.partner_organisation": "partner_organisation",
    "partnerships.kind": "partner_kind",
    "partnerships.since": "partner_since",
}


@dataclass
class FormErrors:
    """Messages per field name (dotted, as in the form), already translated."""

    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        messages = self.fields.setdefault(name, [])
        if message not in messages:
            messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def of(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    @property
    def form(self) -> list[str]:
        return self.fields.get(FORM, [])


def _leaf(path: str) -> str:
    parts = [part for part in path.split(".") if not part.isdigit()]
    return parts[-1] if parts else path


def _field_name(path: str, known: set[str] | None) -> str:
    """`needs.1` -> `needs`; a field the form does not show -> the form itself."""
    name = ".".join(part for part in path.split(".") if not part.isdigit())
    name = RENAMED.get(name, name)
    if known is not None and name not in known:
        return FORM
    return name


def from_validation(
    error: ValidationError,
    gettext: Callable[[str], str],
    *,
    prefix: str = "",
    known: set[str] | None = None,
    english: bool = False,
) -> FormErrors:
    """pydantic's errors of a command model, each next to its field."""
    errors = FormErrors()
    for item in error.errors(include_url=False):
        path = ".".join([prefix, *map(str, item["loc"])] if prefix else map(str, item["loc"]))
        raw = item["msg"].removeprefix("Value error, ")
        if item["type"] == "value_error":
            if "email or a phone" in raw:
                email = f"{path}.email" if path else "email"
                errors.add(_field_name(email, known), gettext(REACHABLE))
                continue
            message = BY_FIELD.get(_leaf(path))
            if message is None and "blank" in raw:
                message = BLANK
            # English readers get the validator's own, more specific sentence.
            text = raw if english or message is None else gettext(message)
        else:
            message = BY_TYPE.get(item["type"])
            text = gettext(message) if message else raw
        errors.add(_field_name(path, known), text)
    return errors


def from_problems(
    problems: list[FieldProblem],
    gettext: Callable[[str], str],
    *,
    known: set[str] | None = None,
    requirements: bool = False,
) -> FormErrors:
    """The service's field problems; `requirements`: they are what a stage move lacks."""
    errors = FormErrors()
    for problem in problems:
        leaf = problem.field.split(".")[0]
        if requirements and leaf in REQUIREMENTS:
            errors.add(_field_name(problem.field, known), gettext(REQUIREMENTS[leaf]))
            continue
        text = problem.message
        for field_name, wording, message in SERVICE_MESSAGES:
            if (not field_name or leaf == field_name) and wording in problem.message:
                text = gettext(message)
                break
        errors.add(_field_name(problem.field, known), text)
    return errors
