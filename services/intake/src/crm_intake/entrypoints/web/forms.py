"""Form data in, command data out: what each staff form posts, as the service's input.

A form's values are kept as typed (strings) so a refused form shows them again unchanged;
empty inputs are left out, so the command model reports a required field as missing.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData

from crm_intake.domain.enterprise import Enterprise
from crm_intake.entrypoints.web.errors import FormErrors
from crm_intake.entrypoints.web.i18n import DESK_TIMEZONE

Values = dict[str, Any]

FIRM_FIELDS = ("name", "local_name", "country", "source", "sector", "website", "notes")
CONTACT_FIELDS = ("full_name", "email", "phone", "country", "language", "timezone", "job_title")
PROFILE_FIELDS = (
    *FIRM_FIELDS,
    "owner",
    "partnership_type",
    "target_date",
    "credit_code",
    "landing_date",
    "aftercare_owner",
)
INTERACTION_FIELDS = ("kind", "occurred_at", "summary", "next_step", "next_step_due")
MULTI_FIELDS = ("needs", "contact_ids", "remove_partnership")


@dataclass
class FormState:
    """What a form shows: the values (as typed) and the messages next to fields."""

    values: Values = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)

    def value(self, name: str, default: str = "") -> Any:
        return self.values.get(name, default)

    def chosen(self, name: str) -> list[str]:
        value = self.values.get(name, [])
        return value if isinstance(value, list) else [value]


def read_values(form: FormData) -> Values:
    """Every posted field as a string (trimmed), or a list for the multi-valued ones."""
    values: Values = {}
    for name in form:
        if name == "csrf_token":
            continue
        if name in MULTI_FIELDS:
            values[name] = [str(v).strip() for v in form.getlist(name) if str(v).strip()]
        else:
            value = form.get(name)
            values[name] = value.strip() if isinstance(value, str) else ""
    return values


def _filled(values: Values, names: tuple[str, ...], prefix: str = "") -> dict[str, Any]:
    found = {}
    for name in names:
        value = values.get(f"{prefix}{name}", "")
        if value != "":
            found[name] = value
    return found


def _checked(values: Values, name: str) -> bool:
    return values.get(name, "") in ("on", "true", "1", "yes")


def contact_data(values: Values, prefix: str = "", default_country: str | None = None) -> Values:
    data = _filled(values, CONTACT_FIELDS, prefix)
    if "country" not in data and default_country:
        # A phone number without + is read in the firm's country.
        data["country"] = default_country
    data["email_consent"] = _checked(values, f"{prefix}email_consent")
    return data


def new_enterprise_data(values: Values) -> Values:
    data = _filled(values, FIRM_FIELDS)
    data["primary_contact"] = contact_data(
        values, "primary_contact.", default_country=values.get("country") or None
    )
    return data


def new_contact_data(values: Values) -> Values:
    data = contact_data(values)
    data["is_primary"] = _checked(values, "is_primary")
    return data


def profile_values(enterprise: Enterprise) -> Values:
    """The edit form's starting values: the firm as stored."""
    profile = enterprise.model_dump(mode="json")
    values: Values = {name: profile.get(name) or "" for name in PROFILE_FIELDS}
    values["needs"] = profile.get("needs") or []
    investment = profile.get("planned_investment") or {}
    values["investment_amount"] = investment.get("amount", "")
    values["investment_currency"] = investment.get("currency", "")
    values["version"] = str(enterprise.version)
    return values


def profile_data(values: Values, enterprise: Enterprise) -> Values:
    """The whole profile as the form says it should be (a blank field removes the value)."""
    data: Values = {name: values.get(name) or None for name in PROFILE_FIELDS}
    data["needs"] = list(values.get("needs", []))
    amount, currency = values.get("investment_amount"), values.get("investment_currency")
    data["planned_investment"] = (
        {"amount": amount, "currency": currency} if amount or currency else None
    )
    removed = set(values.get("remove_partnership", []))
    partnerships = [
        p.model_dump(mode="json")
        for index, p in enumerate(enterprise.partnerships)
        if str(index) not in removed
    ]
    new_partner = _filled(values, ("partner_organisation", "partner_kind", "partner_since"))
    if new_partner:
        partnerships.append(
            {
                "partner_organisation": new_partner.get("partner_organisation", ""),
                "kind": new_partner.get("partner_kind", ""),
                "since": new_partner.get("partner_since"),
            }
        )
    data["partnerships"] = partnerships
    return data


def local_datetime(text: str) -> str:
    """A `datetime-local` input (desk time, no zone) as an aware ISO timestamp."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the command model reports it next to the field
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=DESK_TIMEZONE)
    return moment.isoformat()


def interaction_data(values: Values) -> Values:
    data = _filled(values, INTERACTION_FIELDS)
    if "occurred_at" in data:
        data["occurred_at"] = local_datetime(data["occurred_at"])
    data["contact_ids"] = list(values.get("contact_ids", []))
    return data


def desk_now_input(now: datetime) -> str:
    """`now` as a `datetime-local` value in desk time."""
    return now.astimezone(DESK_TIMEZONE).strftime("%Y-%m-%dT%H:%M")


def version_of(values: Values) -> int | None:
    text = values.get("version", "")
    return int(text) if isinstance(text, str) and text.isdigit() else None
