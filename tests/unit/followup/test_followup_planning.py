"""Planning follow-ups from occasions, and deciding at dispatch time (pure domain)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_followup.domain.calendar import BusinessHours, SendingCalendar
from crm_followup.domain.dispatching import Cancel, Defer, DispatchPolicy, Send, StaffMail
from crm_followup.domain.frequency import FrequencyCap
from crm_followup.domain.model import Contact, Firm, Followup
from crm_followup.domain.planning import Occasion, Planner
from crm_followup.rules.loader import load_rules
from crm_followup.rules.models import TriggerKind
from crm_shared.contracts.vocabulary import InteractionKind, Language, Stage, Status

pytestmark = pytest.mark.unit

BERLIN = ZoneInfo("Europe/Berlin")
RULES = load_rules()
CALENDAR = SendingCalendar(BusinessHours())


def _firm(**fields: object) -> Firm:
    return Firm(id="ent-1", name="Muster GmbH", country="DE", owner="li.wei", **fields)


def _contact(**fields: object) -> Contact:
    base: dict[str, object] = {
        "id": "c-1", "enterprise_id": "ent-1", "full_name": "Anna Schmidt",
        "email": "anna@example.com", "language": Language.DE, "timezone": "Europe/Berlin",
        "country": "DE", "email_consent": True, "is_primary": True,
    }  # fmt: skip
    return Contact(**{**base, **fields})  # type: ignore[arg-type]


def _planner() -> Planner:
    return Planner(RULES, CALENDAR)


def test_welcome_only_for_a_consenting_contact() -> None:
    at = datetime(2026, 11, 24, 10, tzinfo=UTC)
    occasion = Occasion(TriggerKind.FIRM_CREATED, at, "evt")
    (welcome,) = _planner().plan(occasion, _firm(), [_contact()])
    assert (welcome.id, welcome.template, welcome.contact_id) == ("welcome:c-1", "welcome", "c-1")
    assert _planner().plan(occasion, _firm(), [_contact(email_consent=False)]) == []
    assert _planner().plan(occasion, _firm(), [_contact(email=None)]) == []


def test_thank_you_friday_evening_lands_monday_morning_in_berlin() -> None:
    friday_evening = datetime(2026, 11, 20, 19, 30, tzinfo=BERLIN).astimezone(UTC)
    occasion = Occasion(
        TriggerKind.INTERACTION_LOGGED, friday_evening, "int-1",
        interaction_kind=InteractionKind.MEETING,
    )  # fmt: skip
    (thanks,) = _planner().plan(occasion, _firm(), [_contact()])
    assert thanks.id == "thank_you:int-1:c-1"
    assert thanks.due_at.astimezone(BERLIN) == datetime(2026, 11, 23, 9, tzinfo=BERLIN)
    assert thanks.anchor["interaction_date"] == "2026-11-20"


def test_calls_get_no_thank_you() -> None:
    occasion = Occasion(
        TriggerKind.INTERACTION_LOGGED, datetime(2026, 11, 24, 10, tzinfo=UTC), "int-2",
        interaction_kind=InteractionKind.CALL,
    )  # fmt: skip
    assert _planner().plan(occasion, _firm(), [_contact()]) == []


def test_no_interaction_rules_only_while_active_and_not_landed() -> None:
    at = datetime(2026, 11, 2, 10, tzinfo=UTC)
    occasion = Occasion(TriggerKind.NO_INTERACTION, at, "evt-9")
    planned = {f.rule: f for f in _planner().plan(occasion, _firm(), [_contact()])}
    assert set(planned) == {"no_interaction_reminder", "no_interaction_checkin"}
    reminder = planned["no_interaction_reminder"]
    assert reminder.contact_id is None
    assert reminder.audience == "account_manager"
    assert reminder.due_at >= at + timedelta(days=14)
    assert _planner().plan(occasion, _firm(status=Status.ON_HOLD), [_contact()]) == []
    assert _planner().plan(occasion, _firm(stage=Stage.LANDED), [_contact()]) == []
    assert _planner().plan(occasion, _firm(status=Status.LOST), [_contact()]) == []


def test_next_step_reminder_on_the_due_date_at_the_desk() -> None:
    occasion = Occasion(
        TriggerKind.NEXT_STEP_DUE, datetime(2026, 11, 24, 10, tzinfo=UTC), "int-3",
        interaction_kind=InteractionKind.CALL, next_step="send the lease draft",
        next_step_due=date(2026, 12, 2),
    )  # fmt: skip
    (reminder,) = _planner().plan(occasion, _firm(), [_contact()])
    shanghai = ZoneInfo("Asia/Shanghai")
    assert reminder.due_at.astimezone(shanghai) == datetime(2026, 12, 2, 9, tzinfo=shanghai)
    assert reminder.anchor["next_step"] == "send the lease draft"


def test_aftercare_checkins_repeat() -> None:
    firm = _firm(stage=Stage.ESTABLISHED_PARTNERSHIP)
    occasion = Occasion(
        TriggerKind.STAGE_REACHED, datetime(2026, 1, 5, 10, tzinfo=UTC), "ent-1:established",
        stage=Stage.ESTABLISHED_PARTNERSHIP,
    )  # fmt: skip
    (first,) = _planner().plan(occasion, firm, [_contact()])
    rule = RULES.named("aftercare_checkin")
    second = _planner().next_occurrence(rule, first, firm, _contact())
    assert second is not None
    assert (second.id, second.occurrence) == (f"{first.id}#2", 2)
    assert second.due_at - first.due_at >= timedelta(days=90)
    third = _planner().next_occurrence(rule, second, firm, _contact())
    assert third is not None
    assert third.id == f"{first.id}#3"


# -- dispatch decisions -------------------------------------------------------------------


def _policy() -> DispatchPolicy:
    return DispatchPolicy(
        CALENDAR,
        FrequencyCap(2, timedelta(days=7)),
        staff_mail=StaffMail(domain="desk.example.com"),
    )


def _welcome_due(at: datetime) -> Followup:
    (welcome,) = _planner().plan(Occasion(TriggerKind.FIRM_CREATED, at, "e"), _firm(), [_contact()])
    return welcome


def test_decide_sends_inside_the_window_with_the_template_context() -> None:
    tuesday_10_berlin = datetime(2026, 11, 24, 10, tzinfo=BERLIN).astimezone(UTC)
    welcome = _welcome_due(tuesday_10_berlin)
    decision = _policy().decide(
        welcome, RULES.named("welcome"), _firm(), _contact(), tuesday_10_berlin
    )
    assert isinstance(decision, Send)
    assert (decision.recipient, decision.locale, decision.timezone) == (
        "anna@example.com", Language.DE, "Europe/Berlin",
    )  # fmt: skip
    assert decision.context["enterprise_name"] == "Muster GmbH"
    assert decision.context["recipient_name"] == "Anna Schmidt"


def test_decide_defers_outside_hours_and_over_the_cap() -> None:
    sunday = datetime(2026, 11, 22, 12, tzinfo=BERLIN).astimezone(UTC)
    welcome = _welcome_due(sunday)
    deferred = _policy().decide(welcome, RULES.named("welcome"), _firm(), _contact(), sunday)
    assert isinstance(deferred, Defer)
    assert deferred.reason == "outside_business_hours"
    assert deferred.until.astimezone(BERLIN) == datetime(2026, 11, 23, 9, tzinfo=BERLIN)

    tuesday = datetime(2026, 11, 24, 10, tzinfo=BERLIN).astimezone(UTC)
    busy = _contact(recent_sends=[tuesday - timedelta(days=2), tuesday - timedelta(hours=1)])
    capped = _policy().decide(welcome, RULES.named("welcome"), _firm(), busy, tuesday)
    assert isinstance(capped, Defer)
    assert capped.reason == "frequency_cap"
    assert capped.until >= tuesday + timedelta(days=5)


def test_decide_cancels_when_it_may_no_longer_be_sent() -> None:
    now = datetime(2026, 11, 24, 10, tzinfo=BERLIN).astimezone(UTC)
    welcome = _welcome_due(now)
    rule = RULES.named("welcome")
    policy = _policy()
    assert policy.decide(welcome, rule, _firm(), _contact(email_consent=False), now) == Cancel(
        "opted_out"
    )
    assert policy.decide(welcome, rule, _firm(), None, now) == Cancel("no_recipient")
    assert policy.decide(welcome, rule, _firm(status=Status.WITHDRAWN), _contact(), now) == Cancel(
        "firm_withdrawn"
    )
    assert policy.decide(welcome, None, _firm(), _contact(), now) == Cancel("rule_removed")


def test_staff_reminders_go_to_the_account_manager() -> None:
    at = datetime(2026, 11, 2, 10, tzinfo=UTC)
    planned = _planner().plan(Occasion(TriggerKind.NO_INTERACTION, at, "k"), _firm(), [])
    (reminder,) = planned
    shanghai_tuesday = datetime(2026, 11, 24, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    rule = RULES.named(reminder.rule)
    decision = _policy().decide(reminder, rule, _firm(), None, shanghai_tuesday)
    assert isinstance(decision, Send)
    assert decision.recipient == "li.wei@desk.example.com"
    assert decision.context["days_since_last_interaction"] == 21
    assert StaffMail().address_of(None) == "service-desk@localhost"
