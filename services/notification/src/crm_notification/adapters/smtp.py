"""One SMTP connection (aiosmtplib), reused message after message, with a claim hook.

The hook runs after the whole content has been handed to the server and before
the final "." that makes the server accept it. A server that loses the connection
before that "." discards the message (RFC 5321 §4.1.1.4), so everything up to the
hook can be retried freely; the hook (the delivery's compare-and-set to `sending`)
is the point of no return, and the only gap left is between the claim's commit and
the "." leaving this process (see the README, "Sent once").

aiosmtplib's `data()` sends content and "." in one call, so the DATA phase is
driven here with its protocol's public `write` and `read_response`.

Addresses go into MAIL and RCPT with their domain in ASCII (punycode) form; one
with a non-ASCII local part needs SMTPUTF8 (RFC 6531), and a server that does not
offer it can never take this message: the attempt fails permanently at MAIL.
"""

import asyncio
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosmtplib
from aiosmtplib import SMTPException, SMTPHeloError, SMTPResponseException

from crm_notification.domain.addresses import ascii_domain_address, needs_smtputf8
from crm_notification.domain.delivery import Attempt, AttemptResult, SmtpStage, result_of_reply
from crm_notification.settings import NotificationSettings, SmtpTls

START_INPUT = 354
NO_SMTPUTF8 = "the server does not offer SMTPUTF8, which {whose} address needs"
_LONE_LF = re.compile(rb"(?<!\r)\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")

Claim = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: SmtpTls = SmtpTls.NONE
    user: str | None = None
    password: str | None = None
    timeout_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: NotificationSettings) -> "SmtpConfig":
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            user=settings.smtp_user,
            password=password,
            timeout_seconds=settings.smtp_timeout_seconds,
        )


def data_payload(message: bytes) -> bytes:
    """The content as DATA carries it: CRLF line ends, dot-stuffed, ending in CRLF,
    without the terminating "." line."""
    body = _LEADING_DOT.sub(b"..", _LONE_LF.sub(b"\r\n", message))
    return body if body.endswith(b"\r\n") else body + b"\r\n"


class SmtpConnection:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._client: aiosmtplib.SMTP | None = None

    def _new_client(self) -> aiosmtplib.SMTP:
        config = self._config
        return aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.tls is SmtpTls.TLS,
            start_tls=config.tls is SmtpTls.STARTTLS,
            username=config.user,
            password=config.password,
            timeout=config.timeout_seconds,
            tls_context=ssl.create_default_context() if config.tls is not SmtpTls.NONE else None,
        )

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is None or not self._client.is_connected:
            self._client = self._new_client()
            await self._client.connect()
        return self._client

    async def send(self, sender: str, recipient: str, message: bytes, claim: Claim) -> Attempt:
        """One SMTP transaction. Never raises for SMTP trouble (it is the Attempt);
        an exception from `claim` propagates with the message discarded."""
        try:
            envelope_from = ascii_domain_address(sender)
            envelope_to = ascii_domain_address(recipient)
        except ValueError as problem:
            return Attempt(AttemptResult.PERMANENT, SmtpStage.PREPARE, None, str(problem))
        utf8 = needs_smtputf8(sender) or needs_smtputf8(recipient)
        stage = SmtpStage.CONNECT
        try:
            client = await self._connected()
            stage = SmtpStage.MAIL
            options: list[str] = []
            if utf8:
                if not await self._offers_smtputf8(client):
                    # Nothing was sent in this transaction: the connection stays usable.
                    return Attempt(AttemptResult.PERMANENT, stage, None, _no_smtputf8(recipient))
                options.append("SMTPUTF8")
                if client.supports_extension("8bitmime"):
                    options.append("BODY=8BITMIME")  # the header carries raw UTF-8
            encoding = "utf-8" if utf8 else "ascii"
            await client.mail(envelope_from, options=options, encoding=encoding)
            stage = SmtpStage.RCPT
            await client.rcpt(envelope_to, encoding=encoding)
            stage = SmtpStage.DATA
            reply = await client.execute_command(b"DATA")
            if reply.code != START_INPUT:
                raise SMTPResponseException(reply.code, reply.message)
            protocol = client.protocol
            assert protocol is not None
            protocol.write(data_payload(message))
            await self._flushed(protocol)
        except SMTPResponseException as error:
            await self._after_refusal(stage)
            # A refused login or greeting is this service's problem, not the recipient's.
            result = AttemptResult.TRANSIENT if stage is SmtpStage.CONNECT else None
            return Attempt(result or result_of_reply(error.code), stage, error.code, error.message)
        except (SMTPException, OSError, TimeoutError) as error:
            self.drop()
            return Attempt(AttemptResult.TRANSIENT, stage, None, _describe(error))

        try:
            claimed = await claim()
        except BaseException:
            self.drop()  # no "." was sent: the server throws the message away
            raise
        if not claimed:
            self.drop()
            return Attempt(AttemptResult.LOST_CLAIM, SmtpStage.DATA)

        try:
            protocol.write(b".\r\n")
            reply = await protocol.read_response(timeout=self._config.timeout_seconds)
        except (SMTPException, OSError, TimeoutError) as error:
            self.drop()
            return Attempt(
                AttemptResult.UNCONFIRMED,
                SmtpStage.END_OF_DATA,
                None,
                f"no reply after the end of data: {_describe(error)}",
            )
        result = result_of_reply(reply.code)
        return Attempt(result, SmtpStage.END_OF_DATA, reply.code, reply.message)

    @staticmethod
    async def _offers_smtputf8(client: aiosmtplib.SMTP) -> bool:
        """Whether the server's EHLO lists SMTPUTF8 (greeting it first if needed, as
        `mail()` would: EHLO, then HELO, which offers no extensions)."""
        if client.is_ehlo_or_helo_needed:
            try:
                await client.ehlo()
            except SMTPHeloError:
                if not client.is_connected:
                    raise
                await client.helo()
        return client.supports_extension("smtputf8")

    async def _flushed(self, protocol: object) -> None:
        # The content must have left this process before the claim: a kill after the
        # claim must find nothing but the "." missing, not half a message in a buffer.
        transport = getattr(protocol, "transport", None)
        if transport is None:
            return
        async with asyncio.timeout(self._config.timeout_seconds):
            while transport.get_write_buffer_size() > 0:  # noqa: ASYNC110 - no event for this
                await asyncio.sleep(0.001)

    async def _after_refusal(self, stage: SmtpStage) -> None:
        if stage in (SmtpStage.CONNECT, SmtpStage.DATA) or self._client is None:
            self.drop()
            return
        try:
            await self._client.rset()
        except (SMTPException, OSError, TimeoutError):
            self.drop()

    def drop(self) -> None:
        """Close without QUIT: an unfinished DATA is discarded by the server."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def close(self) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.quit()
            except (SMTPException, OSError, TimeoutError):
                self._client.close()
        self._client = None


def _no_smtputf8(recipient: str) -> str:
    whose = "this recipient's" if needs_smtputf8(recipient) else "the sender's"
    return NO_SMTPUTF8.format(whose=whose)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]
