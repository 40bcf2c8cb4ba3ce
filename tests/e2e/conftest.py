"""The whole system for end-to-end tests: every service as a process on the session's infra.

Fixtures:
    stack  -> stack.Stack    intake, followup, notification and webhooks, started once
    staff  -> StaffTokens    an officer and a manager (users and API tokens, via crm-intake-admin)

The tests talk to the stack only over HTTP, Kafka, MongoDB and SMTP.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient

from crm_devstack import SmtpSink

from .stack import SERVICES, Stack

# Follow-up's "now" runs this far ahead: a thank-you due "the next business day" (one day
# with CRM_FOLLOWUP_BUSINESS_HOURS=off) is due at once; a 3-business-day aftercare
# introduction or a 14-day reminder is not.
FOLLOWUP_CLOCK_OFFSET_SECONDS = 26 * 3600
STAFF_PASSWORD = "e2e-correct-horse-battery"


# Package scope: the stack's processes join the services' real consumer groups, so they
# must be gone before the integration tests start processes of their own in those groups.
@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def stack(
    kafka_bootstrap: str,
    kafka_topics: list[str],
    mongo_uri: str,
    smtp_sink: SmtpSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    del kafka_topics  # created before any service starts
    system = Stack(kafka_bootstrap, mongo_uri, smtp_sink.port, tmp_path_factory.mktemp("stack"))
    system.add("followup", CRM_FOLLOWUP_CLOCK_OFFSET_SECONDS=str(FOLLOWUP_CLOCK_OFFSET_SECONDS))
    system.add("webhooks", CRM_WEBHOOKS_POLL_SECONDS="0.1", CRM_WEBHOOKS_RETRY_BASE_SECONDS="0.2")
    try:
        await system.start()
        yield system
    finally:
        await asyncio.to_thread(system.stop)
        # The session's server outlives us: leave it as small as we found it.
        async with AsyncMongoClient(mongo_uri, serverSelectionTimeoutMS=5000) as mongo:
            for name in SERVICES:
                with contextlib.suppress(Exception):
                    await mongo.drop_database(system.database(name))


@dataclass(frozen=True)
class StaffTokens:
    officer_user: str
    officer: str
    manager_user: str
    manager: str
    password: str = STAFF_PASSWORD


@pytest.fixture(scope="package")
def staff(stack: Stack) -> StaffTokens:
    """Staff users and their API tokens, made the way an operator makes them (the CLI)."""
    tokens = {}
    for role in ("officer", "manager"):
        user = f"e2e.{role}.{stack.suffix}"
        stack.intake_admin(
            "create-user", user, "--role", role, "--name", f"E2E {role.title()}",
            "--language", "de", "--password-stdin",
            stdin=STAFF_PASSWORD + "\n",
        )  # fmt: skip
        tokens[role] = stack.intake_admin("issue-token", user, "--description", "e2e tests")
    return StaffTokens(
        officer_user=f"e2e.officer.{stack.suffix}",
        officer=tokens["officer"],
        manager_user=f"e2e.manager.{stack.suffix}",
        manager=tokens["manager"],
    )
