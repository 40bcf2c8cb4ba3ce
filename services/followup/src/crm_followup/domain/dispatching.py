"""What to do with a due follow-up: send it now, put it off, or cancel it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_followup.domain.calendar import SendingCalendar
from crm_followup.domain.frequency import FrequencyCap
from crm_followup.domain.model import CancelReason, Contact, Firm, Followup
from crm_followup.domain.planning import StaffDesk
from crm_followup.domain.templates import Audience
from crm_followup.rules.models import Rule
from crm_shared.contracts.vocabulary import Language, NotificationCategory, Status


@dataclass(frozen=True)
class Send:
    recipient: str
    recipient_name: str | None
    locale: Language
    timezone: str
    context: dict[str, Any]


@dataclass(frozen=True)
class Defer:
    until: datetime
    reason: str


@dataclass(frozen=True)
class Cancel:
    reason: str


Decision = Send | Defer | Cancel


@dataclass(frozen=True)
class StaffMail:
    """How an account manager id becomes an address (intake's events carry only the id)."""

    mailbox: str = "service-desk@localhost"
    domain: str | None = None

    def address_of(self, staff_id: str | None) -> str:
        if staff_id and "@" in staff_id:
            return staff_id
        if staff_id and self.domain:
            return f"{staff_id}@{self.domain}"
        return self.mailbox


@dataclass
class DispatchPolicy:
    calendar: SendingCalendar
    cap: FrequencyCap = field(default_factory=FrequencyCap)
    staff: StaffDesk = field(default_factory=StaffDesk)
    staff_mail: StaffMail = field(default_factory=StaffMail)

    def decide(
        self,
        followup: Followup,
        rule: Rule | None,
        firm: Firm,
        contact: Contact | None,
        now: datetime,
    ) -> Decision:
        if firm.closed:
            return Cancel(_closed_reason(firm))
        if rule is None:
            return Cancel("rule_removed")
        if not rule.conditions.hold_for(firm):
            return Cancel(CancelReason.CONDITIONS_NO_LONGER_HOLD)
        to_contact = followup.audience == Audience.CONTACT.value
        if to_contact:
            if contact is None:
                return Cancel(CancelReason.NO_RECIPIENT)
            if not contact.email_consent:
                return Cancel(CancelReason.OPTED_OUT)
            if not contact.email:
                return Cancel(CancelReason.NO_RECIPIENT)
            timezone, country = contact.timezone, contact.country or firm.country
        else:
            timezone, country = self.staff.timezone, self.staff.country
        if not self.calendar.in_window(now, timezone, country):
            return Defer(
                self.calendar.next_send_time(now, timezone, country), "outside_business_hours"
            )
        if to_contact and followup.category is not NotificationCategory.TRANSACTIONAL:
            assert contact is not None
            allowed = self.cap.next_allowed(contact.recent_sends, now)
            if allowed > now:
                return Defer(
                    self.calendar.next_send_time(allowed, timezone, country), "frequency_cap"
                )
        if to_contact:
            assert contact is not None
            return Send(
                recipient=contact.email or "",
                recipient_name=contact.full_name or None,
                locale=contact.language,
                timezone=timezone,
                context=build_context(followup, firm, contact.full_name, now),
            )
        return Send(
            recipient=self.staff_mail.address_of(firm.owner),
            recipient_name=firm.owner,
            locale=Language.EN,
            timezone=timezone,
            context=build_context(followup, firm, firm.owner, now),
        )


def build_context(
    followup: Followup, firm: Firm, recipient_name: str | None, now: datetime
) -> dict[str, Any]:
    """The template context documented in TEMPLATES.md (JSON-safe values only)."""
    context: dict[str, Any] = {
        "enterprise_id": firm.id,
        "enterprise_name": firm.name,
        "recipient_name": recipient_name,
        "account_manager": firm.owner,
        "rule": followup.rule,
    }
    anchor = followup.anchor
    for key in ("interaction_kind", "interaction_date", "next_step", "next_step_due"):
        if key in anchor:
            context[key] = anchor[key]
    if followup.template in {"checkin", "staff_no_interaction_reminder"}:
        last = firm.last_interaction_at or firm.created_at or anchor.get("at") or now
        context["days_since_last_interaction"] = max(0, (now - last).days)
    if followup.template == "staff_no_interaction_reminder":
        context["stage"] = firm.stage.value
        context["status"] = firm.status.value
    if followup.template in {"aftercare_introduction", "aftercare_checkin"}:
        context["aftercare_owner"] = firm.aftercare_owner
    if followup.template == "aftercare_checkin":
        context["occurrence"] = followup.occurrence
    return context


def _closed_reason(firm: Firm) -> str:
    if firm.merged_into is not None:
        return CancelReason.MERGED
    if firm.status is Status.WITHDRAWN:
        return CancelReason.FIRM_WITHDRAWN
    return CancelReason.FIRM_LOST
