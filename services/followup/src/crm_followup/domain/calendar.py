"""When an email may go out: business hours on working days in the recipient's time zone.

Working days come from the `holidays` library per country: its weekend, its
public holidays and, where it knows them, adjusted working days (China's 调休,
weekend days that are working days). A country the library does not know falls
back to Monday–Friday without holidays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

# No sending window is further away than this many days (even a long holiday
# run plus weekends); a loop that goes further has a bug, not a calendar.
_MAX_DAYS_AHEAD = 60
DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=256)
def zone(name: str | None) -> ZoneInfo:
    """The IANA zone, or Shanghai's when the name is missing or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


class WorkingDays:
    """Working days per country; one holiday table per country, filled year by year."""

    def __init__(self) -> None:
        self._tables: dict[str, holidays.HolidayBase | None] = {}

    def _table(self, country: str | None) -> holidays.HolidayBase | None:
        code = (country or "").upper()
        if code not in self._tables:
            try:
                self._tables[code] = holidays.country_holidays(code) if code else None
            except NotImplementedError:
                self._tables[code] = None
        return self._tables[code]

    def is_working_day(self, day: date, country: str | None) -> bool:
        table = self._table(country)
        if table is None:
            return day.weekday() < 5
        # is_working_day honours the country's weekend, its holidays and its
        # weekend working days (looked up lazily for the year of `day`).
        return bool(table.is_working_day(day))


@dataclass(frozen=True)
class BusinessHours:
    start: time = time(9, 0)
    end: time = time(17, 0)
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.enabled and self.start >= self.end:
            raise ValueError(f"business hours must start before they end ({self.start}–{self.end})")


@dataclass
class SendingCalendar:
    """Places send times into the recipient's sending window.

    With business hours disabled every instant is sendable and business days
    count as calendar days: follow-ups go out at exactly their rule delay.
    """

    hours: BusinessHours = field(default_factory=BusinessHours)
    working_days: WorkingDays = field(default_factory=WorkingDays)

    def in_window(self, at: datetime, timezone: str | None, country: str | None) -> bool:
        if not self.hours.enabled:
            return True
        local = at.astimezone(zone(timezone))
        return (
            self.working_days.is_working_day(local.date(), country)
            and self.hours.start <= local.time() < self.hours.end
        )

    def next_send_time(
        self, earliest: datetime, timezone: str | None, country: str | None
    ) -> datetime:
        """`earliest` if it is inside a window, else the start of the next window (UTC)."""
        if not self.hours.enabled:
            return earliest
        tz = zone(timezone)
        local = earliest.astimezone(tz)
        day = local.date()
        for _ in range(_MAX_DAYS_AHEAD):
            if self.working_days.is_working_day(day, country):
                opens = _at(day, self.hours.start, tz)
                if local < opens:
                    return opens.astimezone(earliest.tzinfo)
                if local < _at(day, self.hours.end, tz):
                    return earliest
            day += timedelta(days=1)
        raise ValueError(
            f"no working day within {_MAX_DAYS_AHEAD} days after {earliest} ({country})"
        )

    def add_business_days(
        self, anchor: datetime, days: int, timezone: str | None, country: str | None
    ) -> datetime:
        """The opening of the `days`-th working day after the anchor's local date."""
        if not self.hours.enabled:
            return anchor + timedelta(days=days)
        if days <= 0:
            return self.next_send_time(anchor, timezone, country)
        tz = zone(timezone)
        day = anchor.astimezone(tz).date()
        counted = 0
        for _ in range(days * _MAX_DAYS_AHEAD):
            day += timedelta(days=1)
            if self.working_days.is_working_day(day, country):
                counted += 1
                if counted == days:
                    return _at(day, self.hours.start, tz).astimezone(anchor.tzinfo)
        raise ValueError(f"could not count {days} working days after {anchor} ({country})")

    def opening_of(self, day: date, timezone: str | None) -> datetime:
        """The start of business hours on `day` in the zone (a date-only anchor)."""
        return _at(day, self.hours.start, zone(timezone))


def _at(day: date, clock_time: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=tz)
