"""Rule delays written as text: `0`, `30m`, `4h`, `14d` (calendar) or `1bd` (business days)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

_PATTERN = re.compile(r"^\s*(\d+)\s*(m|h|d|bd)?\s*$")


class DelayUnit(StrEnum):
    MINUTES = "m"
    HOURS = "h"
    DAYS = "d"
    BUSINESS_DAYS = "bd"


@dataclass(frozen=True)
class Delay:
    amount: int
    unit: DelayUnit = DelayUnit.MINUTES

    @classmethod
    def parse(cls, text: str | int) -> Delay:
        match = _PATTERN.match(str(text))
        if match is None:
            raise ValueError(
                f"{text!r} is not a delay: write a whole number and a unit, "
                "m (minutes), h (hours), d (days) or bd (business days), e.g. 30m, 14d, 1bd"
            )
        amount, unit = int(match.group(1)), match.group(2) or "m"
        if amount and unit == "m" and match.group(2) is None:
            raise ValueError(f"{text!r}: a delay other than 0 needs a unit (m, h, d or bd)")
        return cls(amount, DelayUnit(unit))

    @property
    def business_days(self) -> bool:
        return self.unit is DelayUnit.BUSINESS_DAYS

    def as_timedelta(self) -> timedelta:
        """The calendar length (business days count as days when the window is off)."""
        per_unit = {
            DelayUnit.MINUTES: timedelta(minutes=1),
            DelayUnit.HOURS: timedelta(hours=1),
            DelayUnit.DAYS: timedelta(days=1),
            DelayUnit.BUSINESS_DAYS: timedelta(days=1),
        }[self.unit]
        return per_unit * self.amount

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"
