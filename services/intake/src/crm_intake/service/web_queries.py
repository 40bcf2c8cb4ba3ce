"""Read-only queries the staff pages need beyond the use cases: the signed-in user and the
dashboard (firms per stage, overdue follow-ups, firms gone quiet).

Each query is an equality, or a range bounded on both sides, on an index (SecantusDB scans
otherwise, and also for `$in`/`$or`: see INFRA.md and adapters/enterprises.py). The
indexes of the follow-up queries are this module's own (`ensure_web_indexes`).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel

from crm_intake.adapters.documents import from_document
from crm_intake.domain.enterprise import Enterprise
from crm_intake.service.context import IntakeContext
from crm_shared.contracts.vocabulary import Stage, Status

QUIET_STATUSES = (Status.ACTIVE.value, Status.ON_HOLD.value)
# Lower bound of the time ranges (a range open on one side is not served from an index).
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
WEB_INDEXES = [
    IndexModel([("kind", ASCENDING), ("data.due_at", ASCENDING)], name="web_due_followups"),
    IndexModel([("data.followup_id", ASCENDING)], name="web_followup_id", sparse=True),
]


async def ensure_web_indexes(ctx: IntakeContext) -> None:
    await ctx.db["activity"].create_indexes(WEB_INDEXES)


async def staff_user(ctx: IntakeContext, username: str) -> dict[str, Any] | None:
    """An active staff user without the password hash; None if unknown or deactivated."""
    user = await ctx.users.get(username)
    if user is None or not user.get("active", True):
        return None
    return {k: v for k, v in user.items() if k != "password_hash"}


async def firms_per_stage(ctx: IntakeContext) -> dict[Stage, int]:
    """Live (not merged) firms at each stage."""
    counts = {}
    for stage in Stage:
        counts[stage] = await ctx.db["enterprises"].count_documents(
            {"stage": stage.value, "merged_into": None}
        )
    return counts


@dataclass(frozen=True)
class OverdueFollowup:
    followup_id: str
    enterprise_id: str
    enterprise_name: str
    template: str
    due_at: datetime


def _utc_text(moment: datetime) -> str:
    # Activity data is stored as JSON: datetimes are ISO strings ending in Z.
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + "Z"


# Past-due windows, newest first: most scheduled entries are long done, so reading the
# oldest first would never reach the overdue ones. Older than a year is not looked at.
OVERDUE_WINDOWS = (timedelta(days=1), timedelta(days=7), timedelta(days=31), timedelta(days=366))


async def overdue_followups(
    ctx: IntakeContext, *, now: datetime, limit: int = 50
) -> list[OverdueFollowup]:
    """Follow-ups whose latest news is "scheduled" with a due time before `now`.

    Intake knows follow-ups only from the followup service's events (SPEC §2: no service
    reads another's database), so "overdue" is what those events say.
    """
    overdue: dict[str, OverdueFollowup] = {}
    newer = now
    for reach in OVERDUE_WINDOWS:
        older = now - reach
        for followup_id in await _scheduled_between(ctx, older, newer):
            if followup_id not in overdue:
                item = await _if_overdue(ctx, followup_id, now)
                if item is not None:
                    overdue[followup_id] = item
        if len(overdue) >= limit:
            break
        newer = older
    items = sorted(overdue.values(), key=lambda item: item.due_at)[:limit]
    names = await firm_names(ctx, [item.enterprise_id for item in items])
    return [
        OverdueFollowup(
            o.followup_id, o.enterprise_id, names.get(o.enterprise_id, ""), o.template, o.due_at
        )
        for o in items
    ]


async def _scheduled_between(ctx: IntakeContext, older: datetime, newer: datetime) -> list[str]:
    entries = ctx.db["activity"].find(
        {
            "kind": "followup.scheduled",
            "data.due_at": {"$gte": _utc_text(older), "$lt": _utc_text(newer)},
        },
        {"data.followup_id": 1},
    )
    return sorted({entry["data"]["followup_id"] async for entry in entries})


async def _if_overdue(
    ctx: IntakeContext, followup_id: str, now: datetime
) -> OverdueFollowup | None:
    entries = await ctx.db["activity"].find({"data.followup_id": followup_id}).to_list()
    # The notification events carry the follow-up id too: an email sent, failed or
    # suppressed after the scheduling is news that the follow-up is over.
    latest = max(entries, key=lambda e: (e["at"], e["kind"] == "followup.scheduled"))
    if latest["kind"] != "followup.scheduled":
        return None
    due_at = datetime.fromisoformat(latest["data"]["due_at"].replace("Z", "+00:00"))
    if due_at >= now:
        return None  # deferred to a later time since
    return OverdueFollowup(
        followup_id, latest["enterprise_id"], "", latest["data"].get("template", ""), due_at
    )


async def quiet_firms(
    ctx: IntakeContext, *, now: datetime, days: int = 30, limit: int = 50
) -> list[Enterprise]:
    """Active or on-hold firms without any activity for `days` days, quietest first."""
    cutoff = now - timedelta(days=days)
    found: list[Enterprise] = []
    for status in QUIET_STATUSES:
        cursor = (
            ctx.db["enterprises"]
            .find({"status": status, "last_activity_at": {"$gte": EPOCH, "$lt": cutoff}})
            .sort("last_activity_at", ASCENDING)
            .limit(limit)
        )
        found += [
            from_document(Enterprise, doc) async for doc in cursor if not doc.get("merged_into")
        ]
    found.sort(key=lambda firm: firm.last_activity_at)
    return found[:limit]


async def firm_names(ctx: IntakeContext, ids: list[str]) -> dict[str, str]:
    names = {}
    for enterprise_id in sorted(set(ids)):
        document = await ctx.db["enterprises"].find_one({"_id": enterprise_id}, {"name": 1})
        if document is not None:
            names[enterprise_id] = document["name"]
    return names
