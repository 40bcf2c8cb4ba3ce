"""What every benchmark shares: the components it runs on and how figures are reported.

A benchmark module exposes `async def run(env: BenchEnv) -> list[Figure]`. Each
figure is measured next to its baseline in the same run, on the same broker and
database, and reported as a ratio: these machines are shared and noisy, so only
ratios travel between runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline_name: str | None = None
    baseline_value: float | None = None
    goal: str | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_value:
            return self.value / self.baseline_value
        return None

    def row(self) -> str:
        ratio = f"{self.ratio:.2f}×" if self.ratio is not None else "—"
        baseline = (
            f"{self.baseline_name}: {self.baseline_value:,.0f} {self.unit}"
            if self.baseline_value is not None
            else "—"
        )
        return (
            f"| {self.name} | {self.value:,.1f} {self.unit} | {baseline} | {ratio} "
            f"| {self.goal or '—'} | {self.note} |"
        )


@dataclass
class BenchEnv:
    kafka_bootstrap: str
    mongo_uri: str
    workdir: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def settings_env(self, **overrides: str) -> dict[str, str]:
        """`CRM_*` variables that point a service process at the benchmark's components."""
        return {
            "CRM_KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "CRM_MONGO_URI": self.mongo_uri,
            "CRM_ENV": "test",
            "CRM_LOG_LEVEL": "WARNING",
            **overrides,
        }


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started

    def rate(self, count: int) -> float:
        return count / self.seconds if self.seconds else float("inf")


async def until(condition: Callable[[], Awaitable[bool]], *, limit: float) -> None:
    """Wait for work another task or process does; TimeoutError after `limit` seconds."""
    async with asyncio.timeout(limit):
        while not await condition():  # noqa: ASYNC110 - nothing to await but the condition
            await asyncio.sleep(0.2)
