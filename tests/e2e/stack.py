"""The whole system as processes: each service started as `crm-<name>` on a free port.

Used by the end-to-end, fault and browser tests. Only HTTP, Kafka, MongoDB and SMTP
cross this boundary: the tests import no service internals.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from crm_devstack import free_port

SERVICES = ("intake", "followup", "notification", "webhooks")
ADMIN_TOKEN = "e2e-bootstrap-admin-token-" + uuid.uuid4().hex
API_TOKEN_SECRET = "e2e-token-secret-0123456789abcdef"
# Known to the tests so they can mint an expired (authentic) unsubscribe link.
UNSUBSCRIBE_SECRET = "e2e-unsubscribe-secret-0123456789abcdef"


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    replica: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"crm_{self.name}.entrypoints.main"],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self, timeout: float = 90) -> None:
        async with httpx.AsyncClient(timeout=3) as http:
            async with asyncio.timeout(timeout):
                while True:
                    if self.process is not None and self.process.poll() is not None:
                        raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
                    try:
                        if (await http.get(f"{self.url}/readyz")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no graceful shutdown."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 60) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    kafka_bootstrap: str
    mongo_uri: str
    smtp_port: int
    workdir: Path
    admin_token: str = ADMIN_TOKEN
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    replicas: list[ServiceProcess] = field(default_factory=list)

    def env_for(self, name: str, port: int) -> dict[str, str]:
        upper = name.upper()
        return {
            "CRM_ENV": "test",
            "CRM_LOG_LEVEL": "INFO",
            "CRM_KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "CRM_MONGO_URI": self.mongo_uri,
            "CRM_BOOTSTRAP_ADMIN_TOKEN": self.admin_token,
            "CRM_API_TOKEN_SECRET": API_TOKEN_SECRET,
            f"CRM_{upper}_PORT": str(port),
            # Databases of their own per test session: several stacks may share a server.
            f"CRM_{upper}_DATABASE": f"e2e_{self.suffix}_{name}",
            "CRM_SMTP_PORT": str(self.smtp_port),
            "CRM_FOLLOWUP_BUSINESS_HOURS": "off",
            "CRM_OUTBOX_POLL_SECONDS": "0.05",
            "CRM_CONSUMER_RETRY_BASE_SECONDS": "0.05",
            "CRM_SHUTDOWN_GRACE_SECONDS": "10",
            # Unsubscribe links in emails must point at this stack's notification service.
            "CRM_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "CRM_UNSUBSCRIBE_SECRET": UNSUBSCRIBE_SECRET,
        }

    def add(self, name: str, **extra_env: str) -> ServiceProcess:
        port = free_port()
        env = {**self.env_for(name, port), **extra_env}
        service = ServiceProcess(name, port, env, self.workdir / f"{name}.log")
        self.services[name] = service
        return service

    def add_replica(self, name: str) -> ServiceProcess:
        """A second process of `name` on the same database and consumer group."""
        primary = self.services[name]
        port = free_port()
        env = {**primary.env, f"CRM_{name.upper()}_PORT": str(port)}
        env["CRM_KAFKA_CLIENT_ID_SUFFIX"] = f"r{len(self.replicas) + 1}"
        replica = ServiceProcess(
            name, port, env, self.workdir / f"{name}-r{len(self.replicas) + 1}.log", replica=1
        )
        self.replicas.append(replica)
        return replica

    async def start(self, names: tuple[str, ...] = SERVICES) -> None:
        for name in names:
            if name not in self.services:
                self.add(name)
            self.services[name].start()
        await asyncio.gather(*(self.services[n].wait_ready() for n in names))

    async def restart(self, name: str) -> None:
        service = self.services[name]
        service.start()
        await service.wait_ready()

    def stop(self) -> None:
        for process in [*self.replicas, *self.services.values()]:
            process.stop()

    def url(self, name: str) -> str:
        return self.services[name].url

    def log_tails(self, lines: int = 40) -> str:
        """The end of every process's log, for a failing test's message."""
        return "\n".join(
            f"--- {p.log_path.name}\n{p.log_tail(lines)}"
            for p in [*self.services.values(), *self.replicas]
        )

    def client(self, name: str, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        return httpx.AsyncClient(base_url=self.url(name), headers=headers, timeout=30)

    def database(self, name: str) -> str:
        return self.services[name].env[f"CRM_{name.upper()}_DATABASE"]

    def intake_admin(self, *args: str, stdin: str | None = None) -> str:
        """Run `crm-intake-admin` (staff users, API tokens) against this stack's intake."""
        script = Path(sys.executable).with_name("crm-intake-admin")
        result = subprocess.run(
            [str(script), *args],
            env={**os.environ, **self.services["intake"].env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"crm-intake-admin {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout.strip()
