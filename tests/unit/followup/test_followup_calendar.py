"""Sending windows: business hours in the recipient's zone, holidays, adjusted working days."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_followup.domain.calendar import BusinessHours, SendingCalendar, WorkingDays
from crm_followup.domain.durations import Delay
from crm_followup.domain.frequency import FrequencyCap

pytestmark = pytest.mark.unit

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def calendar() -> SendingCalendar:
    return SendingCalendar(BusinessHours(time(9), time(17)))


def test_friday_evening_in_berlin_moves_to_monday_morning(calendar: SendingCalendar) -> None:
    friday_evening = datetime(2026, 11, 20, 19, 30, tzinfo=BERLIN)
    sent = calendar.next_send_time(friday_evening.astimezone(UTC), "Europe/Berlin", "DE")
    assert sent.astimezone(BERLIN) == datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)


def test_next_business_day_after_friday_is_monday_opening(calendar: SendingCalendar) -> None:
    friday_evening = datetime(2026, 11, 20, 19, 30, tzinfo=BERLIN).astimezone(UTC)
    due = calendar.add_business_days(friday_evening, 1, "Europe/Berlin", "DE")
    assert due.astimezone(BERLIN) == datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
    assert due.tzinfo is UTC


def test_inside_the_window_is_sent_as_is(calendar: SendingCalendar) -> None:
    tuesday_noon = datetime(2026, 11, 24, 12, 0, tzinfo=BERLIN).astimezone(UTC)
    assert calendar.next_send_time(tuesday_noon, "Europe/Berlin", "DE") == tuesday_noon
    assert calendar.in_window(tuesday_noon, "Europe/Berlin", "DE")
    closing = datetime(2026, 11, 24, 17, 0, tzinfo=BERLIN)
    assert not calendar.in_window(closing, "Europe/Berlin", "DE"), "the window closes at 17:00"


def test_german_unity_day_is_skipped(calendar: SendingCalendar) -> None:
    # 2 Oct 2025 is a Thursday; 3 Oct (Day of German Unity) a Friday holiday.
    thursday = datetime(2025, 10, 2, 10, 0, tzinfo=BERLIN).astimezone(UTC)
    due = calendar.add_business_days(thursday, 1, "Europe/Berlin", "DE")
    assert due.astimezone(BERLIN) == datetime(2025, 10, 6, 9, 0, tzinfo=BERLIN)


def test_shanghai_skips_national_day_week(calendar: SendingCalendar) -> None:
    # 2026: 1–7 October off; the 8th (Thursday) is the first working day.
    before = datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI).astimezone(UTC)
    due = calendar.add_business_days(before, 1, "Asia/Shanghai", "CN")
    assert due.astimezone(SHANGHAI) == datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)
    holiday_noon = datetime(2026, 10, 5, 12, 0, tzinfo=SHANGHAI)
    assert not calendar.in_window(holiday_noon, "Asia/Shanghai", "CN")


def test_chinese_adjusted_working_saturday_is_a_business_day(calendar: SendingCalendar) -> None:
    # 调休: Saturday 10 October 2026 is a working day in China, not in Germany.
    friday = datetime(2026, 10, 9, 11, 0, tzinfo=SHANGHAI).astimezone(UTC)
    due = calendar.add_business_days(friday, 1, "Asia/Shanghai", "CN")
    assert due.astimezone(SHANGHAI) == datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI)
    assert WorkingDays().is_working_day(date(2026, 10, 10), "CN")
    assert not WorkingDays().is_working_day(date(2026, 10, 10), "DE")
    saturday_morning = datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI)
    assert calendar.in_window(saturday_morning, "Asia/Shanghai", "CN")


def test_unknown_country_falls_back_to_monday_to_friday(calendar: SendingCalendar) -> None:
    days = WorkingDays()
    assert days.is_working_day(date(2026, 11, 23), "XX")
    assert not days.is_working_day(date(2026, 11, 22), None)


def test_business_hours_off_sends_at_the_delay() -> None:
    calendar = SendingCalendar(BusinessHours(enabled=False))
    sunday_night = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert calendar.next_send_time(sunday_night, "Europe/Berlin", "DE") == sunday_night
    assert calendar.add_business_days(sunday_night, 1, "Europe/Berlin", "DE") == (
        sunday_night + timedelta(days=1)
    )
    assert calendar.in_window(sunday_night, "Europe/Berlin", "DE")


def test_custom_hours_and_invalid_hours() -> None:
    calendar = SendingCalendar(BusinessHours(time(8), time(12)))
    at_1pm = datetime(2026, 11, 24, 13, 0, tzinfo=BERLIN)
    assert calendar.next_send_time(at_1pm, "Europe/Berlin", "DE").astimezone(BERLIN) == (
        datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN)
    )
    with pytest.raises(ValueError, match="start before"):
        BusinessHours(time(17), time(9))


def test_frequency_cap_defers_until_the_oldest_email_leaves_the_window() -> None:
    cap = FrequencyCap(max_emails=2, window=timedelta(days=7))
    now = datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert cap.next_allowed([], now) == now
    one = [now - timedelta(days=1)]
    assert cap.next_allowed(one, now) == now
    two = [now - timedelta(days=3), now - timedelta(days=1)]
    assert cap.next_allowed(two, now) == now + timedelta(days=4)
    old = [now - timedelta(days=9), now - timedelta(days=8)]
    assert cap.next_allowed(old, now) == now
    assert cap.remember(two, now) == [now - timedelta(days=1), now]
    assert FrequencyCap(max_emails=0).next_allowed(two * 5, now) == now


@pytest.mark.parametrize(
    ("text", "length", "business"),
    [("0", timedelta(0), False), ("30m", timedelta(minutes=30), False),
     ("4h", timedelta(hours=4), False), ("14d", timedelta(days=14), False),
     ("1bd", timedelta(days=1), True)],
)  # fmt: skip
def test_delays_parse(text: str, length: timedelta, business: bool) -> None:
    delay = Delay.parse(text)
    assert delay.as_timedelta() == length
    assert delay.business_days is business
    assert str(Delay.parse(str(delay))) == str(delay)


@pytest.mark.parametrize("text", ["5", "-1d", "1w", "soon", ""])
def test_bad_delays_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="delay"):
        Delay.parse(text)
