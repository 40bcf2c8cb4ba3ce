"""When to try a transiently failing email again: exponential backoff with jitter."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    max_seconds: float
    max_attempts: int

    def delay(self, attempts_made: int, *, rng: random.Random | None = None) -> timedelta:
        """The wait after `attempts_made` failed attempts.

        "Equal jitter": half of the exponential step is fixed, half random, so the
        delay still grows with each attempt while retries of many emails that
        failed together (a server outage) spread out instead of arriving at once.
        """
        step = min(self.max_seconds, self.base_seconds * 2 ** max(attempts_made - 1, 0))
        jitter = (rng or random).uniform(0, step / 2)  # not cryptographic
        return timedelta(seconds=step / 2 + jitter)

    def exhausted(self, attempts_made: int) -> bool:
        return attempts_made >= self.max_attempts

    def next_attempt_at(
        self, now: datetime, attempts_made: int, *, rng: random.Random | None = None
    ) -> datetime:
        return now + self.delay(attempts_made, rng=rng)
