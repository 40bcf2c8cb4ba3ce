"""A tiny web inbox over the SMTP sink's Maildir (stdlib only, served from a thread).

Pages:

- /                     messages, newest first: date, from, to, subject, Content-Language
- /message/<key>        one message: headers, text part, HTML part (sandboxed iframe)
- /message/<key>.eml    the raw message
- /api/messages         the list as JSON (for scripts and browser tests)
"""

from __future__ import annotations

import json
import mailbox
import threading
from email.message import EmailMessage
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from crm_devstack.smtp_sink import ENVELOPE_TO, maildir_order, parse_message

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f4f4f4}
pre{white-space:pre-wrap;background:#fafafa;padding:.8rem;border:1px solid #eee}
iframe{width:100%;height:30rem;border:1px solid #ddd}
"""


def summary(key: str, message: EmailMessage) -> dict[str, Any]:
    return {
        "key": key,
        "date": str(message.get("Date", "")),
        "from": str(message.get("From", "")),
        "to": str(message.get("To", "")) or str(message.get(ENVELOPE_TO, "")),
        "subject": str(message.get("Subject", "")),
        "content_language": str(message.get("Content-Language", "")),
    }


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    ).encode()


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


class _Inbox:
    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir

    def _box(self) -> mailbox.Maildir:
        # A fresh object per request: requests run on several threads.
        return mailbox.Maildir(self.maildir, factory=None, create=False)

    def listing(self) -> list[dict[str, Any]]:
        box = self._box()
        keys = sorted(box.keys(), key=maildir_order, reverse=True)
        return [summary(key, parse_message(box.get_bytes(key))) for key in keys]

    def raw(self, key: str) -> bytes | None:
        try:
            return self._box().get_bytes(key)
        except KeyError:
            return None

    def index_html(self) -> bytes:
        rows = "".join(
            "<tr>"
            f"<td>{escape(m['date'])}</td><td>{escape(m['from'])}</td><td>{escape(m['to'])}</td>"
            f"<td><a href='/message/{quote(m['key'])}'>"
            f"{escape(m['subject'] or '(no subject)')}</a></td>"
            f"<td>{escape(m['content_language'])}</td>"
            "</tr>"
            for m in self.listing()
        )
        body = (
            f"<h1>Dev inbox</h1><p>{self.maildir}</p><table><thead><tr>"
            "<th>Date</th><th>From</th><th>To</th><th>Subject</th><th>Content-Language</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
        return _page("Dev inbox", body)

    def message_html(self, key: str, raw: bytes) -> bytes:
        message = parse_message(raw)
        headers = "".join(
            f"<tr><th>{escape(name)}</th><td>{escape(str(value))}</td></tr>"
            for name, value in message.items()
        )
        text = _part(message, "plain")
        html = _part(message, "html")
        body = f"<p><a href='/'>&larr; inbox</a> · <a href='/message/{quote(key)}.eml'>raw</a></p>"
        body += f"<h1>{escape(str(message.get('Subject', '')))}</h1><table>{headers}</table>"
        if text is not None:
            body += f"<h2>Text</h2><pre>{escape(text)}</pre>"
        if html is not None:
            # Sandboxed: the mail's HTML can neither run scripts nor reach this page.
            body += f'<h2>HTML</h2><iframe sandbox srcdoc="{escape(html, quote=True)}"></iframe>'
        return _page(str(message.get("Subject", key)), body)


def _handler_for(inbox: _Inbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # page views are not worth a log line next to the services' logs

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = unquote(self.path.split("?", 1)[0])
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, inbox.index_html(), "text/html; charset=utf-8")
            elif path == "/api/messages":
                data = json.dumps(inbox.listing()).encode()
                self._send(HTTPStatus.OK, data, "application/json")
            elif path == "/healthz":
                self._send(HTTPStatus.OK, b"ok\n", "text/plain")
            elif path.startswith("/message/"):
                key = path.removeprefix("/message/")
                as_eml = key.endswith(".eml")
                raw = inbox.raw(key.removesuffix(".eml"))
                if raw is None:
                    self._send(HTTPStatus.NOT_FOUND, b"no such message\n", "text/plain")
                elif as_eml:
                    self._send(HTTPStatus.OK, raw, "message/rfc822")
                else:
                    page = inbox.message_html(key, raw)
                    self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    return Handler


class InboxServer:
    """Serves the inbox page for `maildir` on `host:port` (0: a free port) from a thread."""

    def __init__(self, maildir: Path | str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(_Inbox(Path(maildir))))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="inbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
