"""Loads the demo firms through intake's HTTP API, and nothing else.

Safe to run again: each firm is created with an `Idempotency-Key` (a repeat answers with
the firm created the first time), and every later step looks at what the firm already has —
contacts by name, interactions by summary, fields already set, the stage it stands at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from .data import STAGES, DemoFirm, Meeting, Person

API = "/api/v1"
KEY_PREFIX = "crm-demo-v1-"
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class DemoError(RuntimeError):
    """Intake refused a step; the message says which and why."""


def credit_code(seed: int) -> str:
    """A unified social credit code (GB 32100-2015) with a valid check character."""
    body = f"91310110{seed % 10**9:09d}"
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return body + CREDIT_ALPHABET[(31 - total % 31) % 31]


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def _person(person: Person) -> dict[str, Any]:
    return {
        "full_name": person.full_name,
        "email": person.email,
        "phone": person.phone,
        "language": person.language,
        "timezone": person.timezone,
        "country": person.country,
        "email_consent": person.email_consent,
        "job_title": person.job_title,
    }


def _stage_fields(firm: DemoFirm, stage: str) -> dict[str, Any]:
    """What `stage` asks for beyond the earlier stages (SPEC §3), for this firm."""
    if stage == "qualified":
        return {"sector": firm.sector, "needs": list(firm.needs), "owner": firm.owner}
    if stage == "negotiating":
        fields: dict[str, Any] = {"target_date": _day(90)}
        if firm.investment_eur:
            amount = f"{firm.investment_eur}.00"
            fields["planned_investment"] = {"amount": amount, "currency": "EUR"}
        if firm.partnership_type:
            fields["partnership_type"] = firm.partnership_type
        return fields
    if stage == "landed":
        return {"credit_code": credit_code(firm.credit_seed), "landing_date": _day(-10)}
    if stage == "established_partnership":
        return {
            "partnerships": [{"partner_organisation": p, "kind": k} for p, k in firm.partners],
            "aftercare_owner": firm.aftercare_owner,
        }
    return {}


@dataclass
class Outcome:
    firm: DemoFirm
    enterprise_id: str
    created: bool
    stage: str
    status: str
    contacts_added: int = 0
    interactions_logged: int = 0
    moves: list[str] = field(default_factory=list)


class DemoLoader:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, f"{API}{path}", **kwargs)
        if response.status_code >= 400 and response.status_code != 409:
            raise DemoError(f"{method} {path}: {response.status_code} {_problem(response)}")
        return response

    def check_access(self) -> str:
        """Who the token belongs to; DemoError with a hint if intake refuses it."""
        response = self.http.get(f"{API}/me")
        if response.status_code == 401:
            raise DemoError(
                "intake refused the token (401): pass --token or set "
                "CRM_BOOTSTRAP_ADMIN_TOKEN to the value intake was started with"
            )
        if response.status_code != 200:
            raise DemoError(f"GET {API}/me: {response.status_code} {_problem(response)}")
        return str(response.json()["id"])

    def load(self, firm: DemoFirm) -> Outcome:
        document, created = self._create(firm)
        outcome = Outcome(firm, document["id"], created, document["stage"], document["status"])
        outcome.contacts_added = self._add_people(firm, document)
        outcome.interactions_logged = self._log_history(firm, outcome.enterprise_id)
        self._advance(firm, outcome)
        if firm.status and outcome.status != firm.status:
            self._call("POST", f"/enterprises/{outcome.enterprise_id}/status",
                       json={"status": firm.status, "reason": firm.notes})  # fmt: skip
            outcome.status = firm.status
        return outcome

    def _create(self, firm: DemoFirm) -> tuple[dict[str, Any], bool]:
        body = {
            "name": firm.name,
            "local_name": firm.local_name,
            "country": firm.country,
            "source": firm.source,
            "website": firm.website,
            "notes": firm.notes,
            "primary_contact": _person(firm.people[0]),
        }
        response = self._call(
            "POST", "/enterprises", json=body, headers={"Idempotency-Key": KEY_PREFIX + firm.key}
        )
        if response.status_code == 409:  # loaded before with another token: use that firm
            same = [c for c in response.json().get("candidates", []) if c["name"] == firm.name]
            if not same:
                raise DemoError(f"{firm.name}: 409 {_problem(response)}")
            return self._firm(same[0]["id"]), False
        return response.json(), response.headers.get("Idempotent-Replayed") != "true"

    def _firm(self, enterprise_id: str) -> dict[str, Any]:
        return self._call("GET", f"/enterprises/{enterprise_id}").json()

    def _add_people(self, firm: DemoFirm, document: dict[str, Any]) -> int:
        present = {c["full_name"] for c in document["contacts"]}
        added = 0
        for person in firm.people[1:]:
            if person.full_name not in present:
                self._call("POST", f"/enterprises/{document['id']}/contacts", json=_person(person))
                added += 1
        return added

    def _log_history(self, firm: DemoFirm, enterprise_id: str) -> int:
        timeline = self._call("GET", f"/enterprises/{enterprise_id}/timeline").json()["entries"]
        logged = {e["detail"].get("summary") for e in timeline if e["kind"] == "interaction"}
        contacts = {c["full_name"]: c["id"] for c in self._firm(enterprise_id)["contacts"]}
        count = 0
        for meeting in sorted(firm.history, key=lambda m: -m.days_ago):
            if meeting.summary not in logged:
                self._call("POST", f"/enterprises/{enterprise_id}/interactions",
                           json=_interaction(meeting, firm, contacts))  # fmt: skip
                count += 1
        return count

    def _advance(self, firm: DemoFirm, outcome: Outcome) -> None:
        """One stage at a time, so the history shows every step."""
        target = STAGES.index(firm.stage)
        while STAGES.index(outcome.stage) < target:
            following = STAGES[STAGES.index(outcome.stage) + 1]
            self._fill(outcome.enterprise_id, _stage_fields(firm, following))
            moved = self._call("POST", f"/enterprises/{outcome.enterprise_id}/transitions",
                               json={"to_stage": following})  # fmt: skip
            outcome.stage = moved.json()["stage"]
            outcome.moves.append(following)

    def _fill(self, enterprise_id: str, wanted: dict[str, Any]) -> None:
        """PATCH the fields that are not set yet (merge patch, with the version just read)."""
        current = self._call("GET", f"/enterprises/{enterprise_id}")
        document = current.json()
        missing = {k: v for k, v in wanted.items() if document.get(k) in (None, [], "")}
        if missing:
            self._call(
                "PATCH",
                f"/enterprises/{enterprise_id}",
                content=json.dumps(missing),
                headers={
                    "Content-Type": "application/merge-patch+json",
                    "If-Match": current.headers.get("ETag", f'"{document["version"]}"'),
                },
            )


def _interaction(meeting: Meeting, firm: DemoFirm, contacts: dict[str, str]) -> dict[str, Any]:
    names = [firm.people[i].full_name for i in meeting.with_people]
    occurred = datetime.now(UTC).replace(hour=2, minute=30, second=0, microsecond=0) - timedelta(
        days=meeting.days_ago
    )
    return {
        "kind": meeting.kind,
        "occurred_at": occurred.isoformat(),
        "summary": meeting.summary,
        "contact_ids": [contacts[n] for n in names if n in contacts],
        "next_step": meeting.next_step,
    }


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    detail = body.get("detail") or body.get("title") or ""
    fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body.get("errors") or [])
    return f"{detail} {fields}".strip()
