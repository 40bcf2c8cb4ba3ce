"""The firm's timeline (from `service.timeline`) told in the page's language.

The service gives each entry an English title; the page builds its own sentence from the
entry's kind and details instead, and falls back to the title for kinds it does not know.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm_intake.entrypoints.web.i18n import Formats
from crm_intake.entrypoints.web.labels import N_, label_of
from crm_intake.service.timeline import TimelineEntry

AUDIT_ACTIONS = {
    ("enterprise", "created"): N_("Firm record created"),
    ("enterprise", "updated"): N_("Firm details changed"),
    ("enterprise", "status_changed"): N_("Status changed"),
    ("enterprise", "merged"): N_("Duplicate merged into this firm"),
    ("contact", "created"): N_("Contact added"),
    ("contact", "updated"): N_("Contact changed"),
    ("contact", "consent_withdrawn"): N_("Email consent withdrawn"),
    ("contact", "erased"): N_("Contact's personal data erased"),
}
# These audit entries repeat an entry the timeline has already (the stage change, the
# interaction itself), so the page leaves them out.
REPEATED_AUDIT = {("enterprise", "stage_changed"), ("interaction", "logged")}
FIELD_LABELS = {
    "name": N_("Name"),
    "local_name": N_("Name in Chinese"),
    "country": N_("Country"),
    "source": N_("Source"),
    "sector": N_("Sector"),
    "website": N_("Website"),
    "needs": N_("Needs"),
    "owner": N_("Account manager"),
    "planned_investment": N_("Planned investment"),
    "partnership_type": N_("Partnership type"),
    "target_date": N_("Target date"),
    "credit_code": N_("Unified social credit code"),
    "landing_date": N_("Landing date"),
    "partnerships": N_("Partnerships"),
    "aftercare_owner": N_("Aftercare owner"),
    "notes": N_("Notes"),
    "full_name": N_("Full name"),
    "email": N_("Email"),
    "phone": N_("Phone"),
    "language": N_("Language"),
    "timezone": N_("Time zone"),
    "email_consent": N_("Agrees to receive emails"),
    "job_title": N_("Job title"),
    "status": N_("Status"),
    "stage": N_("Stage"),
}
KIND_CLASSES = {"stage_changed": "stage", "interaction": "interaction", "audit": "audit"}


@dataclass(frozen=True)
class ShownEntry:
    at: datetime
    css: str
    text: str
    note: str | None  # staff-written text (summary, reason): shown as written
    actor: str | None


def _stage_text(entry: TimelineEntry, _: Callable[[str], str]) -> tuple[str, str | None]:
    detail = entry.detail
    to_stage = _(label_of("stage", detail.get("to_stage", "")))
    if not detail.get("from_stage"):
        return _("Logged at stage %(stage)s") % {"stage": to_stage}, None
    from_stage = _(label_of("stage", detail["from_stage"]))
    return _("Stage %(from)s → %(to)s") % {"from": from_stage, "to": to_stage}, detail.get("reason")


def _audit_text(
    entry: TimelineEntry, _: Callable[[str], str], formats: Formats
) -> tuple[str, str | None]:
    detail = entry.detail
    key = (detail.get("entity", ""), detail.get("action", ""))
    text = _(AUDIT_ACTIONS[key]) if key in AUDIT_ACTIONS else entry.title
    changes: dict[str, Any] = detail.get("changes") or {}
    if key == ("enterprise", "status_changed") and "status" in changes:
        text = _("Status %(from)s → %(to)s") % {
            "from": _(label_of("status", changes["status"].get("old") or "")),
            "to": _(label_of("status", changes["status"].get("new") or "")),
        }
    elif changes and key in AUDIT_ACTIONS and key[1] in ("updated", "merged"):
        fields = [_(FIELD_LABELS[name]) for name in changes if name in FIELD_LABELS]
        if fields:
            text = _("%(what)s: %(fields)s") % {"what": text, "fields": formats.listing(fields)}
    return text, detail.get("note")


def _reason(data: dict[str, Any], _: Callable[[str], str]) -> str | None:
    reason = data.get("reason")
    return _(label_of("reason", reason)) if reason else None


def _activity_text(
    entry: TimelineEntry, _: Callable[[str], str], formats: Formats
) -> tuple[str, str | None]:
    data: dict[str, Any] = entry.detail.get("data") or {}
    template = _(label_of("template", data.get("template", "")))
    match entry.kind:
        case "followup.scheduled":
            due = formats.datetime(data.get("due_at")) if data.get("due_at") else ""
            return _("Follow-up scheduled: %(template)s, due %(due)s") % {
                "template": template,
                "due": due,
            }, None
        case "followup.cancelled":
            return _("Follow-up cancelled"), _reason(data, _)
        case "followup.completed":
            return _("Follow-up done"), None
        case "notification.sent":
            return _("Email sent: %(template)s") % {"template": template}, None
        case "notification.failed":
            return _("Email could not be delivered: %(template)s") % {
                "template": template
            }, data.get("smtp_response")
        case "notification.suppressed":
            return _("Email not sent: %(template)s") % {"template": template}, _reason(data, _)
        case "notification.unsubscribed":
            return _("The contact unsubscribed from emails"), None
    return entry.title, None


def present(
    entries: list[TimelineEntry], gettext: Callable[[str], str], formats: Formats
) -> list[ShownEntry]:
    shown = []
    for entry in entries:
        note: str | None
        if entry.kind == "stage_changed":
            text, note = _stage_text(entry, gettext)
        elif entry.kind == "interaction":
            kind = gettext(label_of("interaction_kind", entry.detail.get("kind", "")))
            text, note = gettext("%(kind)s logged") % {"kind": kind}, entry.detail.get("summary")
        elif entry.kind == "audit":
            key = (entry.detail.get("entity", ""), entry.detail.get("action", ""))
            if key in REPEATED_AUDIT:
                continue
            text, note = _audit_text(entry, gettext, formats)
        else:
            text, note = _activity_text(entry, gettext, formats)
        css = KIND_CLASSES.get(entry.kind, entry.kind.split(".")[0])
        # Events of the other services name their source (`/warmyang/followup`).
        actor = entry.actor.removeprefix("/warmyang/") if entry.actor else None
        shown.append(ShownEntry(entry.at, css, text, note, actor))
    return shown
