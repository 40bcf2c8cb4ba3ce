"""What can go wrong in intake, independent of HTTP (forms and the CSV import read these too).

Each error names the fields at fault, so any entry point can show the message next to the input.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class IntakeError(Exception):
    """Base of every refusal the service layer gives."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(IntakeError):
    """The input (or the state it would lead to) breaks a rule; `problems` names each field."""

    def __init__(self, problems: list[FieldProblem], detail: str | None = None) -> None:
        super().__init__(detail or "; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class TransitionRefused(InvalidInput):
    """A stage move that lacks required fields; `problems` lists every one of them."""


class NotFound(IntakeError):
    def __init__(self, what: str, identifier: str) -> None:
        super().__init__(f"no {what} with id {identifier}")
        self.what = what
        self.identifier = identifier


class MergedAway(IntakeError):
    """The enterprise was merged into `survivor_id`; it lives on there."""

    def __init__(self, identifier: str, survivor_id: str) -> None:
        super().__init__(f"enterprise {identifier} was merged into {survivor_id}")
        self.identifier = identifier
        self.survivor_id = survivor_id


class VersionRequired(IntakeError):
    """An update that does not say which version it saw."""


class VersionMismatch(IntakeError):
    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the record changed: you saw version {expected}, it is now {current}")
        self.expected = expected
        self.current = current


class RoleRequired(IntakeError):
    """The caller's role may not do this particular change (e.g. a backward move)."""

    def __init__(self, role: str, detail: str) -> None:
        super().__init__(detail)
        self.role = role


class Conflict(IntakeError):
    """The request contradicts the current state (merging a firm with itself, key reuse)."""


@dataclass
class DuplicateCandidate:
    id: str
    name: str
    country: str
    stage: str
    matched_on: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "stage": self.stage,
            "matched_on": self.matched_on,
        }


class DuplicatesFound(IntakeError):
    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        names = ", ".join(f"{c.name} ({c.id})" for c in candidates)
        super().__init__(
            f"likely duplicates exist: {names}; merge, or create anyway with allow_duplicate=true"
        )
        self.candidates = candidates
