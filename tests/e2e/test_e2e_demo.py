"""`make demo`'s two steps (deploy/demo) against the running stack: firms at every stage,
and a second run changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

DEMO = Path(__file__).resolve().parents[2] / "deploy" / "demo"
STAGES = [
    "first_contact", "qualified", "engaged", "negotiating", "landed", "established_partnership"
]  # fmt: skip


def _run(stack: Stack, *args: str) -> str:
    env = {**os.environ, **stack.services["intake"].env, "PYTHONPATH": str(DEMO)}
    env.pop("CRM_BOOTSTRAP_ADMIN_TOKEN")  # the loader gets it as an argument here
    result = subprocess.run(
        [sys.executable, "-m", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


async def _demo_firms_by_stage(stack: Stack) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    async with stack.client("intake") as http:
        for stage in STAGES:
            page = await http.get("/api/v1/enterprises", params={"stage": stage, "limit": 200})
            assert page.status_code == 200, page.text
            found[stage] = [
                item["name"]
                for item in page.json()["items"]
                if ".example.com" in str(item.get("website"))
            ]
    return found


async def test_demo_loads_firms_at_every_stage_and_is_idempotent(stack: Stack) -> None:
    staff = _run(stack, "crm_demo.staff")
    assert "demo.mei.lin" in staff
    first = _run(stack, "crm_demo", "--url", stack.url("intake"), "--token", stack.admin_token)
    assert " 0 new" not in first, first
    by_stage = await _demo_firms_by_stage(stack)
    assert all(len(names) >= 3 for names in by_stage.values()), by_stage

    async with stack.client("intake") as http:
        listing = await http.get("/api/v1/enterprises", params={"limit": 200})
        kesselbach = next(i for i in listing.json()["items"] if i["name"].startswith("Kesselbach"))
        firm = (await http.get(f"/api/v1/enterprises/{kesselbach['id']}")).json()
        assert {c["language"] for c in firm["contacts"]} == {"de", "zh"}
        timeline = (await http.get(f"/api/v1/enterprises/{firm['id']}/timeline")).json()
        assert any(e["kind"] == "interaction" for e in timeline["entries"])

    again = _run(stack, "crm_demo.staff")
    assert "+ staff user" not in again
    second = _run(stack, "crm_demo", "--url", stack.url("intake"), "--token", stack.admin_token)
    assert "(0 new), 0 contacts and 0 interactions added" in second, second
    assert await _demo_firms_by_stage(stack) == by_stage


def test_demo_refuses_a_wrong_token_with_a_hint(stack: Stack) -> None:
    env = {**os.environ, "PYTHONPATH": str(DEMO)}
    result = subprocess.run(
        [sys.executable, "-m", "crm_demo", "--url", stack.url("intake"), "--token", "wrong"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "CRM_BOOTSTRAP_ADMIN_TOKEN" in result.stderr


def test_demo_data_is_not_sent_anywhere_real() -> None:
    sys.path.insert(0, str(DEMO))
    try:
        from crm_demo.data import FIRMS
    finally:
        sys.path.remove(str(DEMO))
    for firm in FIRMS:
        assert firm.website.endswith(".example.com"), firm.website
        for person in firm.people:
            assert person.email is None or person.email.endswith(".example.com"), person.email
