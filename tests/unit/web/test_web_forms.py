"""Form values become the service's command data; its refusals become per-field messages."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from crm_intake.domain.enterprise import Enterprise, EnterpriseProfile
from crm_intake.domain.errors import FieldProblem
from crm_intake.entrypoints.web import forms
from crm_intake.entrypoints.web.errors import FORM, from_problems, from_validation
from crm_intake.entrypoints.web.i18n import load_translations
from crm_intake.service.commands import NewEnterprise

pytestmark = pytest.mark.unit

GERMAN = load_translations()["de"].gettext
NOW = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def _errors_of(data: dict[str, object], **options: object):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        NewEnterprise.model_validate(data)
    return from_validation(refused.value, GERMAN, **options)  # type: ignore[arg-type]


def test_a_first_contact_form_becomes_the_api_command() -> None:
    values = {
        "name": "Müller Maschinenbau GmbH",
        "local_name": "穆勒机械（中国）有限公司",
        "country": "DE",
        "source": "forum",
        "sector": "",
        "primary_contact.full_name": "Anna Schmidt",
        "primary_contact.phone": "030 1234567",
        "primary_contact.language": "de",
        "primary_contact.timezone": "Europe/Berlin",
        "primary_contact.email_consent": "on",
    }
    command = NewEnterprise.model_validate(forms.new_enterprise_data(values))
    assert command.local_name == "穆勒机械（中国）有限公司"
    assert command.sector is None  # an empty input is no value
    # Without +, the phone is read in the firm's country.
    assert command.primary_contact.phone == "+49301234567"
    assert command.primary_contact.email_consent is True


def test_each_error_lands_next_to_its_field_in_the_page_language() -> None:
    values = {
        "country": "DE",
        "website": "not a site",
        "primary_contact.full_name": "Anna",
        "primary_contact.email": "anna-at-example",
        "primary_contact.language": "fr",
    }
    errors = _errors_of(forms.new_enterprise_data(values))
    assert errors.of("name") == ["Dieses Feld ist erforderlich."]
    assert errors.of("source") == ["Dieses Feld ist erforderlich."]
    assert errors.of("website") == ["Bitte eine Webadresse wie example.com angeben."]
    assert errors.of("primary_contact.email") == ["Bitte eine gültige E-Mail-Adresse angeben."]
    assert errors.of("primary_contact.language") == ["Bitte eine der Möglichkeiten wählen."]


def test_english_pages_keep_the_validators_own_words() -> None:
    english = load_translations()["en"].gettext
    with pytest.raises(ValidationError) as refused:
        EnterpriseProfile.model_validate(
            {"name": "X", "country": "CN", "source": "forum", "credit_code": "91310000MA1FL0000Q"}
        )
    errors = from_validation(refused.value, english, english=True)
    assert "checksum" in errors.of("credit_code")[0]


def test_a_contact_without_email_or_phone_is_told_at_the_email_field() -> None:
    values = {"name": "X", "country": "DE", "source": "forum", "primary_contact.full_name": "A"}
    errors = _errors_of(forms.new_enterprise_data(values))
    assert errors.of("primary_contact.email") == [
        "Bitte eine E-Mail-Adresse oder eine Telefonnummer angeben."
    ]


def test_a_field_the_form_does_not_show_is_reported_for_the_whole_form() -> None:
    errors = from_problems([FieldProblem("primary_contact_id", "odd")], GERMAN, known={"name"})
    assert errors.form == ["odd"]
    assert FORM in errors.fields


def test_what_a_stage_move_lacks_is_listed_in_the_page_language() -> None:
    problems = [
        FieldProblem("sector", "a sector is required (qualified)"),
        FieldProblem("interactions", "at least one interaction … (engaged)"),
    ]
    errors = from_problems(problems, GERMAN, requirements=True)
    assert errors.of("sector") == ["Eine Branche ist erforderlich."]
    assert errors.of("interactions") == [
        "Mindestens eine Besprechung oder ein Standortbesuch muss erfasst sein."
    ]


def test_service_problems_are_translated_by_field_and_wording() -> None:
    problems = [
        FieldProblem("owner", "no active staff user called 'x.y'"),
        FieldProblem("contact_ids.0", "con_1 is not a contact of this firm"),
        FieldProblem("reason", "a backward move needs a reason"),
    ]
    errors = from_problems(problems, GERMAN)
    assert errors.of("owner") == ["Es gibt keinen aktiven Benutzer mit diesem Namen."]
    assert errors.of("contact_ids") == ["Kein Kontakt dieses Unternehmens."]
    assert errors.of("reason") == ["Bitte einen Grund angeben."]


def _firm(**fields: object) -> Enterprise:
    return Enterprise(
        id="ent_1",
        name="Müller GmbH",
        country="DE",
        source="forum",
        last_activity_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        created_by="li.wei",
        **fields,
    )


def test_the_edit_form_round_trips_the_profile() -> None:
    firm = _firm(
        needs=["talent"],
        planned_investment={"amount": "1500000.50", "currency": "EUR"},
        partnerships=[{"partner_organisation": "Tongji University", "kind": "research"}],
    )
    values = forms.profile_values(firm)
    assert values["investment_amount"] == "1500000.50"
    assert values["version"] == "1"
    profile = EnterpriseProfile.model_validate(forms.profile_data(values, firm))
    assert profile.needs == firm.needs
    assert profile.planned_investment == firm.planned_investment
    assert profile.partnerships == firm.partnerships


def test_the_edit_form_adds_and_removes_partnerships_and_clears_fields() -> None:
    firm = _firm(
        sector="Automotive",
        partnerships=[{"partner_organisation": "Tongji University", "kind": "research"}],
    )
    values = forms.profile_values(firm) | {
        "sector": "",
        "remove_partnership": ["0"],
        "partner_organisation": "上海汽车集团",
        "partner_kind": "joint_venture",
        "partner_since": "2026-01-15",
    }
    data = forms.profile_data(values, firm)
    assert data["sector"] is None  # a merge patch removes it
    assert data["partnerships"] == [
        {"partner_organisation": "上海汽车集团", "kind": "joint_venture", "since": "2026-01-15"}
    ]


def test_an_interaction_time_is_read_in_shanghai_time() -> None:
    data = forms.interaction_data({"kind": "meeting", "occurred_at": "2026-03-09T16:00"})
    assert data["occurred_at"] == "2026-03-09T16:00:00+08:00"
    assert forms.interaction_data({"occurred_at": "soon"})["occurred_at"] == "soon"
    assert forms.desk_now_input(NOW) == "2026-03-09T16:00"
