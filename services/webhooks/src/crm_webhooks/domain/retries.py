"""When a failed delivery is tried again, when it is given up, when a subscription stops."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 5.0
    max_seconds: float = 3600.0
    max_attempts: int = 12
    disable_after_failures: int = 20

    def delay_after(self, attempts: int) -> timedelta:
        """Exponential backoff: base, 2×base, 4×base… capped (attempts counts the failed ones)."""
        exponent = min(max(attempts - 1, 0), 40)  # 2**40 × base is past any cap
        return timedelta(seconds=min(self.base_seconds * 2**exponent, self.max_seconds))

    def next_attempt_at(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts, or None: give up."""
        if attempts >= self.max_attempts:
            return None
        return now + self.delay_after(attempts)

    def should_disable(self, consecutive_failures: int) -> bool:
        return consecutive_failures >= self.disable_after_failures
