"""Request size limits: a body or header block too large is refused before it is read.

Without them uvicorn reads and parses any body a client sends (a 16 MiB JSON
document, for instance) and lets an 80 KiB header block through.
"""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from crm_shared.http.problems import PROBLEM_JSON

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_MAX_HEADERS = 16 * 1024
# Beyond this much of an oversized body the connection is simply closed.
DRAIN_LIMIT = 64 * 1024 * 1024


class _TooLarge(Exception):
    pass


class RequestLimits:
    """ASGI middleware: 413 for a body over `max_body` bytes, 431 for headers over `max_headers`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_headers = max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header_bytes = sum(len(k) + len(v) + 4 for k, v in scope.get("headers", ()))
        if header_bytes > self.max_headers:
            await _refuse(send, scope, 431, "Request Header Fields Too Large",
                          f"headers may total at most {self.max_headers} bytes")  # fmt: skip
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._drain(receive)
            await _refuse(send, scope, 413, "Content Too Large",
                          f"the body may be at most {self.max_body} bytes")  # fmt: skip
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:  # a chunked body without Content-Length grew past the limit
                await self._drain(receive)
                await _refuse(send, scope, 413, "Content Too Large",
                              f"the body may be at most {self.max_body} bytes")  # fmt: skip

    async def _drain(self, receive: Receive) -> None:
        """Read and drop the rest of the body (up to a bound), so the client, still sending,
        gets the 413 instead of a reset connection."""
        dropped = 0
        while dropped <= DRAIN_LIMIT:
            message = await receive()
            dropped += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                return


async def _refuse(send: Send, scope: Scope, status: int, title: str, detail: str) -> None:
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail,
         "instance": scope.get("path", "")}
    ).encode()  # fmt: skip
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
