"""Each service starts on real Kafka and MongoDB, serves its ops endpoints, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from support import unique, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]

SERVICES = ["intake", "followup", "notification", "webhooks"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(service: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", f"crm_{service}.entrypoints.main"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("service", SERVICES)
async def test_service_serves_ops_endpoints_and_stops_on_sigterm(
    service: str, kafka_bootstrap: str, mongo_uri: str
) -> None:
    port = _free_port()
    process = _start(
        service,
        {
            "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "CRM_MONGO_URI": mongo_uri,
            f"CRM_{service.upper()}_PORT": str(port),
            f"CRM_{service.upper()}_DATABASE": unique(f"t_{service}").replace("-", "_"),
            "CRM_ENV": "test",
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:

            async def ready() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"{service} exited: {process.stdout.read()}")
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(ready, timeout=90, interval=0.3)
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            readiness = (await http.get("/readyz")).json()
            assert readiness["checks"] == {"mongodb": "ok", "kafka": "ok"}
            metrics = await http.get("/metrics")
            assert "crm_events_consumed_total" in metrics.text
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert '"service stopped"' in output


@pytest.mark.parametrize("service", SERVICES)
def test_a_wrong_setting_stops_the_service_with_its_name(service: str) -> None:
    process = _start(
        service, {f"CRM_{service.upper()}_PORT": "eighty", "CRM_MONGO_URI": "redis://x"}
    )
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert f"CRM_{service.upper()}_PORT" in output
    assert "CRM_MONGO_URI" in output
