"""Who is signed in, CSRF tokens, and one-shot messages, all kept in the signed session cookie.

The cookie (Starlette's SessionMiddleware, signed with `CRM_INTAKE_SESSION_SECRET`) holds the
user name, the CSRF token, the time of sign-in and a flash message: no personal data of
firms' contacts. The user is read from the database on each request, so a deactivated
account or a changed role takes effect at once.
"""

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from crm_intake.service import web_queries
from crm_intake.service.context import Actor, IntakeContext
from crm_shared.auth.tokens import Principal, Role

SESSION_COOKIE = "crm_session"
LANGUAGE_COOKIE = "crm_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Sliding: each response renews the cookie for this long...
SESSION_IDLE_SECONDS = 8 * 3600
# ...but a sign-in is good for one working day at most.
SESSION_ABSOLUTE_SECONDS = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    """The page needs a signed-in user; the handler redirects to the sign-in page."""


class WebForbidden(Exception):
    """The user's role may not do this; the handler answers 403 with a page."""


class CsrfRefused(Exception):
    """A form without the session's CSRF token; the handler answers 403."""


@dataclass(frozen=True)
class StaffUser:
    username: str
    display_name: str
    role: Role
    language: str | None

    def has(self, role: Role) -> bool:
        return self.role.at_least(role)

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.role)

    @property
    def principal(self) -> Principal:
        return Principal(subject=self.username, role=self.role)


def _session(request: Request) -> dict[str, Any]:
    return request.session


async def find_user(ctx: IntakeContext, username: str) -> StaffUser | None:
    """The active staff user called `username`, as stored now."""
    record = await web_queries.staff_user(ctx, username)
    if record is None:
        return None
    return StaffUser(
        username=record["_id"],
        display_name=record.get("display_name") or record["_id"],
        role=Role(record["role"]),
        language=record.get("language"),
    )


async def load_user(ctx: IntakeContext, session: dict[str, Any]) -> StaffUser | None:
    """The active staff user the session belongs to, if the sign-in is still good."""
    username = session.get("user")
    signed_in_at = session.get("since")
    if not isinstance(username, str) or not isinstance(signed_in_at, int | float):
        return None
    if time.time() - signed_in_at > SESSION_ABSOLUTE_SECONDS:
        return None
    return await find_user(ctx, username)


async def current_user(request: Request) -> StaffUser | None:
    if not hasattr(request.state, "web_user"):
        request.state.web_user = await load_user(request.app.state.intake, _session(request))
    return request.state.web_user


async def require_user(request: Request) -> StaffUser:
    """A FastAPI dependency: the signed-in user, else a redirect to the sign-in page."""
    user = await current_user(request)
    if user is None:
        raise SignInRequired
    return user


def require_role(user: StaffUser, role: Role) -> None:
    if not user.has(role):
        raise WebForbidden


def start_session(request: Request, user: StaffUser) -> None:
    """A fresh session for `user` (new CSRF token: nothing from before sign-in carries over)."""
    session = _session(request)
    session.clear()
    session.update(user=user.username, since=int(time.time()), csrf=secrets.token_urlsafe(32))
    request.state.web_user = user


def end_session(request: Request) -> None:
    _session(request).clear()
    request.state.web_user = None


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use, also before sign-in)."""
    session = _session(request)
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_matches(session: dict[str, Any], submitted: object) -> bool:
    expected = session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        and bool(expected)
        and hmac.compare_digest(expected.encode(), submitted.encode())
    )


async def check_csrf(request: Request) -> None:
    """A router dependency: every unsafe request carries the session's token in its form."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form()  # Starlette caches it: the route reads the same form
    if not csrf_matches(_session(request), form.get(CSRF_FIELD)):
        raise CsrfRefused


def flash(request: Request, message: str) -> None:
    """A message (a msgid, translated when shown) for the next page the user sees."""
    _session(request)["flash"] = message


def pop_flash(request: Request) -> str | None:
    message = _session(request).pop("flash", None)
    return message if isinstance(message, str) else None
