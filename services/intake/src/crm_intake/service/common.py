"""Steps several use cases share: load a firm for a change, save it, check staff names."""

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from crm_intake.domain.enterprise import Enterprise
from crm_intake.domain.errors import (
    FieldProblem,
    InvalidInput,
    MergedAway,
    NotFound,
    VersionMismatch,
    VersionRequired,
)
from crm_intake.domain.stages import Facts
from crm_intake.service.context import IntakeContext
from crm_shared.mongo.unit_of_work import Tx

MAX_MERGE_HOPS = 20


def require_merge_patch(
    patch: object, expected_version: int | None, *, missing: str
) -> dict[str, Any]:
    """A JSON merge patch (RFC 7396) names the version it edits and is an object;
    `missing` says how to name the version."""
    if expected_version is None:
        raise VersionRequired(missing)
    if not isinstance(patch, dict):
        raise InvalidInput([FieldProblem("body", "a merge patch is a JSON object")])
    return patch


async def survivor_of(
    ctx: IntakeContext, enterprise: Enterprise, session: AsyncClientSession | None = None
) -> str:
    """Where a merged firm lives now (merges can chain: A into B, later B into C)."""
    current = enterprise
    for _ in range(MAX_MERGE_HOPS):
        if current.merged_into is None:
            return current.id
        following = await ctx.enterprises.get(current.merged_into, session)
        if following is None:
            return current.merged_into
        current = following
    return current.id


async def load_enterprise(
    ctx: IntakeContext, enterprise_id: str, session: AsyncClientSession | None = None
) -> Enterprise:
    """The live firm; NotFound, or MergedAway naming its survivor."""
    enterprise = await ctx.enterprises.get(enterprise_id, session)
    if enterprise is None:
        raise NotFound("enterprise", enterprise_id)
    if enterprise.is_merged:
        raise MergedAway(enterprise_id, await survivor_of(ctx, enterprise, session))
    return enterprise


async def load_for_change(
    ctx: IntakeContext, tx: Tx, enterprise_id: str, expected_version: int | None
) -> Enterprise:
    """The live firm, if it is still at the version the caller saw (when they name one)."""
    enterprise = await load_enterprise(ctx, enterprise_id, tx.session)
    if expected_version is not None and enterprise.version != expected_version:
        raise VersionMismatch(expected_version, enterprise.version)
    return enterprise


async def save_enterprise(
    ctx: IntakeContext, tx: Tx, before: Enterprise, **changes: object
) -> Enterprise:
    """Store `before` with `changes`, one version up; refused if someone else saved first."""
    after = before.model_copy(
        update={**changes, "version": before.version + 1, "updated_at": tx.now}
    )
    if not await ctx.enterprises.replace(
        after, expected_version=before.version, session=tx.session
    ):
        current = await ctx.enterprises.get(before.id, tx.session)
        raise VersionMismatch(before.version, current.version if current else before.version)
    return after


async def facts_for(
    ctx: IntakeContext, enterprise_id: str, session: AsyncClientSession | None
) -> Facts:
    contacts = await ctx.contacts.of_enterprise(enterprise_id, session)
    return Facts(reachable_contacts=sum(1 for c in contacts if c.reachable))


async def staff_problems(
    ctx: IntakeContext, names: dict[str, str | None], session: AsyncClientSession | None
) -> list[FieldProblem]:
    """A problem for each field naming a staff user who does not exist or is disabled."""
    problems = []
    for field, username in names.items():
        if username is None:
            continue
        user = await ctx.users.get(username, session)
        if user is None or not user.get("active", True):
            problems.append(FieldProblem(field, f"no active staff user called {username!r}"))
    return problems
