"""From something that happened (an occasion) to the follow-ups the rules ask for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from crm_followup.domain.calendar import SendingCalendar, zone
from crm_followup.domain.durations import Delay
from crm_followup.domain.model import Contact, Firm, Followup
from crm_followup.domain.templates import Audience
from crm_followup.rules.models import Rule, RulesFile, TriggerKind
from crm_shared.contracts.vocabulary import InteractionKind, Stage

STAFF_RECIPIENT_KEY = "am"


@dataclass(frozen=True)
class Occasion:
    """Something that may trigger rules: its kind, its anchor instant and a key unique to it.

    The key (an interaction id, an event id…) goes into each follow-up id, so the
    same occasion seen twice schedules nothing twice.
    """

    kind: TriggerKind
    at: datetime
    key: str
    interaction_kind: InteractionKind | None = None
    stage: Stage | None = None
    contact_ids: tuple[str, ...] = ()
    next_step: str | None = None
    next_step_due: date | None = None


@dataclass(frozen=True)
class StaffDesk:
    """Where staff reminders are placed in time: the service desk's zone and holidays."""

    timezone: str = "Asia/Shanghai"
    country: str = "CN"


@dataclass
class Planner:
    rules: RulesFile
    calendar: SendingCalendar
    staff: StaffDesk = field(default_factory=StaffDesk)

    def plan(self, occasion: Occasion, firm: Firm, contacts: Iterable[Contact]) -> list[Followup]:
        """The follow-ups every matching rule asks for (the caller skips ids it already has)."""
        if firm.closed:
            return []
        recipients = [contact for contact in contacts if contact.reachable]
        planned: list[Followup] = []
        for rule in self.rules.triggered_by(occasion.kind):
            if not self._matches(rule, occasion, firm):
                continue
            if rule.audience is Audience.ACCOUNT_MANAGER:
                planned.append(self._followup(rule, occasion, firm, None))
            else:
                planned += [self._followup(rule, occasion, firm, c) for c in recipients]
        return planned

    def next_occurrence(
        self, rule: Rule, previous: Followup, firm: Firm, contact: Contact | None
    ) -> Followup | None:
        """The repeat of a periodic follow-up that was just sent, if the rule wants one."""
        if rule.repeat is None or firm.closed:
            return None
        if rule.repeat.max_times is not None and previous.occurrence >= rule.repeat.max_times:
            return None
        timezone, country = self.place_of(firm, contact)
        due = self._after(previous.due_at, rule.repeat.every, timezone, country)
        series = previous.anchor.get("series", previous.id)
        occurrence = previous.occurrence + 1
        return Followup(
            id=f"{series}#{occurrence}",
            enterprise_id=firm.id,
            rule=rule.name,
            template=rule.template,
            category=rule.category,
            audience=rule.audience.value,
            due_at=due,
            contact_id=previous.contact_id,
            anchor={**previous.anchor, "series": series},
            occurrence=occurrence,
        )

    def place_of(self, firm: Firm, contact: Contact | None) -> tuple[str, str | None]:
        """The recipient's time zone and holiday country."""
        if contact is None:
            return self.staff.timezone, self.staff.country
        return contact.timezone, contact.country or firm.country

    def _matches(self, rule: Rule, occasion: Occasion, firm: Firm) -> bool:
        trigger = rule.trigger
        if occasion.interaction_kind is not None and not trigger.matches_kind(
            occasion.interaction_kind
        ):
            return False
        if trigger.stage is not None and trigger.stage != occasion.stage:
            return False
        return rule.conditions.hold_for(firm)

    def _followup(
        self, rule: Rule, occasion: Occasion, firm: Firm, contact: Contact | None
    ) -> Followup:
        timezone, country = self.place_of(firm, contact)
        anchor_at = occasion.at
        if occasion.kind is TriggerKind.NEXT_STEP_DUE and occasion.next_step_due is not None:
            anchor_at = self.calendar.opening_of(occasion.next_step_due, timezone)
        due = self._after(anchor_at, rule.delay, timezone, country)
        recipient_key = contact.id if contact else STAFF_RECIPIENT_KEY
        if occasion.kind is TriggerKind.FIRM_CREATED:
            # Once per contact ever: a merge or a re-sent event never welcomes twice.
            followup_id = f"{rule.name}:{contact.id if contact else firm.id}"
        else:
            followup_id = f"{rule.name}:{occasion.key}:{recipient_key}"
        return Followup(
            id=followup_id,
            enterprise_id=firm.id,
            rule=rule.name,
            template=rule.template,
            category=rule.category,
            audience=rule.audience.value,
            due_at=due,
            contact_id=contact.id if contact else None,
            anchor=_anchor_data(occasion, timezone),
        )

    def _after(
        self, anchor: datetime, delay: Delay, timezone: str, country: str | None
    ) -> datetime:
        if delay.business_days:
            return self.calendar.add_business_days(anchor, delay.amount, timezone, country)
        return self.calendar.next_send_time(anchor + delay.as_timedelta(), timezone, country)


def _anchor_data(occasion: Occasion, timezone: str) -> dict[str, Any]:
    data: dict[str, Any] = {"at": occasion.at, "key": occasion.key}
    if occasion.interaction_kind is not None:
        data["interaction_kind"] = occasion.interaction_kind.value
        data["interaction_date"] = occasion.at.astimezone(zone(timezone)).date().isoformat()
    if occasion.next_step is not None:
        data["next_step"] = occasion.next_step
    if occasion.next_step_due is not None:
        data["next_step_due"] = occasion.next_step_due.isoformat()
    return data
