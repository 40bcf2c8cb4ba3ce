"""A fresh stack (intake, followup, notification as processes) per fault test.

Leases are shorter than in production (10 s instead of 15-60 s) so that work a killed
process held is taken over within the test's bounds; the take-over path is the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient

from crm_devstack import SmtpSink
from support import wait_until

from ..stack import Stack
from .groups import Groups, groups_of, members, start_at_end
from .scenario import FAULT_ENV, SERVICES_UNDER_TEST, Scenario


@pytest_asyncio.fixture(loop_scope="session")
async def fault_stack(
    kafka_bootstrap: str,
    kafka_topics: list[str],
    mongo_uri: str,
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    stack = Stack(kafka_bootstrap, mongo_uri, smtp_sink.port, tmp_path)
    for name in SERVICES_UNDER_TEST:
        stack.add(name, **FAULT_ENV)
    groups = groups_of(stack)
    await _wait_for_groups_to_empty(kafka_bootstrap, groups)
    await start_at_end(kafka_bootstrap, groups)
    try:
        await stack.start(SERVICES_UNDER_TEST)
        yield stack
    finally:
        # The databases stay (own names per stack): dropping them costs SecantusDB up to a
        # minute per test, and nothing else reads them.
        await asyncio.to_thread(stack.stop)


@pytest_asyncio.fixture(loop_scope="session")
async def mongo_client(mongo_uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    """The test's own view of the services' databases (what is still in flight)."""
    async with AsyncMongoClient(mongo_uri, serverSelectionTimeoutMS=2000) as mongo:
        yield mongo


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Prints a figure line to the terminal even while pytest captures output."""

    def emit(line: str) -> None:
        with capsys.disabled():
            print(f"\n{line}", flush=True)

    return emit


@pytest.fixture
def scenario_for(
    fault_stack: Stack,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    kafka_bootstrap: str,
    smtp_sink: SmtpSink,
    report: Callable[[str], None],
) -> Callable[[str], Scenario]:
    """A scenario named after its fault, on this test's stack."""

    def scenario(fault: str) -> Scenario:
        return Scenario(fault, fault_stack, mongo_client, kafka_bootstrap, smtp_sink, report)

    return scenario


async def _wait_for_groups_to_empty(bootstrap: str, groups: Groups) -> None:
    """Where a stack's services share their consumer groups with other stacks on the
    broker (no group suffix), another stack still running (e2e's session stack, say)
    would take partitions and consume this test's events into its own databases."""

    async def empty() -> bool:
        return all([await members(bootstrap, group) == 0 for group in groups])

    try:
        await wait_until(empty, timeout=30, interval=0.5)
    except TimeoutError:
        counts = {group: await members(bootstrap, group) for group in groups}
        raise RuntimeError(
            f"other consumers are in this stack's groups {counts}: run the fault tests "
            "before any other stack starts on this broker (or in a session of their own)"
        ) from None
