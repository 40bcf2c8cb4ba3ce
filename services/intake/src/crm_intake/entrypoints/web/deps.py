"""What the page routes take: the service context, the renderer, the signed-in user."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from crm_intake.entrypoints.web.rendering import PREFIX, Pages
from crm_intake.entrypoints.web.session import StaffUser, require_user
from crm_intake.service.context import IntakeContext


def _context(request: Request) -> IntakeContext:
    return request.app.state.intake


def _pages(request: Request) -> Pages:
    return request.app.state.web_pages


Ctx = Annotated[IntakeContext, Depends(_context)]
Renderer = Annotated[Pages, Depends(_pages)]
User = Annotated[StaffUser, Depends(require_user)]


def see_other(path: str) -> RedirectResponse:
    """After a successful POST: the browser GETs the next page (no resubmission on reload)."""
    return RedirectResponse(path, status_code=303)


def firm_path(enterprise_id: str, action: str = "") -> str:
    return f"{PREFIX}/firms/{enterprise_id}" + (f"/{action}" if action else "")


def safe_next(path: str | None) -> str:
    """Only a path of these pages: never an address elsewhere (no open redirect)."""
    if path and path.startswith(f"{PREFIX}/") and not path.startswith("//") and "\\" not in path:
        return path
    return f"{PREFIX}/"
