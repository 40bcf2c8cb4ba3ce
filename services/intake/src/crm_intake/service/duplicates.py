"""Likely duplicates of a firm: other live firms sharing a normalised name, website or code."""

from crm_intake.domain.duplicates import DuplicateKeys, duplicate_keys, matched_on
from crm_intake.domain.errors import DuplicateCandidate
from crm_intake.service import common
from crm_intake.service.context import IntakeContext


async def find_duplicates(ctx: IntakeContext, enterprise_id: str) -> list[DuplicateCandidate]:
    """Other live firms that are likely the same as this one."""
    enterprise = await common.load_enterprise(ctx, enterprise_id)
    keys = duplicate_keys(
        enterprise.name, enterprise.local_name, enterprise.website, enterprise.credit_code
    )
    return await candidates(ctx, keys, exclude=enterprise_id)


async def candidates(
    ctx: IntakeContext, keys: DuplicateKeys, *, exclude: str | None
) -> list[DuplicateCandidate]:
    mine = keys.tagged()
    return [
        DuplicateCandidate(
            doc["_id"],
            doc["name"],
            doc["country"],
            doc["stage"],
            matched_on(mine, doc.get("duplicate_keys", [])),
        )
        for doc in await ctx.enterprises.sharing_keys(mine)
        if doc["_id"] != exclude
    ]
