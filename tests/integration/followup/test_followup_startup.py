"""A broken rules file stops `crm-followup` at start with the rule and field named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_a_broken_rules_file_stops_the_service(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nrules:\n  - name: thanks\n    trigger: {event: interaction_logged}\n"
        "    delay: tomorrow\n    template: thank_you\n    audience: contact\n"
        "    category: followup\n"
    )
    process = subprocess.run(
        [sys.executable, "-m", "crm_followup.entrypoints.main"],
        env={**os.environ, "CRM_FOLLOWUP_RULES_FILE": str(rules), "CRM_ENV": "test"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert process.returncode == 2, process.stderr
    assert "CRM_FOLLOWUP_RULES_FILE" in process.stderr
    assert "rule 'thanks', field delay: 'tomorrow' is not a delay" in process.stderr
