"""A per-contact frequency cap: at most `max_emails` non-transactional emails per window."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class FrequencyCap:
    max_emails: int = 2
    window: timedelta = timedelta(days=7)

    @property
    def enabled(self) -> bool:
        return self.max_emails > 0 and self.window > timedelta(0)

    def next_allowed(self, sent_at: Iterable[datetime], at: datetime) -> datetime:
        """The earliest instant ≥ `at` at which one more email stays within the cap."""
        if not self.enabled:
            return at
        recent = sorted(sent for sent in sent_at if sent > at - self.window)
        if len(recent) < self.max_emails:
            return at
        # Once the oldest email that still counts leaves the window, there is room.
        return max(at, recent[len(recent) - self.max_emails] + self.window)

    def remember(self, sent_at: Iterable[datetime], now: datetime) -> list[datetime]:
        """The send times worth keeping after sending at `now` (older ones never count again)."""
        kept = [sent for sent in sent_at if sent > now - self.window]
        return sorted([*kept, now])[-max(self.max_emails, 1) :]
