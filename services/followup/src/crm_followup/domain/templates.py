"""The fixed list of email templates follow-up may request, with the context each receives.

The notification service ships a template for exactly these names (documented in
`crm_followup/rules/TEMPLATES.md`); a rule naming any other template is refused
at start. Every context also carries the keys in `COMMON_CONTEXT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Audience(StrEnum):
    CONTACT = "contact"
    ACCOUNT_MANAGER = "account_manager"


@dataclass(frozen=True)
class Template:
    name: str
    audience: Audience
    purpose: str
    context: dict[str, str]  # key -> what it holds


COMMON_CONTEXT: dict[str, str] = {
    "enterprise_id": "the firm's id",
    "enterprise_name": "the firm's name",
    "recipient_name": "the addressee's full name (staff: the account manager id)",
    "account_manager": "the account manager's staff id, or null",
    "rule": "the rule that scheduled the email",
}

TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template("welcome", Audience.CONTACT, "welcome a new firm's primary contact", {}),
        Template(
            "thank_you",
            Audience.CONTACT,
            "thank a contact the business day after a meeting, visit, forum, training or event",
            {
                "interaction_kind": "meeting, site_visit, forum, training or event",
                "interaction_date": "date of the interaction (YYYY-MM-DD, recipient's zone)",
            },
        ),
        Template(
            "checkin",
            Audience.CONTACT,
            "check in with a firm nobody has talked to for a while",
            {"days_since_last_interaction": "whole days since the last interaction (int)"},
        ),
        Template(
            "landed_congratulations",
            Audience.CONTACT,
            "congratulate a firm that established its entity in Yangpu",
            {},
        ),
        Template(
            "aftercare_introduction",
            Audience.CONTACT,
            "introduce aftercare services after landing",
            {"aftercare_owner": "staff id of the aftercare owner, or null"},
        ),
        Template(
            "aftercare_checkin",
            Audience.CONTACT,
            "periodic aftercare check-in with an established partner",
            {
                "occurrence": "1 for the first check-in, 2 for the next… (int)",
                "aftercare_owner": "staff id of the aftercare owner, or null",
            },
        ),
        Template(
            "staff_no_interaction_reminder",
            Audience.ACCOUNT_MANAGER,
            "remind the account manager of a firm without interaction",
            {
                "days_since_last_interaction": "whole days since the last interaction (int)",
                "stage": "the firm's stage",
                "status": "the firm's status",
            },
        ),
        Template(
            "staff_next_step_reminder",
            Audience.ACCOUNT_MANAGER,
            "remind the account manager of an interaction's next step on its due date",
            {
                "next_step": "the next step as logged (text)",
                "next_step_due": "its due date (YYYY-MM-DD)",
                "interaction_kind": "kind of the interaction that set it",
                "interaction_date": "date of that interaction (YYYY-MM-DD)",
            },
        ),
    )
}


def context_keys(template: str) -> list[str]:
    return [*COMMON_CONTEXT, *TEMPLATES[template].context]
