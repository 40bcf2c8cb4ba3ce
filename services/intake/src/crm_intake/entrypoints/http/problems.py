"""Intake's refusals as RFC 9457 problem documents, and their OpenAPI descriptions."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from crm_intake.domain.errors import (
    Conflict,
    DuplicatesFound,
    IntakeError,
    InvalidInput,
    MergedAway,
    NotFound,
    RoleRequired,
    TransitionRefused,
    VersionMismatch,
    VersionRequired,
)
from crm_shared.http.problems import (
    PROBLEM_JSON,
    PROBLEM_RESPONSES,
    FieldError,
    Problem,
    problem_response,
)

API = "/api/v1"


class Candidate(BaseModel):
    id: str
    name: str
    country: str
    stage: str
    matched_on: list[str]


class DuplicateProblem(Problem):
    """409 on create: likely duplicates, with how each matched."""

    candidates: list[Candidate]


class MovedProblem(Problem):
    """301/410: the firm was merged; `survivor_id` is where it lives now."""

    survivor_id: str
    survivor: str


class VersionProblem(Problem):
    current_version: int | None = None


_DESCRIPTIONS: dict[int, tuple[str, type[Problem]]] = {
    301: ("The firm was merged; `Location` names the survivor", MovedProblem),
    404: ("No such record", Problem),
    409: ("Conflicts with the current state (e.g. likely duplicates, key reuse)", DuplicateProblem),
    410: ("The firm was merged into another; writes go to `survivor_id`", MovedProblem),
    412: ("If-Match names an old version: reload and retry", VersionProblem),
    428: ("If-Match is required", Problem),
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for 401, 403, 422 and the given statuses, all problem+json."""
    responses = dict(PROBLEM_RESPONSES)
    for status in statuses:
        description, model = _DESCRIPTIONS[status]
        responses[status] = {
            "model": model,
            "content": {PROBLEM_JSON: {}},
            "description": description,
        }
    return responses


def _field_errors(error: InvalidInput) -> list[FieldError]:
    return [FieldError(field=p.field, message=p.message) for p in error.problems]


def _moved(request: Request, error: MergedAway) -> JSONResponse:
    survivor = request.url.path.replace(error.identifier, error.survivor_id)
    permanent = request.method in ("GET", "HEAD")
    status = 301 if permanent else 410
    return problem_response(
        request,
        status,
        "Moved Permanently" if permanent else "Gone",
        error.detail,
        kind="merged",
        headers={"Location": survivor},
        survivor_id=error.survivor_id,
        survivor=survivor,
    )


def to_problem(request: Request, error: IntakeError) -> JSONResponse:
    match error:
        case TransitionRefused():
            return problem_response(
                request,
                422,
                "Transition refused",
                error.detail,
                kind="transition-refused",
                errors=_field_errors(error),
            )
        case InvalidInput():
            return problem_response(
                request,
                422,
                "Invalid request",
                error.detail,
                kind="validation",
                errors=_field_errors(error),
            )
        case NotFound():
            return problem_response(request, 404, "Not found", error.detail, kind="not-found")
        case MergedAway():
            return _moved(request, error)
        case VersionRequired():
            return problem_response(
                request, 428, "Precondition required", error.detail, kind="if-match-required"
            )
        case VersionMismatch():
            return problem_response(
                request,
                412,
                "Precondition failed",
                error.detail,
                kind="stale-version",
                headers={"ETag": f'"{error.current}"'},
                current_version=error.current,
            )
        case RoleRequired():
            return problem_response(request, 403, "Forbidden", error.detail, kind="forbidden")
        case DuplicatesFound():
            return problem_response(
                request,
                409,
                "Likely duplicate",
                error.detail,
                kind="duplicate",
                candidates=[c.as_dict() for c in error.candidates],
            )
        case Conflict():
            return problem_response(request, 409, "Conflict", error.detail, kind="conflict")
    return problem_response(request, 400, "Bad request", error.detail)


def install_intake_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(IntakeError)
    async def _intake_error(request: Request, error: IntakeError) -> JSONResponse:
        return to_problem(request, error)
