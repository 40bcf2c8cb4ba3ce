"""Where the repository is, and which external tools (java, mvn) are on PATH."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

_MARKER = Path("deploy") / "devstack" / "kafka" / "pom.xml"


class MissingToolError(RuntimeError):
    """A program the local stack needs is not installed; the message says how to get it."""


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingToolError(f"`{name}` not found on PATH. {hint}")
    return path


@cache
def repo_root() -> Path:
    """The checkout this package runs from (it is installed editable by the workspace).

    Falls back to the working directory, which is the repository when run by
    `make` or honcho.
    """
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / _MARKER).is_file():
                return candidate
    return Path.cwd().resolve()
