"""A burst of first contacts through intake's HTTP API, as a careful client sends them.

Each firm has its own `Idempotency-Key`. A request that fails in a way that may be
transient (the connection dropped, intake restarting, the database away: 5xx) is sent
again with the same key and the same body until intake acknowledges it with 201, so
a firm acknowledged once is the firm, and a retry of a request that had in fact been
committed is answered from the key (`Idempotent-Replayed`), never doubled.
Any other answer (4xx) is a refusal the client cannot fix: the burst stops on it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

PATH = "/api/v1/enterprises"
LANGUAGES = ("en", "de", "zh")
TIMEZONES = ("Europe/Berlin", "Asia/Shanghai", "Europe/Vienna")
# Answers a client retries: the server, or something in front of it, was not well.
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 2.0


class BurstRefused(AssertionError):
    """Intake refused a request outright: no retry can make it succeed."""


@dataclass
class FirstContact:
    index: int
    tag: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    enterprise_id: str | None = None
    contact_id: str | None = None
    sends: int = 0  # HTTP requests made for this firm (1 when nothing went wrong)
    replayed: bool = False  # the 201 came from the key: an earlier try had committed

    @property
    def name(self) -> str:
        return f"Faultprobe {self.tag} {self.index:04d}"

    @property
    def email(self) -> str:
        return f"fault.{self.tag}.{self.index:04d}@example.com"

    def body(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "country": "DE",
            "source": "forum",
            "primary_contact": {
                "full_name": f"Probe {self.index:04d}",
                "email": self.email,
                "language": LANGUAGES[self.index % len(LANGUAGES)],
                "timezone": TIMEZONES[self.index % len(TIMEZONES)],
                "email_consent": True,
            },
        }


@dataclass
class Burst:
    """`count` first contacts sent by `concurrency` clients at once."""

    intake_url: str
    token: str
    count: int
    concurrency: int = 8
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    firms: list[FirstContact] = field(init=False)
    transport_errors: int = 0
    server_errors: int = 0
    failed_statuses: Counter[int] = field(default_factory=Counter)  # 5xx answers, by status
    seconds: float = 0.0  # from the first request to the last acknowledgement

    def __post_init__(self) -> None:
        self.firms = [FirstContact(i, self.tag) for i in range(self.count)]

    @property
    def acknowledged(self) -> int:
        return sum(1 for firm in self.firms if firm.enterprise_id is not None)

    @property
    def failures(self) -> int:
        """Requests that failed and were sent again."""
        return self.transport_errors + self.server_errors

    @property
    def retried(self) -> int:
        return sum(1 for firm in self.firms if firm.sends > 1)

    @property
    def replayed(self) -> int:
        return sum(1 for firm in self.firms if firm.replayed)

    def emails(self) -> set[str]:
        return {firm.email for firm in self.firms}

    def enterprise_ids(self) -> set[str]:
        return {firm.enterprise_id for firm in self.firms if firm.enterprise_id}

    async def run(self, timeout: float) -> None:
        """Send every first contact; raise TimeoutError if they are not all acknowledged."""
        queue: asyncio.Queue[FirstContact] = asyncio.Queue()
        for firm in self.firms:
            queue.put_nowait(firm)
        headers = {"Authorization": f"Bearer {self.token}"}
        limits = httpx.Limits(max_connections=self.concurrency)
        started = time.monotonic()
        async with httpx.AsyncClient(
            base_url=self.intake_url, headers=headers, timeout=20, limits=limits
        ) as http:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(self._client(http, queue) for _ in range(self.concurrency)))
        self.seconds = time.monotonic() - started

    async def _client(self, http: httpx.AsyncClient, queue: asyncio.Queue[FirstContact]) -> None:
        while not queue.empty():
            await self._send_until_acknowledged(http, queue.get_nowait())

    async def _send_until_acknowledged(self, http: httpx.AsyncClient, firm: FirstContact) -> None:
        delay = RETRY_FIRST_SECONDS
        body, headers = firm.body(), {"Idempotency-Key": firm.key}
        while True:
            firm.sends += 1
            try:
                response = await http.post(PATH, json=body, headers=headers)
            except httpx.TransportError:
                self.transport_errors += 1
            else:
                if response.status_code == 201:
                    answer = response.json()
                    firm.enterprise_id = answer["id"]
                    firm.contact_id = answer["contacts"][0]["id"]
                    firm.replayed = response.headers.get("Idempotent-Replayed") == "true"
                    return
                if response.status_code not in TRANSIENT_STATUSES:
                    raise BurstRefused(
                        f"{firm.name} (try {firm.sends}): {response.status_code} "
                        f"{response.text[:500]}"
                    )
                self.server_errors += 1
                self.failed_statuses[response.status_code] += 1
            # A client's backoff between tries, not a synchronisation: nothing waits on it.
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
