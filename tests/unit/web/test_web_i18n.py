"""Choosing the page language, and formatting dates, numbers and money per locale."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from crm_intake.entrypoints.web.i18n import (
    Formats,
    choose_language,
    from_accept_language,
    load_translations,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("fr-FR,fr;q=0.9,zh-CN;q=0.8,en;q=0.5", "zh"),
        ("en;q=0.3, zh-Hans;q=0.9", "zh"),
        ("zh_CN", "zh"),
        ("fr, it", None),
        ("de;q=0, en", "en"),
        ("", None),
        (None, None),
        ("de;q=banana, zh", "zh"),
    ],
)
def test_accept_language_gives_the_most_wanted_supported_language(
    header: str | None, language: str | None
) -> None:
    assert from_accept_language(header) == language


def test_the_switch_beats_the_user_setting_which_beats_the_browser() -> None:
    assert choose_language("zh", "de", "en") == "zh"
    assert choose_language(None, "de", "zh") == "de"
    assert choose_language("xx", None, "zh-CN") == "zh"
    assert choose_language(None, None, "fr") == "en"


def test_dates_numbers_and_money_follow_the_locale() -> None:
    de, zh, en = Formats("de"), Formats("zh"), Formats("en")
    assert de.date(date(2026, 3, 9)) == "09.03.2026"
    assert zh.date(date(2026, 3, 9)) == "2026年3月9日"
    assert en.date("2026-03-09") == "Mar 9, 2026"
    assert de.number(1234567.5) == "1.234.567,5"
    assert en.number(1234567.5) == "1,234,567.5"
    assert de.money(Decimal("1500000.50"), "EUR") == "1.500.000,50\xa0€"
    assert zh.money("2000000", "CNY") == "¥2,000,000.00"
    assert de.country("CN") == "China"
    assert zh.country("DE") == "德国"


def test_times_are_shown_in_shanghai_time() -> None:
    moment = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)  # 07:30 the next day in Shanghai
    assert "10.03.2026" in Formats("de").datetime(moment)
    assert "07:30" in Formats("de").datetime(moment)
    assert Formats("de").date(moment) == "10.03.2026"


def test_catalogues_compile_and_translate() -> None:
    translations = load_translations()
    assert translations["de"].gettext("Log first contact") == "Erstkontakt erfassen"
    assert translations["zh"].gettext("Log first contact") == "登记首次接触"
    assert translations["en"].gettext("Log first contact") == "Log first contact"
