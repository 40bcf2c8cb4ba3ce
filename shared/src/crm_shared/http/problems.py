"""RFC 9457 problem details for every error a service answers with.

Validation errors name each offending field (`errors[].field` as a JSON pointer-ish
dotted path), so a client can show the message next to the input.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:warmyang:problem:"
# How soon a client may try again when the database is out of reach (a restart, a failover).
DATABASE_RETRY_AFTER_SECONDS = 5


class FieldError(BaseModel):
    field: str
    message: str
    type: str | None = None


class Problem(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Raise from anywhere to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        kind: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.errors = errors
        self.headers = headers
        self.extensions = extensions


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    kind: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = Problem(
        type=f"{TYPE_BASE}{kind}" if kind else "about:blank",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    ).model_dump(exclude_none=True)
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_errors_from(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for item in exc.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("body",)]
        errors.append(
            FieldError(
                field=".".join(location) or "body", message=item["msg"], type=item.get("type")
            )
        )
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.title, exc.detail, kind=exc.kind, errors=exc.errors,
            headers=exc.headers, **exc.extensions,
        )  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors_from(exc)
        return problem_response(
            request,
            422,
            "Invalid request",
            "; ".join(f"{e.field}: {e.message}" for e in errors),
            kind="validation",
            errors=errors,
        )

    @app.exception_handler(ConnectionFailure)
    async def _database_away(request: Request, exc: ConnectionFailure) -> JSONResponse:
        # Not a bug to report but a moment to wait: say so, as RFC 9110 has it, with 503.
        return problem_response(
            request,
            503,
            "Service Unavailable",
            "the database is out of reach; send the request again shortly",
            kind="database-unavailable",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            request, exc.status_code, _title(exc.status_code), str(exc.detail),
            headers=getattr(exc, "headers", None),
        )  # fmt: skip


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": text}
    for status, text in {
        401: "Missing or invalid bearer token",
        403: "The caller's role may not do this",
        422: "Invalid input; `errors` names each field",
    }.items()
}
