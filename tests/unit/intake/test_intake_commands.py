"""Inputs name each bad field, for the API, the forms and the CSV import alike."""

import pytest

from crm_intake.domain.errors import InvalidInput
from crm_intake.service.commands import NewEnterprise, validated
from crm_intake.service.importing import command_from_row

pytestmark = pytest.mark.unit

GOOD = {
    "name": "Müller GmbH",
    "country": "de",
    "source": "forum",
    "primary_contact": {"full_name": "Anna Schmidt", "email": "anna@example.com"},
}


def test_a_good_first_contact_is_normalised() -> None:
    command = validated(NewEnterprise, {**GOOD, "primary_contact": {**GOOD["primary_contact"],
                        "phone": "030 1234567", "country": "DE"}})  # fmt: skip
    assert command.country == "DE"
    assert command.primary_contact.phone == "+49301234567"
    assert command.primary_contact.timezone == "Asia/Shanghai"


def test_every_bad_field_is_named_at_once() -> None:
    bad = {
        "name": " ",
        "country": "Germany",
        "source": "newspaper",
        "website": "not a site",
        "credit_code": "91350100M000100Y44",
        "needs": ["office_space", "cheap_rent"],
        "planned_investment": {"amount": "-5", "currency": "EURO"},
        "primary_contact": {
            "full_name": "Anna",
            "email": "anna@",
            "phone": "12",
            "timezone": "Mars/Olympus",
            "language": "fr",
        },
    }
    with pytest.raises(InvalidInput) as refused:
        validated(NewEnterprise, bad)
    fields = {p.field for p in refused.value.problems}
    assert fields == {
        "name",
        "country",
        "source",
        "website",
        "credit_code",
        "needs.1",
        "planned_investment.amount",
        "planned_investment.currency",
        "primary_contact.email",
        "primary_contact.phone",
        "primary_contact.timezone",
        "primary_contact.language",
    }


def test_a_contact_needs_email_or_phone() -> None:
    with pytest.raises(InvalidInput) as refused:
        validated(NewEnterprise, {**GOOD, "primary_contact": {"full_name": "Anna"}})
    assert refused.value.problems[0].field == "primary_contact"
    assert "email or a phone" in refused.value.problems[0].message


def test_unknown_fields_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as refused:
        validated(NewEnterprise, {**GOOD, "stage": "landed"})
    assert [p.field for p in refused.value.problems] == ["stage"]


def test_a_csv_row_maps_to_a_first_contact_and_its_errors_to_columns() -> None:
    row = {
        "name": "Müller GmbH",
        "country": "DE",
        "source": "forum",
        "needs": "office_space; talent",
        "contact_name": "Anna Schmidt",
        "contact_email": "anna@example.com",
        "email_consent": "yes",
    }
    command = command_from_row(row)
    assert command.needs == ["office_space", "talent"]
    assert command.primary_contact.email_consent is True
    with pytest.raises(InvalidInput) as refused:
        command_from_row({**row, "country": "Deutschland", "contact_email": "anna@", "needs": "x"})
    assert {p.field for p in refused.value.problems} == {"country", "contact_email", "needs.0"}
