"""A firm's whole story: stage changes, interactions, audit entries, follow-ups and emails."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_intake.service import common
from crm_intake.service.context import IntakeContext


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # stage_changed, interaction, audit, followup.*, notification.*
    title: str
    actor: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _without_ids(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("_id", "enterprise_id", "at")}


async def get_timeline(
    ctx: IntakeContext, enterprise_id: str, *, limit: int = 500
) -> list[TimelineEntry]:
    """Newest first; at most `limit` entries."""
    enterprise = await common.load_enterprise(ctx, enterprise_id)
    entries: list[TimelineEntry] = []
    for step in await ctx.stage_history.of_enterprise(enterprise.id):
        title = (
            f"{step['from_stage']} → {step['to_stage']}"
            if step.get("from_stage")
            else f"created at {step['to_stage']}"
        )
        entries.append(
            TimelineEntry(step["at"], "stage_changed", title, step.get("actor"), _without_ids(step))
        )
    for interaction in await ctx.interactions.of_enterprise(enterprise.id):
        entries.append(
            TimelineEntry(
                interaction.occurred_at,
                "interaction",
                f"{interaction.kind.value}: {interaction.summary or ''}".rstrip(": "),
                interaction.created_by,
                interaction.model_dump(mode="json", exclude={"enterprise_id", "occurred_at"}),
            )
        )
    for audit in await ctx.audit.of_enterprise(enterprise.id):
        title = f"{audit['entity']} {audit['action']}"
        if audit.get("changes"):
            title += ": " + ", ".join(sorted(audit["changes"]))
        entries.append(
            TimelineEntry(audit["at"], "audit", title, audit.get("actor"), _without_ids(audit))
        )
    for activity in await ctx.activity.of_enterprise(enterprise.id):
        entries.append(
            TimelineEntry(
                activity["at"],
                activity["kind"],
                activity.get("title", activity["kind"]),
                activity.get("source"),
                _without_ids(activity),
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
