"""Field validators: each returns the normalised value or raises ValueError with a message.

They raise ValueError so pydantic models (HTTP bodies, form data, CSV rows) turn them into
per-field errors; they are plain functions, usable anywhere.
"""

import re
import zoneinfo
from functools import cache
from urllib.parse import urlsplit

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

# GB 32100-2015: 18 characters from this alphabet (no I, O, S, V, Z), the last a check character.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def credit_code_check_character(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a credit code."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def unified_social_credit_code(value: str) -> str:
    """A valid 统一社会信用代码 (GB 32100-2015), upper-cased, spaces removed."""
    code = re.sub(r"[\s-]", "", value).upper()
    if len(code) != 18:
        raise ValueError(f"a unified social credit code has 18 characters, not {len(code)}")
    wrong = sorted({char for char in code if char not in CREDIT_CODE_ALPHABET})
    if wrong:
        raise ValueError(
            f"a unified social credit code cannot contain {', '.join(wrong)} "
            "(letters I, O, S, V and Z are never used)"
        )
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        raise ValueError(f"checksum mismatch: the 18th character should be {expected}")
    return code


def email_address(value: str) -> str:
    """A syntactically valid address (no DNS look-up), with its domain normalised."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from None
    return result.normalized


def phone_number(value: str, region: str | None = None) -> str:
    """E.164 form of a phone number; without a leading + it is read in `region` (ISO alpha-2)."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as error:
        hint = "" if region else " (write it in international form, starting with +)"
        raise ValueError(f"not a phone number: {error._msg}{hint}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def country_code(value: str) -> str:
    """An ISO 3166-1 alpha-2 code (upper-cased)."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. DE, CN)")
    return code


def currency_code(value: str) -> str:
    """An ISO 4217 currency code (upper-cased)."""
    code = value.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, CNY)")
    return code


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone(value: str) -> str:
    """An IANA time zone name such as Europe/Berlin."""
    name = value.strip()
    if name not in _time_zones():
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Europe/Berlin)")
    return name


def website(value: str) -> str:
    """A web address with a plausible host; `example.com` is read as `https://example.com`."""
    text = value.strip()
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or "." not in host:
        raise ValueError(f"{value!r} is not a web address")
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"{value!r} has an invalid host name") from None
    if not all(_HOST_LABEL.match(label) for label in ascii_host.split(".")):
        raise ValueError(f"{value!r} has an invalid host name")
    return text


def username(value: str) -> str:
    """A staff user name: it doubles as the user's id in owners and audit entries."""
    name = value.strip()
    if not _USERNAME.match(name):
        raise ValueError(
            "use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter"
        )
    return name


def non_blank(value: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise ValueError("must not be blank")
    return text
