"""A real HTTP receiver for webhook tests, and a handle on the webhook service process."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

ADMIN_TOKEN = "subscribers-test-admin-token"
FAILURES_BEFORE_SUCCESS = 2  # what a `/flaky/` receiver answers with 500 first, per event


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


class Receiver:
    """An HTTP server in a thread that keeps every request. By path prefix it answers:
    `/ok/` 200; `/flaky/` 500 twice per webhook-id, then 200; `/down/` 503."""

    def __init__(self) -> None:
        self._requests: list[Received] = []
        self._lock = threading.Lock()
        self._tries: Counter[tuple[str, str]] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver._answer(self.path, self.headers.get("webhook-id", ""))
                with receiver._lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver._requests.append(Received(self.path, headers, body, status))
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"no" if status >= 300 else b"ok")

            def log_message(self, *_: Any) -> None:  # keep test output readable
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _answer(self, path: str, webhook_id: str) -> int:
        if path.startswith("/down/"):
            return 503
        if path.startswith("/flaky/"):
            with self._lock:
                self._tries[(path, webhook_id)] += 1
                return 500 if self._tries[(path, webhook_id)] <= FAILURES_BEFORE_SUCCESS else 200
        return 200

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self._requests if r.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class WebhookService:
    base: str
    database: str
    process: subprocess.Popen[str]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base, timeout=10, headers={"authorization": f"Bearer {ADMIN_TOKEN}"}
        )
