"""Languages of the staff pages: message catalogues, choosing a language, locale formats.

The catalogues are the committed `.po` files under `crm_intake/locales/`; they are compiled
in memory when the service starts (no `.mo` build step, so a compiled file can never be
stale). English is the source language: its msgids are the English text.
"""

import gettext
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

LANGUAGES: tuple[str, ...] = ("en", "de", "zh")
DEFAULT_LANGUAGE = "en"
# Each language names itself in the switcher, whatever the page's language.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "zh": "简体中文"}
HTML_LANG = {"en": "en", "de": "de", "zh": "zh-Hans"}
DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
# The service desk sits in Shanghai: times on the pages are its local times.
DESK_TIMEZONE = ZoneInfo("Asia/Shanghai")


def catalogue_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalogue(language: str) -> Translations:
    """The `.po` file of `language`, compiled to a gettext catalogue (fuzzy entries left out)."""
    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def load_translations() -> dict[str, gettext.NullTranslations]:
    translations: dict[str, gettext.NullTranslations] = {
        DEFAULT_LANGUAGE: gettext.NullTranslations()
    }
    for language in LANGUAGES:
        if language != DEFAULT_LANGUAGE:
            translations[language] = compile_catalogue(language)
    return translations


def supported(language: str | None) -> str | None:
    """`de-AT`, `zh_CN`, `ZH-Hans` -> the language we offer for it, if any."""
    if not language:
        return None
    primary = language.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (RFC 9110 quality values)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = supported(tag)
        if language and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def choose_language(
    chosen: str | None, user_setting: str | None, accept_language: str | None
) -> str:
    """The switcher's choice first, then the user's setting, then the browser's wish."""
    return (
        supported(chosen)
        or supported(user_setting)
        or from_accept_language(accept_language)
        or DEFAULT_LANGUAGE
    )


@dataclass(frozen=True)
class Formats:
    """Dates, numbers, money and country names as people of one locale write them."""

    language: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def date(self, value: date | str | None) -> str:
        if value in (None, ""):
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value)
        if isinstance(value, datetime):
            value = value.astimezone(DESK_TIMEZONE).date()
        return format_date(value, format="medium", locale=self.locale)

    def datetime(self, value: datetime | str | None) -> str:
        if value in (None, ""):
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return format_datetime(value, format="medium", tzinfo=DESK_TIMEZONE, locale=self.locale)

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def money(self, amount: Decimal | str | float, currency: str) -> str:
        return format_currency(Decimal(str(amount)), currency, locale=self.locale)

    def listing(self, items: list[str]) -> str:
        """`a, b and c` / `a, b und c` / `a、b和c`."""
        return format_list(items, locale=self.locale)

    def country(self, code: str | None) -> str:
        if not code:
            return ""
        return self.locale.territories.get(code.upper(), code)

    def countries(self) -> list[tuple[str, str]]:
        """(code, name) of every country, sorted by the name in this language."""
        names = self.locale.territories
        codes = [code for code in names if len(code) == 2 and code.isalpha() and code != "ZZ"]
        return sorted(((code, names[code]) for code in codes), key=lambda pair: pair[1])
