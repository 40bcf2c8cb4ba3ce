"""The staff web pages (SPEC §1, §5): server-rendered forms over the same service layer as
the API, under `/ui`, in English, German and Simplified Chinese.

`install_web(app, runtime, settings)` is the one call `bootstrap` makes.
"""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from crm_intake.entrypoints.web import actions, auth, dashboard, firms, session
from crm_intake.entrypoints.web.deps import firm_path
from crm_intake.entrypoints.web.failures import FirmGone
from crm_intake.entrypoints.web.labels import N_
from crm_intake.entrypoints.web.rendering import PREFIX, Pages
from crm_intake.service import web_queries
from crm_intake.service.context import IntakeContext
from crm_intake.settings import IntakeSettings
from crm_shared.runtime import Runtime
from crm_shared.settings import Environment

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
API_PREFIX = "/api/"


class SessionPrincipal:
    """Lets a signed-in browser call the JSON API with its session (the shared authenticator
    honours `request.state.principal`). A write must also carry the session's CSRF token in
    the `X-CSRF-Token` header, so another site cannot make the browser write for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            stored = scope.get("session") or {}
            if stored.get("user") and self._csrf_ok(scope, stored):
                ctx: IntakeContext = scope["app"].state.intake
                user = await session.load_user(ctx, stored)
                if user is not None:
                    scope.setdefault("state", {})["principal"] = user.principal
        await self.app(scope, receive, send)

    @staticmethod
    def _csrf_ok(scope: Scope, stored: dict[str, object]) -> bool:
        if scope["method"] in session.SAFE_METHODS:
            return True
        headers = dict(scope["headers"])
        submitted = headers.get(session.CSRF_HEADER.encode(), b"").decode("latin-1")
        return session.csrf_matches(stored, submitted)


def install_web(app: FastAPI, runtime: Runtime, settings: IntakeSettings) -> None:
    """Mount the pages, their static files and the session on the intake app."""
    secure = settings.env is Environment.PRODUCTION
    app.state.web_pages = Pages()
    app.state.web_secure_cookies = secure
    # Added first, so it runs inside the session middleware (it reads the session).
    app.add_middleware(SessionPrincipal)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.intake_session_secret.get_secret_value(),
        session_cookie=session.SESSION_COOKIE,
        max_age=session.SESSION_IDLE_SECONDS,
        same_site="lax",
        https_only=secure,
    )
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="web-static")
    for router in (auth.router, dashboard.router, firms.router, actions.router):
        app.include_router(router, include_in_schema=False)
    app.include_router(auth.root_router)
    _install_handlers(app)

    async def prepare() -> None:
        await web_queries.ensure_web_indexes(app.state.intake)

    runtime.on_startup(prepare)


def _install_handlers(app: FastAPI) -> None:
    pages: Pages = app.state.web_pages

    @app.exception_handler(session.SignInRequired)
    async def _sign_in(request: Request, _: Exception) -> Response:
        # Only the path: ids, never search words or personal data, go into `next`.
        return RedirectResponse(f"{PREFIX}/sign-in?next={request.url.path}", status_code=303)

    async def _refusal(request: Request, title: str, message: str, status: int) -> Response:
        await session.current_user(request)
        return pages.render(
            request, "refused.html", title=title, message=message, status_code=status
        )

    @app.exception_handler(session.CsrfRefused)
    async def _csrf(request: Request, _: Exception) -> Response:
        return await _refusal(
            request,
            N_("Form expired"),
            N_("This form is out of date or did not come from these pages. Go back, reload "
               "the page and send it again."),
            403,
        )  # fmt: skip

    @app.exception_handler(session.WebForbidden)
    async def _forbidden(request: Request, _: Exception) -> Response:
        return await _refusal(
            request,
            N_("Not allowed"),
            N_("Your role does not allow this. Ask a manager."),
            403,
        )

    @app.exception_handler(FirmGone)
    async def _gone(request: Request, error: Exception) -> Response:
        assert isinstance(error, FirmGone)
        if error.survivor_id:
            session.flash(request, N_("That firm was merged into this one."))
            return RedirectResponse(firm_path(error.survivor_id), status_code=303)
        return await _refusal(request, N_("Not found"), N_("There is no such firm or page."), 404)
