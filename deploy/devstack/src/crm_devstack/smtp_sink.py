"""An SMTP server that delivers nothing: it keeps every message in a Maildir.

For `make run` (with the inbox page from `crm_devstack.inbox`) and for tests, which
read what the notification service really sent. Tests can also make it misbehave:
`fail_next(n, 451, ...)` answers the next n messages' DATA with a transient error,
`reject_recipient(addr, 550, ...)` refuses one address at RCPT, and
`SmtpSink(..., smtputf8=False)` is a server without SMTPUTF8 (RFC 6531).

Run alone: `python -m crm_devstack.smtp_sink --port 1025 --http-port 8025 --maildir DIR`.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import mailbox
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# Envelope data the message itself may not carry (Bcc, the real MAIL FROM).
ENVELOPE_FROM = "X-Envelope-From"
ENVELOPE_TO = "X-Envelope-To"


@dataclass
class Fault:
    """One programmed SMTP answer, as returned in the server's reply line."""

    code: int
    text: str

    def reply(self) -> str:
        return f"{self.code} {self.text}"


def maildir_order(key: str) -> tuple[int, int, str]:
    """Delivery order from a Maildir key `SECONDS.M<MICROS>P<PID>Q<N>.<HOST>`."""
    seconds, _, rest = key.partition(".")
    micros = rest[1:].split("P", 1)[0] if rest.startswith("M") else "0"
    try:
        return (int(seconds), int(micros), key)
    except ValueError:
        return (0, 0, key)


def parse_message(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


class _Handler:
    """aiosmtpd handler hooks: apply programmed faults, else store the message."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        fault = self._sink._recipient_fault(address)
        if fault is not None:
            return fault.reply()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = self._sink._take_message_fault(envelope)
        if fault is not None:
            return fault.reply()
        self._sink._store(envelope)
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's threaded controller, made to accept port 0 (a free port)."""

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()


class SmtpSink:
    """An in-process SMTP sink on `host:port` (0: a free port) storing into `maildir`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        maildir: Path | str = ".data/mail",
        *,
        smtputf8: bool = True,
    ) -> None:
        self.host = host
        self.maildir_path = Path(maildir)
        # Maildir(create=True) makes tmp/new/cur only when the top dir is new.
        for sub in ("tmp", "new", "cur"):
            (self.maildir_path / sub).mkdir(parents=True, exist_ok=True)
        # One Maildir object per thread: the SMTP thread writes, callers read.
        self._writer = mailbox.Maildir(self.maildir_path, factory=None, create=True)
        self._maildir = mailbox.Maildir(self.maildir_path, factory=None, create=False)
        # SMTPUTF8 as current real servers offer it: Chinese display names and
        # subjects may then travel as raw UTF-8 instead of encoded words, and
        # addresses may have non-ASCII local parts. Off: an older server.
        self._controller = _Controller(
            _Handler(self), hostname=host, port=port, enable_SMTPUTF8=smtputf8
        )
        self._lock = threading.Lock()
        self._fail_next: list[Fault] = []
        self._rejected: dict[str, Fault] = {}
        self._parsed: dict[str, EmailMessage] = {}
        # Each programmed answer actually given, for tests that count retries.
        self.faults_answered: list[tuple[str, Fault]] = []
        # Messages stored since start: cheap to poll, where keys() lists the Maildir.
        self.stored = 0

    # -- lifecycle ---------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ------------------------------------------------------------------

    def fail_next(self, n: int = 1, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        """Answer the DATA of the next `n` messages with `code` instead of storing them."""
        with self._lock:
            self._fail_next.extend(Fault(code, text) for _ in range(n))

    def reject_recipient(
        self, address: str, code: int = 550, text: str = "5.1.1 No such user here"
    ) -> None:
        """Refuse `address` at RCPT TO with `code`, until `reset_faults()`."""
        with self._lock:
            self._rejected[address.lower()] = Fault(code, text)

    def reset_faults(self) -> None:
        with self._lock:
            self._fail_next.clear()
            self._rejected.clear()

    def _recipient_fault(self, address: str) -> Fault | None:
        with self._lock:
            fault = self._rejected.get(address.lower())
            if fault is not None:
                self.faults_answered.append((address, fault))
            return fault

    def _take_message_fault(self, envelope: Envelope) -> Fault | None:
        with self._lock:
            if not self._fail_next:
                return None
            fault = self._fail_next.pop(0)
            self.faults_answered.append((", ".join(envelope.rcpt_tos), fault))
            return fault

    # -- messages ----------------------------------------------------------------

    def _store(self, envelope: Envelope) -> None:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode()
        header = (
            f"{ENVELOPE_FROM}: {envelope.mail_from}\r\n"
            f"{ENVELOPE_TO}: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        # Maildir writes to tmp/ and renames into new/: readers never see half a message.
        self._writer.add(header + content)
        self.stored += 1  # only the SMTP thread writes it

    def keys(self) -> list[str]:
        return sorted(self._maildir.keys(), key=maildir_order)

    def raw(self, key: str) -> bytes:
        return self._maildir.get_bytes(key)

    def messages(self) -> list[EmailMessage]:
        """Every stored message, oldest first (parsed once, then cached)."""
        result = []
        for key in self.keys():
            message = self._parsed.get(key)
            if message is None:
                try:
                    message = parse_message(self.raw(key))
                except KeyError:  # removed by clear() meanwhile
                    continue
                self._parsed[key] = message
            result.append(message)
        return result

    def clear(self) -> None:
        """Delete every stored message (a session-wide sink shared by several tests)."""
        for key in list(self._maildir.iterkeys()):
            self._maildir.discard(key)
        self._parsed.clear()
        with self._lock:
            self.faults_answered.clear()

    async def wait_for(
        self,
        predicate: Callable[[EmailMessage], bool] = lambda _m: True,
        *,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - the error says how many messages came
    ) -> list[EmailMessage]:
        """Wait until at least `count` stored messages satisfy `predicate`; return them.

        Async so that services running in the same event loop keep working meanwhile.
        """
        deadline = time.monotonic() + timeout
        while True:
            matching = [m for m in self.messages() if predicate(m)]
            if len(matching) >= count:
                return matching
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(matching)} of {count} expected messages after {timeout} s; "
                    f"{len(self.keys())} stored in {self.maildir_path}"
                )
            await asyncio.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    from crm_devstack.cli import main as cli_main

    return cli_main(["smtp", *(argv or [])])


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
