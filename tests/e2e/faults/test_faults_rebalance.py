"""Consumer-group rebalances in the middle of a burst: a second replica of followup and
of notification joins, is given partitions (and competes for follow-up claims and the
dispatch lease), then leaves with SIGTERM, handing them back. Nothing is lost or done
twice meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from support import wait_until

from ..stack import ServiceProcess, Stack
from .groups import group_of, partitions_held
from .scenario import BURST_SECONDS, Scenario

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.fault,
    pytest.mark.usefixtures("kafka_topics"),
    pytest.mark.timeout(900),
]


def client_id(replica: ServiceProcess) -> str:
    return f"crm-{replica.name}-{replica.env['CRM_KAFKA_CLIENT_ID_SUFFIX']}"


async def test_faults_replicas_joining_and_leaving_mid_burst_lose_and_double_nothing(
    fault_stack: Stack, scenario_for: Callable[[str], Scenario], kafka_bootstrap: str
) -> None:
    scenario = scenario_for("rebalance")
    replicas = [fault_stack.add_replica(name) for name in ("followup", "notification")]

    async def held() -> list[int]:
        return [
            await partitions_held(kafka_bootstrap, group_of(fault_stack, r.name), client_id(r))
            for r in replicas
        ]

    async def join_then_leave() -> None:
        for replica in replicas:
            replica.start()
        await asyncio.gather(*(replica.wait_ready() for replica in replicas))

        async def every_replica_holds_partitions() -> bool:
            return all(await held())

        await wait_until(every_replica_holds_partitions, timeout=90, interval=0.5)
        scenario.mark("joined")
        scenario.details["replica_partitions"] = await held()
        # Stay while a fifth of the burst goes through the widened groups.
        leave_at = scenario.burst.acknowledged + scenario.firms // 5

        async def time_to_leave() -> bool:
            return scenario.burst.acknowledged >= min(leave_at, scenario.firms)

        await wait_until(time_to_leave, timeout=BURST_SECONDS)
        scenario.mark("leaving")
        codes = await asyncio.gather(*(asyncio.to_thread(r.stop) for r in replicas))
        assert codes == [0, 0], f"replicas did not stop cleanly: {codes}"

    figures = await scenario.run(join_then_leave, when=scenario.acknowledged(0.1))
    scenario.assert_nothing_lost_or_doubled(figures)
