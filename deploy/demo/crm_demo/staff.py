"""`python -m crm_demo.staff`: make sure the demo's account managers exist as staff users.

Staff users have no HTTP API (they are an operator's business), so this uses intake's admin
CLI, `crm-intake-admin`, with the same `CRM_*` settings (`.env`) as the running intake.
Existing users are left as they are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .data import STAFF

DEFAULT_PASSWORD = "warmyang-demo-password"  # noqa: S105 (local demo sign-in, printed)


def _admin_cli() -> str:
    beside = Path(sys.executable).with_name("crm-intake-admin")
    found = str(beside) if beside.exists() else shutil.which("crm-intake-admin")
    if found is None:
        raise SystemExit("crm-intake-admin not found: run `make install` first")
    return found


def _run(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [_admin_cli(), *args], input=stdin, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"crm-intake-admin {args[0]}: {result.stderr.strip()}")
    return result.stdout


def main() -> int:
    password = os.environ.get("CRM_DEMO_PASSWORD") or DEFAULT_PASSWORD
    existing = {line.split()[0] for line in _run("list-users").splitlines() if line.strip()}
    for username, role, name, language in STAFF:
        if username in existing:
            print(f"  = staff user {username} ({role}) already there")
            continue
        _run("create-user", username, "--role", role, "--name", name, "--language", language,
             "--password-stdin", stdin=password + "\n")  # fmt: skip
        print(f"  + staff user {username} ({role}), password {password!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
