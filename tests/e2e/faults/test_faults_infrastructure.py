"""The broker or the database goes down in the middle of a burst, and comes back.

A SIGKILL, not a clean stop: the Kafka broker loses its connections and in-flight
requests; SecantusDB (fsync on commit) loses every open transaction. Requests that
fail meanwhile are retried by the client with their Idempotency-Key. Afterwards every
firm exists once, every lifecycle event is published, every welcome email is sent once.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crm_devstack import KafkaNode, MongoNode
from support import wait_until

from ..stack import Stack
from .burst import PATH, FirstContact
from .scenario import Scenario

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.fault,
    pytest.mark.usefixtures("kafka_topics"),
    pytest.mark.timeout(900),
]


async def test_faults_kafka_broker_restart_mid_burst_loses_and_doubles_nothing(
    kafka_node: KafkaNode,
    scenario_for: Callable[[str], Scenario],
) -> None:
    scenario = scenario_for("kafka_restart")

    async def kill_then_start() -> None:
        kafka_node.kill()
        try:
            await scenario.outage_seen()
        finally:  # the session's later tests need their broker back, whatever happened
            await kafka_node.start(timeout=120)

    figures = await scenario.run(kill_then_start, when=scenario.acknowledged(0.3))
    scenario.assert_nothing_lost_or_doubled(figures)


async def test_faults_mongodb_restart_mid_burst_loses_and_doubles_nothing(
    mongo_node: MongoNode,
    scenario_for: Callable[[str], Scenario],
) -> None:
    scenario = scenario_for("mongo_restart")

    async def kill_then_start() -> None:
        mongo_node.kill()
        try:
            # Down until the services and the client both felt it: requests fail, and
            # are sent again with their Idempotency-Key.
            await scenario.outage_seen(by_clients=True)
        finally:
            await mongo_node.start(timeout=60)

    figures = await scenario.run(kill_then_start, when=scenario.acknowledged(0.3))
    scenario.assert_nothing_lost_or_doubled(figures)


async def test_faults_mongodb_outage_is_answered_503_problem_then_the_retry_succeeds(
    mongo_node: MongoNode, fault_stack: Stack
) -> None:
    """While the database is away a client must be told "try again" (503 problem+json,
    Retry-After), not "the server is broken" (a bare 500); the same request sent again
    with its Idempotency-Key once the database is back creates the firm."""
    firm = FirstContact(0, "outage")
    headers = {"Idempotency-Key": firm.key}
    async with fault_stack.client("intake") as http:
        mongo_node.kill()
        try:
            during = await http.post(PATH, json=firm.body(), headers=headers)
        finally:
            await mongo_node.start(timeout=60)
        answers: list[int] = []

        async def accepted() -> bool:
            answers.append((await http.post(PATH, json=firm.body(), headers=headers)).status_code)
            return answers[-1] == 201

        await wait_until(accepted, timeout=60, interval=0.5)
    assert during.status_code == 503, f"{during.status_code} {during.text[:300]}"
    assert during.headers["content-type"].startswith("application/problem+json"), during.text
    assert during.json()["status"] == 503
    assert int(during.headers["Retry-After"]) > 0
    assert set(answers) <= {503, 201}, answers
