"""What a firm lacks for its next stage (the same rules the stage move applies)."""

from dataclasses import dataclass

from crm_intake.domain.enterprise import Enterprise
from crm_intake.domain.stages import STAGE_ORDER, missing_for, stage_rank
from crm_intake.service import common
from crm_intake.service.context import IntakeContext
from crm_shared.contracts.vocabulary import Stage


@dataclass(frozen=True)
class StageGaps:
    stage: Stage
    missing: list[str]  # requirement fields, see errors.REQUIREMENTS


async def next_stage_gaps(ctx: IntakeContext, enterprise: Enterprise) -> StageGaps | None:
    """The next stage and what is missing to enter it; None at the last stage."""
    rank = stage_rank(enterprise.stage)
    if rank + 1 >= len(STAGE_ORDER):
        return None
    following = STAGE_ORDER[rank + 1]
    facts = await common.facts_for(ctx, enterprise.id, None)
    missing = [problem.field for problem in missing_for(following, enterprise, facts)]
    return StageGaps(following, missing)
