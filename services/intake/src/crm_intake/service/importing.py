"""Importing a spreadsheet of firms and contacts, one row at a time, safe to re-run.

A row becomes a first contact; if the firm is already known (same normalised name,
website or credit code) the row is merged into it instead: empty fields are filled and
the contact is added unless the firm already has them. A second run therefore
creates nothing new.
"""

from dataclasses import dataclass, field
from typing import Any

from crm_intake.domain.errors import (
    DuplicateCandidate,
    DuplicatesFound,
    FieldProblem,
    IntakeError,
    InvalidInput,
)
from crm_intake.service import contacts, enterprises
from crm_intake.service.commands import NewContact, NewEnterprise, validated
from crm_intake.service.context import Actor, IntakeContext

CREATED, MERGED, REJECTED = "created", "merged", "rejected"

# CSV column -> command field; `contact_*` columns describe the person.
ENTERPRISE_COLUMNS = {
    "name": "name", "local_name": "local_name", "country": "country", "source": "source",
    "sector": "sector", "website": "website", "needs": "needs", "owner": "owner",
    "credit_code": "credit_code", "notes": "notes",
}  # fmt: skip
CONTACT_COLUMNS = {
    "contact_name": "full_name", "contact_email": "email", "contact_phone": "phone",
    "contact_language": "language", "contact_timezone": "timezone",
    "contact_country": "country", "email_consent": "email_consent", "job_title": "job_title",
}  # fmt: skip
COLUMNS = tuple(ENTERPRISE_COLUMNS) + tuple(CONTACT_COLUMNS)
_TRUE, _FALSE = {"yes", "y", "true", "1", "ja", "是"}, {"no", "n", "false", "0", "nein", "否", ""}
# Where several firms match, the strongest evidence wins.
_EVIDENCE = ("credit_code", "website", "name")


@dataclass
class RowOutcome:
    row: int  # 1-based line number in the file (the header is line 1)
    outcome: str
    enterprise_id: str | None = None
    detail: str = ""
    problems: list[str] = field(default_factory=list)


def command_from_row(row: dict[str, str | None]) -> NewEnterprise:
    """The row as a first contact; InvalidInput names the CSV columns at fault."""
    cells = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
    enterprise: dict[str, Any] = {
        target: cells[column] for column, target in ENTERPRISE_COLUMNS.items() if cells.get(column)
    }
    if "needs" in enterprise:
        enterprise["needs"] = [
            n.strip() for n in enterprise["needs"].replace(",", ";").split(";") if n.strip()
        ]
    person: dict[str, Any] = {
        target: cells[column] for column, target in CONTACT_COLUMNS.items() if cells.get(column)
    }
    consent = cells.get("email_consent", "").lower()
    if consent in _TRUE | _FALSE:
        person["email_consent"] = consent in _TRUE
    try:
        return validated(NewEnterprise, {**enterprise, "primary_contact": person})
    except InvalidInput as error:
        named = [FieldProblem(column_of(p.field), p.message) for p in error.problems]
        raise InvalidInput(named) from None


def column_of(field_path: str) -> str:
    """The CSV column behind a command field (`primary_contact.email` -> `contact_email`)."""
    parts = field_path.split(".")
    if parts[0] == "primary_contact":
        if len(parts) == 1:  # the contact as a whole: neither email nor phone
            return "contact_email/contact_phone"
        columns = CONTACT_COLUMNS
        parts = parts[1:]
    else:
        columns = ENTERPRISE_COLUMNS
    column = next((c for c, target in columns.items() if target == parts[0]), parts[0])
    return ".".join([column, *parts[1:]])


def _best(candidates: list[DuplicateCandidate]) -> DuplicateCandidate:
    def strength(candidate: DuplicateCandidate) -> tuple[int, ...]:
        return tuple(int(kind in candidate.matched_on) for kind in _EVIDENCE)

    return max(candidates, key=strength)


async def import_row(
    ctx: IntakeContext, number: int, row: dict[str, str | None], actor: Actor
) -> RowOutcome:
    try:
        command = command_from_row(row)
        view = await enterprises.create_enterprise(ctx, command, actor)
        return RowOutcome(number, CREATED, view.enterprise.id, "new firm and contact")
    except DuplicatesFound as found:
        return await _merge_into(ctx, number, command, _best(found.candidates), actor)
    except InvalidInput as error:
        return RowOutcome(
            number,
            REJECTED,
            detail=error.detail,
            problems=[f"{p.field}: {p.message}" for p in error.problems],
        )
    except IntakeError as error:
        return RowOutcome(number, REJECTED, detail=error.detail)


async def _merge_into(
    ctx: IntakeContext,
    number: int,
    command: NewEnterprise,
    target: DuplicateCandidate,
    actor: Actor,
) -> RowOutcome:
    view = await enterprises.get_enterprise(ctx, target.id, follow_merges=True)
    existing = view.enterprise
    news = []
    fill = {
        name: value
        for name, value in command.model_dump(mode="json", exclude={"primary_contact"}).items()
        if value not in (None, [], "") and getattr(existing, name) in (None, [], "")
    }
    if fill:
        await enterprises.update_enterprise(
            ctx, existing.id, fill, actor, expected_version=existing.version
        )
        news.append("filled " + ", ".join(sorted(fill)))
    person = command.primary_contact
    known = any(
        (person.email and c.email and c.email.casefold() == person.email.casefold())
        or (person.phone and c.phone == person.phone)
        for c in view.contacts
    )
    if not known:
        await contacts.add_contact(ctx, existing.id, NewContact(**person.model_dump()), actor)
        news.append("contact added")
    matched = "+".join(target.matched_on)
    detail = f"duplicate of {existing.name} (matched on {matched}): " + (
        "; ".join(news) or "nothing new"
    )
    return RowOutcome(number, MERGED, existing.id, detail)
