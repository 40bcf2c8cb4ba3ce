"""Posts one signed delivery with httpx, to an address checked just before the request.

The host is resolved here, every address is checked against the URL policy, and
the request goes to the first checked address with the original `Host` header
and TLS server name, so a DNS answer that changes between check and connect
(rebinding) cannot redirect it. Redirects are not followed: a 3xx is a failure.
"""

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

import httpx

from crm_webhooks.domain.url_policy import UrlRefused, checked_addresses, parse_target

Resolver = Callable[[str, int], Awaitable[list[str]]]
USER_AGENT = "warmyang-webhooks/1"
RESPONSE_EXCERPT = 200


async def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (an IP literal resolves to itself)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UrlRefused(f"{host} cannot be resolved: {error.strerror}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_url(url: str, *, allow_local: bool, resolver: Resolver = resolve) -> list[str]:
    """The addresses the URL may be sent to now, or UrlRefused (registration and send time)."""
    target = parse_target(url, allow_local=allow_local)
    return checked_addresses(
        target.host, await resolver(target.host, target.port), allow_local=allow_local
    )


@dataclass(frozen=True)
class SendResult:
    accepted: bool
    status_code: int | None
    error: str | None
    duration_ms: int


class HttpSender:
    def __init__(
        self, *, timeout_seconds: float, allow_local: bool, resolver: Resolver = resolve
    ) -> None:
        self._allow_local = allow_local
        self._resolver = resolver
        # trust_env=False: no proxy from the environment may see or reroute deliveries.
        self._client = httpx.AsyncClient(
            timeout=timeout_seconds, follow_redirects=False, trust_env=False
        )

    async def __aenter__(self) -> "HttpSender":
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        started = time.perf_counter()

        def result(status: int | None, error: str | None) -> SendResult:
            elapsed = int((time.perf_counter() - started) * 1000)
            accepted = status is not None and 200 <= status < 300
            return SendResult(accepted, status, error, elapsed)

        try:
            target = parse_target(url, allow_local=self._allow_local)
            addresses = checked_addresses(
                target.host,
                await self._resolver(target.host, target.port),
                allow_local=self._allow_local,
            )
        except UrlRefused as error:
            return result(None, f"refused: {error}")
        # IPv4 first: `localhost` in development often resolves to ::1 where nothing listens.
        chosen = min(addresses, key=lambda a: ":" in a)
        pinned = httpx.URL(url).copy_with(host=chosen)
        default_port = {"https": 443, "http": 80}[target.scheme]
        host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            async with self._client.stream(
                "POST",
                pinned,
                content=body,
                headers={**headers, "host": host_header, "user-agent": USER_AGENT},
                extensions=extensions,
            ) as response:
                status = response.status_code
                excerpt = b"" if 200 <= status < 300 else await _head(response)
        except httpx.HTTPError as error:
            return result(None, f"{type(error).__name__}: {error}".rstrip(": "))
        if 200 <= status < 300:
            return result(status, None)
        text = excerpt.decode("utf-8", "replace").strip()
        return result(status, f"HTTP {status}: {text}".rstrip(": "))


async def _head(response: httpx.Response) -> bytes:
    """The start of an error response, without reading a huge body into memory."""
    read = b""
    async for chunk in response.aiter_bytes():
        read += chunk
        if len(read) >= RESPONSE_EXCERPT:
            break
    return read[:RESPONSE_EXCERPT]
