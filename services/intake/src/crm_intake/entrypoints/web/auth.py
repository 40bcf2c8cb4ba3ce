"""Sign in, sign out, and the language switch (on every page)."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from crm_intake.entrypoints.web import session
from crm_intake.entrypoints.web.deps import Ctx, Renderer, safe_next, see_other
from crm_intake.entrypoints.web.forms import FormState, read_values
from crm_intake.entrypoints.web.i18n import supported
from crm_intake.entrypoints.web.labels import N_
from crm_intake.entrypoints.web.rendering import PREFIX
from crm_intake.service import staff

router = APIRouter(prefix=PREFIX, dependencies=[Depends(session.check_csrf)])
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
WRONG_CREDENTIALS = N_("The user name or the password is wrong.")


@router.get("/sign-in")
async def sign_in_page(request: Request, pages: Renderer, next: str | None = None) -> Response:
    if await session.current_user(request) is not None:
        return see_other(safe_next(next))
    return pages.render(request, "sign_in.html", form=FormState(), next=safe_next(next))


@router.post("/sign-in")
async def sign_in(request: Request, ctx: Ctx, pages: Renderer) -> Response:
    values = read_values(await request.form())
    username = str(values.get("username", ""))
    actor = await staff.authenticate_user(ctx, username, str(values.get("password", "")))
    user = await session.find_user(ctx, actor.id) if actor else None
    if user is None:
        form = FormState(values={"username": username})  # never the password
        form.errors.add("password", pages.gettext(request)(WRONG_CREDENTIALS))
        return pages.render(
            request, "sign_in.html", form=form, next=safe_next(values.get("next")), status_code=401
        )
    session.start_session(request, user)
    return see_other(safe_next(values.get("next")))


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    session.end_session(request)
    session.flash(request, N_("You are signed out."))
    return see_other(f"{PREFIX}/sign-in")


@router.post("/language")
async def switch_language(request: Request) -> Response:
    """Remember the chosen language in a cookie, then show the same page again."""
    values = read_values(await request.form())
    language = supported(str(values.get("language", "")))
    response = see_other(safe_next(values.get("next")))
    if language:
        response.set_cookie(
            session.LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_COOKIE_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.app.state.web_secure_cookies,
        )
    return response


def _root() -> Response:
    return see_other(f"{PREFIX}/")


root_router = APIRouter(include_in_schema=False)
root_router.add_api_route("/", _root, methods=["GET"])
