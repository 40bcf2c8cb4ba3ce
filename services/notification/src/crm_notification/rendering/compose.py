"""The MIME message: multipart/alternative (text, then HTML) with the headers receivers use.

`List-Unsubscribe` + `List-Unsubscribe-Post` (RFC 8058) let mail clients offer a
one-click unsubscribe button; `Message-ID` is derived from the notification id so
every attempt at one notification carries the same id.

Written out directly rather than through `email.message.EmailMessage`: that API
costs about 3 ms per message (its header registry parses every value back),
more than rendering and the whole SMTP exchange together. The output is plain
RFC 5322/2045/2047 — 7-bit (quoted-printable bodies, encoded-word headers), CRLF
line ends — and the tests read it back with the standard library's parser. The one
exception: an address whose local part is not ASCII has no 7-bit spelling, so it is
written as raw UTF-8 (RFC 6532) and the message then goes out with SMTPUTF8.
"""

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import quote

from crm_notification.domain.addresses import ascii_domain_address
from crm_notification.rendering.renderer import RenderedEmail

CRLF = "\r\n"


@dataclass(frozen=True)
class UnsubscribeLinks:
    url: str  # the one-click page (GET asks, POST unsubscribes)
    mailto: str  # `mailto:` URI for clients that only do mail

    def header(self) -> str:
        return f"<{self.url}>, <{self.mailto}>"


def unsubscribe_links(base_url: str, token: str, mailbox: str) -> UnsubscribeLinks:
    url = f"{base_url.rstrip('/')}/unsubscribe/{token}"
    subject = quote(f"unsubscribe {token}")
    return UnsubscribeLinks(url=url, mailto=f"mailto:{mailbox}?subject={subject}")


def sender(mail_from: str) -> tuple[str, str]:
    """`CRM_MAIL_FROM` (`Name <addr>` or `addr`) as the From header, and the bare
    address for MAIL FROM."""
    name, address = parseaddr(mail_from)
    return mailbox(name or None, address), address


def _no_breaks(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} contains a line break")
    return value


_WORD_BYTES = 45  # 60 base64 characters: an encoded word stays under 76 with its frame


def _text_header(value: str) -> str:
    """Unstructured header text: as is when ASCII, else RFC 2047 encoded words
    (base64, split on character boundaries, one per folded line)."""
    if value.isascii():
        return value
    words, chunk = [], b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return f"{CRLF} ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


_ADDRESS_SPECIALS = frozenset(' <>,;"')


_STAND_IN = "a@b"


def mailbox(name: str | None, address: str) -> str:
    """`Name <address>` for a header (the name quoted or encoded as needed), the
    address with its domain in ASCII form; a non-ASCII local part stays raw UTF-8."""
    _no_breaks(address, "the address")
    if (
        address.count("@") != 1
        or _ADDRESS_SPECIALS & set(address)
        or not address.isprintable()  # controls, and Unicode line/paragraph separators
    ):
        raise ValueError("the address cannot be written in a header")
    address = ascii_domain_address(address)  # ValueError for an invalid domain
    if not name:
        return address
    _no_breaks(name, "the name")
    # One encoded word for a non-ASCII name: parsers differ on the space between
    # several inside an address (RFC 2047 §6.2 says to drop it; not all do).
    if address.isascii():
        return formataddr((name, address), charset="utf-8")
    # formataddr insists on an ASCII address: let it write the name, then put the
    # UTF-8 address in place of a stand-in.
    named = formataddr((name, _STAND_IN), charset="utf-8")
    return f"{named.removesuffix(f'<{_STAND_IN}>')}<{address}>"


def _quoted_printable(text: str) -> str:
    lines = text.replace(CRLF, "\n").split("\n")
    data = CRLF.join(lines).encode("utf-8")
    # binascii's encoder keeps CRLF line ends and wraps at 76 with soft breaks.
    return binascii.b2a_qp(data, istext=True, header=False).decode("ascii")


def _part(subtype: str, text: str) -> str:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
        f"{_quoted_printable(text)}"
    )


def compose(
    rendered: RenderedEmail,
    *,
    from_header: str,
    recipient: str,
    recipient_name: str | None,
    message_id: str,
    date: datetime,
    unsubscribe: UnsubscribeLinks | None,
) -> bytes:
    """The message as it goes over SMTP; `from_header` is `sender(...)[0]`.

    Raises ValueError for a header that cannot be written (a line break in a name,
    an address with spaces or controls, a domain that is not a valid IDN).
    """
    # "=_" cannot occur in quoted-printable text, so the boundary never collides.
    boundary = f"=_warmyang_{uuid.uuid4().hex}"
    headers = [
        ("From", from_header),
        ("To", mailbox(recipient_name, recipient)),
        ("Subject", _text_header(_no_breaks(rendered.subject, "the subject"))),
        ("Date", format_datetime(date)),
        ("Message-ID", _no_breaks(message_id, "the Message-ID")),
        # Tells autoresponders not to answer (RFC 3834).
        ("Auto-Submitted", "auto-generated"),
    ]
    if unsubscribe is not None:
        headers.append(("List-Unsubscribe", unsubscribe.header()))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    headers += [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ("Content-Language", rendered.language.value),
    ]
    head = "".join(f"{name}: {value}{CRLF}" for name, value in headers)
    body = (
        f"--{boundary}{CRLF}{_part('plain', rendered.text)}{CRLF}"
        f"--{boundary}{CRLF}{_part('html', rendered.html)}{CRLF}"
        f"--{boundary}--{CRLF}"
    )
    # ASCII throughout unless an address has a UTF-8 local part (RFC 6532).
    return (head + CRLF + body).encode("utf-8")
