"""Field validators: credit code checksum, email, phone, country, currency, time zone, website."""

import pytest

from crm_intake.domain import validation

pytestmark = pytest.mark.unit

# Published examples of real unified social credit codes.
VALID_CODES = ["91350100M000100Y43", "91110000802100433B"]


@pytest.mark.parametrize("code", VALID_CODES)
def test_a_valid_credit_code_passes_and_is_normalised(code: str) -> None:
    assert validation.unified_social_credit_code(code) == code
    assert validation.unified_social_credit_code(f" {code.lower()[:9]} {code.lower()[9:]} ") == code


def test_the_check_character_is_computed_per_gb_32100() -> None:
    assert validation.credit_code_check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y44", "should be 3"),
        ("91350100M000100Y4", "18 characters, not 17"),
        ("91350100M000100YO3", "cannot contain O"),
        ("91350100I000100Y43", "cannot contain I"),
    ],
)
def test_a_bad_credit_code_says_what_is_wrong(code: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validation.unified_social_credit_code(code)


def test_every_single_character_typo_is_caught() -> None:
    code = VALID_CODES[0]
    for position in range(17):
        for char in validation.CREDIT_CODE_ALPHABET:
            if char != code[position]:
                typo = code[:position] + char + code[position + 1 :]
                with pytest.raises(ValueError, match="checksum"):
                    validation.unified_social_credit_code(typo)


def test_phone_numbers_become_e164() -> None:
    assert validation.phone_number("+49 30 1234567") == "+49301234567"
    assert validation.phone_number("138 1234 5678", "CN") == "+8613812345678"


@pytest.mark.parametrize("number", ["12345", "+49 1", "call me", "030 1234567"])
def test_bad_phone_numbers_are_refused(number: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        validation.phone_number(number)


def test_email_addresses_are_checked_without_dns() -> None:
    assert validation.email_address(" anna@Example.COM ") == "anna@example.com"
    for bad in ("anna", "anna@", "@example.com", "anna@@example.com"):
        with pytest.raises(ValueError, match="not a valid email"):
            validation.email_address(bad)


def test_countries_currencies_and_time_zones_are_iso_and_iana() -> None:
    assert validation.country_code("de") == "DE"
    assert validation.currency_code("eur") == "EUR"
    assert validation.time_zone("Europe/Berlin") == "Europe/Berlin"
    for check, bad in [
        (validation.country_code, "XX"),
        (validation.country_code, "DEU"),
        (validation.currency_code, "EURO"),
        (validation.currency_code, "XYZ"),
        (validation.time_zone, "Europe/Atlantis"),
        (validation.time_zone, "CEST+1"),
    ]:
        with pytest.raises(ValueError, match="is not an"):
            check(bad)


def test_websites_get_a_scheme_and_need_a_host() -> None:
    assert validation.website("example.com/de") == "https://example.com/de"
    for bad in ("not a site", "ftp://example.com", "https://-bad-.example.com", "localhost"):
        with pytest.raises(ValueError, match=r"web address|host name"):
            validation.website(bad)
