"""SIGKILL of one service in the middle of a burst of first contacts, then a restart.

Whatever the victim was doing (answering a request, relaying its outbox, applying an
event, claiming a follow-up, sending an email), nothing acknowledged is lost and
nothing is done twice: every firm exists once, both of its lifecycle events are
published (redeliveries allowed), and its contact gets exactly one welcome email.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ..stack import Stack
from .scenario import Scenario

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.fault,
    pytest.mark.usefixtures("kafka_topics"),
    pytest.mark.timeout(900),
]


@pytest.mark.parametrize("victim", ["intake", "followup", "notification"])
async def test_faults_sigkill_mid_burst_loses_and_doubles_nothing(
    victim: str,
    fault_stack: Stack,
    scenario_for: Callable[[str], Scenario],
) -> None:
    scenario = scenario_for(f"sigkill_{victim}")

    async def kill_then_restart() -> None:
        fault_stack.services[victim].kill()
        await fault_stack.restart(victim)

    a_third_acknowledged = scenario.acknowledged(0.3)
    if victim == "intake":
        when = a_third_acknowledged
    else:
        # Downstream of intake: kill it once it is busy with the burst's welcomes.
        def when() -> bool:
            return a_third_acknowledged() and scenario.emails() >= 10

    figures = await scenario.run(kill_then_restart, when=when)
    scenario.assert_nothing_lost_or_doubled(figures)
