"""The lifecycle rules of SPEC §3, without any I/O."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from crm_intake.domain.enterprise import Enterprise, Partnership, PlannedInvestment
from crm_intake.domain.errors import InvalidInput, RoleRequired, TransitionRefused
from crm_intake.domain.stages import Facts, missing_for, plan_stage_change, plan_status_change
from crm_shared.auth.tokens import Role
from crm_shared.contracts.vocabulary import InteractionKind, Need, Source, Stage, Status

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
REACHABLE = Facts(reachable_contacts=1)


def firm(**fields: object) -> Enterprise:
    base: dict[str, object] = {
        "id": "ent_1",
        "name": "Müller GmbH",
        "country": "DE",
        "source": Source.FORUM,
        "last_activity_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
        "created_by": "li.wei",
    }
    return Enterprise(**{**base, **fields})


COMPLETE = {
    "sector": "automotive",
    "needs": [Need.OFFICE_SPACE],
    "owner": "li.wei",
    "interaction_kinds": [InteractionKind.MEETING],
    "planned_investment": PlannedInvestment(amount=Decimal("5000000"), currency="EUR"),
    "target_date": date(2025, 12, 1),
    "credit_code": "91350100M000100Y43",
    "landing_date": date(2025, 11, 1),
    "partnerships": [Partnership(partner_organisation="Tongji University", kind="research")],
    "aftercare_owner": "li.wei",
}


def test_a_jump_over_several_stages_lists_every_missing_field() -> None:
    with pytest.raises(TransitionRefused) as refused:
        plan_stage_change(
            firm(), Stage.LANDED, role=Role.OFFICER, reason=None, facts=Facts(reachable_contacts=0)
        )
    assert [p.field for p in refused.value.problems] == [
        "contacts",
        "sector",
        "needs",
        "owner",
        "interactions",
        "planned_investment",
        "target_date",
        "credit_code",
        "landing_date",
    ]
    assert "(qualified)" in refused.value.problems[1].message


def test_an_engaged_firm_needs_a_meeting_or_site_visit_not_a_call() -> None:
    ready = firm(**{**COMPLETE, "interaction_kinds": [InteractionKind.CALL]})
    with pytest.raises(TransitionRefused) as refused:
        plan_stage_change(ready, Stage.ENGAGED, role=Role.OFFICER, reason=None, facts=REACHABLE)
    assert [p.field for p in refused.value.problems] == ["interactions"]


def test_negotiating_accepts_a_partnership_type_instead_of_an_investment() -> None:
    fields = {**COMPLETE, "planned_investment": None, "partnership_type": "joint venture"}
    assert missing_for(Stage.NEGOTIATING, firm(**fields), REACHABLE) == []


def test_a_complete_firm_walks_every_stage_forward() -> None:
    current = firm(**COMPLETE)
    for stage in list(Stage)[1:]:
        change = plan_stage_change(current, stage, role=Role.OFFICER, reason=None, facts=REACHABLE)
        assert (change.from_stage, change.to_stage, change.backward) == (
            current.stage,
            stage,
            False,
        )
        current = current.model_copy(update={"stage": stage})
    assert current.stage is Stage.ESTABLISHED_PARTNERSHIP


def test_moving_backward_needs_a_manager_and_a_reason() -> None:
    landed = firm(**COMPLETE, stage=Stage.LANDED)
    with pytest.raises(RoleRequired, match="manager"):
        plan_stage_change(landed, Stage.QUALIFIED, role=Role.OFFICER, reason="x", facts=REACHABLE)
    with pytest.raises(InvalidInput) as missing_reason:
        plan_stage_change(landed, Stage.QUALIFIED, role=Role.MANAGER, reason="  ", facts=REACHABLE)
    assert missing_reason.value.problems[0].field == "reason"
    change = plan_stage_change(
        landed, Stage.QUALIFIED, role=Role.ADMIN, reason="entity deregistered", facts=REACHABLE
    )
    assert change.backward
    assert change.reason == "entity deregistered"


def test_the_same_stage_and_closed_firms_are_refused() -> None:
    with pytest.raises(InvalidInput, match="already first_contact"):
        plan_stage_change(
            firm(), Stage.FIRST_CONTACT, role=Role.ADMIN, reason=None, facts=REACHABLE
        )
    lost = firm(**COMPLETE, status=Status.LOST)
    with pytest.raises(InvalidInput, match="reactivate"):
        plan_stage_change(lost, Stage.QUALIFIED, role=Role.ADMIN, reason=None, facts=REACHABLE)


def test_lost_needs_a_reason_and_other_statuses_do_not() -> None:
    with pytest.raises(InvalidInput) as refused:
        plan_status_change(firm(), Status.LOST, reason=None)
    assert refused.value.problems[0].field == "reason"
    assert plan_status_change(firm(), Status.LOST, reason="chose Suzhou").reason == "chose Suzhou"
    assert plan_status_change(firm(), Status.ON_HOLD, reason=None).to_status is Status.ON_HOLD
    with pytest.raises(InvalidInput, match="already active"):
        plan_status_change(firm(), Status.ACTIVE, reason=None)
