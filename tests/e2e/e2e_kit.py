"""What the end-to-end tests share: waiting on consumer groups, reading mail, scanning databases.

Everything here looks at the system from outside: Kafka offsets, the SMTP sink's mailbox,
raw MongoDB documents, an HTTP receiver for webhooks.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from bson import Binary
from pymongo import AsyncMongoClient

from crm_shared.contracts.topics import (
    FOLLOWUP,
    LIFECYCLE,
    NOTIFICATION,
    NOTIFICATION_REQUESTS,
    topic_named,
)
from support import wait_until

REPO = Path(__file__).resolve().parents[2]
SUBSCRIBER = REPO / "examples" / "district_subscriber.py"
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


# -- Kafka ---------------------------------------------------------------------------

# Which consumer group reads which topic (SPEC §2, and the webhook relay).
GROUP_TOPICS: dict[str, list[str]] = {
    "crm-intake": [FOLLOWUP.name, NOTIFICATION.name],
    "crm-followup": [LIFECYCLE.name, NOTIFICATION.name],
    "crm-notification": [NOTIFICATION_REQUESTS.name, LIFECYCLE.name],
    "crm-webhooks": [LIFECYCLE.name, FOLLOWUP.name, NOTIFICATION.name],
}


async def everything_consumed(
    bootstrap: str, *, topics: list[str] | None = None, timeout: float = 60
) -> None:
    """Wait until every service has processed all that was published before the call
    (on `topics` only, if given: a consumer stuck elsewhere does not hold this up)."""
    wanted = {
        group: [t for t in read if topics is None or t in topics]
        for group, read in GROUP_TOPICS.items()
    }
    await asyncio.gather(
        *(
            groups_caught_up(bootstrap, read, [group], timeout=timeout)
            for group, read in wanted.items()
            if read
        )
    )


async def groups_caught_up(
    bootstrap: str, topics: list[str], groups: list[str], *, timeout: float = 60
) -> None:
    """Wait until every group has committed, on every partition of `topics`, at least the end
    offset those partitions have now: all that was published before the call is processed."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await reader.start()
    await admin.start()
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in range(topic_named(t).partitions)
        ]
        end = await reader.end_offsets(partitions)
        wanted = {tp: offset for tp, offset in end.items() if offset > 0}

        async def consumed() -> bool:
            for group in groups:
                committed = await admin.list_consumer_group_offsets(group)
                for tp, offset in wanted.items():
                    if tp not in committed or committed[tp].offset < offset:
                        return False
            return True

        await wait_until(consumed, timeout=timeout, interval=0.2)
    finally:
        await admin.close()
        await reader.stop()


# -- mail ----------------------------------------------------------------------------


def addressed_to(address: str) -> Any:
    wanted = address.lower()
    return lambda message: wanted in str(message.get("To", "")).lower()


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def unsubscribe_url(message: EmailMessage) -> str:
    """The https/http link of `List-Unsubscribe` (RFC 2369: `<url>, <mailto:…>`)."""
    header = str(message.get("List-Unsubscribe", ""))
    links = re.findall(r"<([^>]+)>", header)
    web = [link for link in links if link.startswith(("http://", "https://"))]
    assert web, f"no web link in List-Unsubscribe: {header!r}"
    return web[0]


# -- data ----------------------------------------------------------------------------


def credit_code(seed: int) -> str:
    """A unified social credit code with a valid check character (GB 32100-2015)."""
    body = f"91310110{seed % 10**9:09d}"
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return body + CREDIT_ALPHABET[(31 - total % 31) % 31]


def later(days: int) -> str:
    return date.fromordinal(date.today().toordinal() + days).isoformat()


def unique_email(local: str) -> str:
    """Mixed case on purpose: the erasure scan must find it whatever case a copy has."""
    return f"{local}.{uuid.uuid4().hex[:8]}@Example.com"


# -- MongoDB -------------------------------------------------------------------------


def _occurrences(value: Any, needle: str, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if needle in str(key).lower():
                yield f"{path}.{key} (key)"
            yield from _occurrences(item, needle, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _occurrences(item, needle, f"{path}[{index}]")
    elif isinstance(value, bytes | Binary):
        if needle in bytes(value).decode("utf-8", "replace").lower():
            yield f"{path} (bytes)"
    elif isinstance(value, str) and needle in value.lower():
        yield path


async def find_everywhere(mongo_uri: str, database_prefix: str, needle: str) -> list[str]:
    """Every `database.collection[_id].field` whose value holds `needle` (case-insensitive),
    nested documents, arrays and binary values (outbox records) included."""
    lowered = needle.lower()
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri)
    found: list[str] = []
    try:
        for name in await client.list_database_names():
            if not name.startswith(database_prefix):
                continue
            database = client[name]
            for collection in await database.list_collection_names():
                async for document in database[collection].find({}):
                    where = f"{name}.{collection}[{document.get('_id')!r}]"
                    found.extend(_occurrences(document, lowered, where))
    finally:
        await client.close()
    return found


# -- processes and receivers ---------------------------------------------------------


class DistrictSubscriber:
    """examples/district_subscriber.py as a district system runs it, in its own group."""

    def __init__(self, bootstrap: str, group: str) -> None:
        self.args = [str(SUBSCRIBER), "--bootstrap", bootstrap, "--group", group]
        self.lines: list[str] = []
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, *, start: str = "latest", timeout: float = 60) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, *self.args, "--start", start,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read())

        async def ready() -> bool:
            assert self._process is not None
            if self._process.returncode is not None:
                raise AssertionError("the subscriber exited:\n" + "\n".join(self.lines))
            return any(line.startswith("# ready") for line in self.lines)

        await wait_until(ready, timeout=timeout, interval=0.1)

    async def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        async for raw in self._process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def events_of(self, firm: str) -> list[str]:
        return [line for line in self.lines if f" firm={firm} " in line]

    async def stop(self) -> int:
        if self._process is None:
            return 0
        if self._process.returncode is None:
            self._process.terminate()
        code = await asyncio.wait_for(self._process.wait(), timeout=30)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, timeout=10)
        return code


class WebhookReceiver:
    """An HTTP server on loopback that accepts every webhook and keeps its body."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers.get("content-length", 0))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
