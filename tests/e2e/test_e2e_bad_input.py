"""Bad input over HTTP: schemathesis against intake's OpenAPI, and oversized requests.

Only two checks are asked of the generated requests: no 5xx, and every answer matches the
schema the service documents. Refusals (401, 404, 409, 412, 422, 428) are what bad input
should get, so the other checks (positive data accepted, negative data refused…) are not
applied: the API's rules go beyond what a schema can say (an owner must be a staff user).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import not_a_server_error, response_schema_conformance

from .stack import SERVICES, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CHECKS = [not_a_server_error, response_schema_conformance]
FUZZ = settings(
    max_examples=25,
    deadline=None,  # the services share two cores with the broker and the database
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    derandomize=True,
    print_blob=True,
)
MIB = 1024 * 1024
# An endpoint of each service that reads a JSON body.
WRITES = {
    "intake": "/api/v1/enterprises",
    "followup": "/api/v1/followups/e2e-no-such-followup/cancel",
    "notification": "/unsubscribe/e2e-no-such-token",  # public: no token needed to send it
    "webhooks": "/api/v1/webhooks",
}


@pytest.fixture(scope="module")
def intake_openapi(stack: Stack) -> Any:
    document = httpx.get(f"{stack.url('intake')}/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(document)


def test_intake_api_answers_bad_input_without_5xx_and_within_its_schema(
    intake_openapi: Any, stack: Stack
) -> None:
    """Valid and invalid requests for every operation (schemathesis' pytest plugin cannot load
    a schema from a fixture under pytest 9, so the strategies are driven here)."""
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in intake_openapi.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]
    for operation in operations:
        for mode in schemathesis.GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @FUZZ
            def call(case: schemathesis.Case) -> None:
                response = case.call_and_validate(
                    base_url=stack.url("intake"),
                    headers={"Authorization": f"Bearer {stack.admin_token}"},
                    checks=CHECKS,
                    timeout=30,
                )
                statuses[response.status_code] += 1

            try:
                call()
            except Unsatisfiable:
                pass  # nothing to make invalid (an operation without parameters)
            except Exception as error:  # every operation is tried; all findings reported
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert not failures, "\n\n".join(failures)
    # The requests got through authentication to the API's own answers, good and bad.
    assert statuses[200] + statuses[201] > 0, statuses
    assert statuses[422] > 0, statuses


def test_intake_api_as_a_state_machine(intake_openapi: Any, stack: Stack) -> None:
    """Sequences of calls, each using what earlier answers returned (ids, ETags)."""
    base = intake_openapi.as_state_machine()
    calls: list[str] = []

    class IntakeMachine(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            calls.append(case.operation.label)
            return {
                "base_url": stack.url("intake"),
                "headers": {"Authorization": f"Bearer {stack.admin_token}"},
                "timeout": 30,
            }

        def validate_response(self, response: Any, case: schemathesis.Case, **_: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    run_state_machine_as_test(
        IntakeMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
        ),
    )
    assert len(calls) >= 10, calls


@pytest.mark.parametrize("service", SERVICES)
async def test_a_huge_body_is_refused_early(stack: Stack, service: str) -> None:
    """16 MiB of JSON: refused with 413 before it is read, and the service stays up."""
    body = b'{"name": "' + b"x" * (16 * MIB) + b'"}'
    async with stack.client(service) as http:
        started = time.monotonic()
        answer = await http.post(
            WRITES[service],
            content=body,
            headers={"Content-Type": "application/json"},
        )
        took = time.monotonic() - started
        assert (await http.get("/healthz")).status_code == 200
    assert answer.status_code == 413, f"{service}: {answer.status_code} after {took:.1f} s"


@pytest.mark.parametrize("service", SERVICES)
async def test_a_huge_header_is_refused(stack: Stack, service: str) -> None:
    """A 64 KiB header: 431, never accepted, a 5xx or a hang (the service stays up)."""
    async with stack.client(service) as http:
        try:
            answer = await http.get("/healthz", headers={"X-Padding": "y" * (64 * 1024)})
            status: int | None = answer.status_code
        except httpx.TransportError:
            status = None  # reset without an answer (uvicorn past ~80 KiB): no status either
        assert (await http.get("/healthz")).status_code == 200
    assert status == 431, f"{service}: {status}"
