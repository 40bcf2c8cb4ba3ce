"""The `crm-intake` process with a token from `crm-intake-admin`: create, announce, revoke."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from crm_shared.contracts.topics import LIFECYCLE
from support import TopicReader, unique, wait_until

from .conftest import BASE, firm_body

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm_intake.entrypoints.cli.admin", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _start_intake(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crm_intake.entrypoints.main"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def test_the_intake_process_serves_the_api_to_a_cli_issued_token(
    kafka_bootstrap: str, mongo_uri: str
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CRM_MONGO_URI": mongo_uri,
        "CRM_INTAKE_PORT": str(port),
        "CRM_INTAKE_DATABASE": unique("t_intake_proc").replace("-", "_"),
        "CRM_ENV": "test",
        "CRM_API_TOKEN_SECRET": "process-test-secret-0123456789",
        "CRM_OUTBOX_POLL_SECONDS": "0.05",
    }
    env.pop("CRM_BOOTSTRAP_ADMIN_TOKEN", None)
    weak = _admin(
        env,
        "create-user",
        "Li",
        "--role",
        "officer",
        "--name",
        "Li",
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.returncode == 1
    assert "username: use 2-64 lower-case letters" in weak.stderr
    assert "password: String should have at least 12 characters" in weak.stderr
    made = _admin(
        env,
        "create-user",
        "li.wei",
        "--role",
        "manager",
        "--name",
        "Li Wei",
        "--password-stdin",
        stdin="a long pass phrase\n",
    )
    assert made.returncode == 0, made.stderr
    taken = _admin(
        env,
        "create-user",
        "li.wei",
        "--role",
        "officer",
        "--name",
        "Li",
        "--password-stdin",
        stdin="a long pass phrase\n",
    )
    assert "exists already" in taken.stderr
    assert "no active staff user" in _admin(env, "issue-token", "nobody").stderr
    issued = _admin(env, "issue-token", "li.wei", "--description", "process test")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    token_id = token.split(".")[1]

    process = _start_intake(env)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:

            async def ready() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"intake exited: {process.stdout.read()}")
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(ready, timeout=90, interval=0.3)
            assert (await http.post(BASE, json=firm_body())).status_code == 401
            created = await http.post(BASE, json=firm_body(), headers=headers)
            assert created.status_code == 201, created.text
            firm_id = created.json()["id"]
            assert (await http.get("/api/v1/me", headers=headers)).json() == {
                "id": "li.wei",
                "role": "manager",
            }
            openapi = (await http.get("/openapi.json")).json()
            assert "/api/v1/enterprises/{enterprise_id}/merge" in openapi["paths"]

            async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as reader:
                await reader.read_until(lambda records: bool(reader.keyed(firm_id)))
            event = json.loads(reader.keyed(firm_id)[0].value)
            assert (event["type"], event["data"]["actor"]) == (
                "warmyang.enterprise.created.v1",
                "li.wei",
            )

            assert _admin(env, "revoke-token", token_id).returncode == 0

            async def refused() -> bool:  # revoked elsewhere: within CRM_INTAKE_TOKEN_RECHECK
                return (await http.get(f"{BASE}/{firm_id}", headers=headers)).status_code == 401

            await wait_until(refused, timeout=10, interval=0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
