"""Refusals that end a page rather than mark a field: unknown or merged firm, wrong role."""

import contextlib
from collections.abc import Iterator

from crm_intake.domain.errors import MergedAway, NotFound, RoleRequired, VersionRequired
from crm_intake.entrypoints.web.labels import N_
from crm_intake.entrypoints.web.session import WebForbidden
from crm_intake.service import enterprises
from crm_intake.service.context import IntakeContext
from crm_intake.service.enterprises import EnterpriseView

STALE = N_(
    "Someone changed this firm while you were editing. Open it again to see the changes; "
    "what you typed is still below."
)


class FirmGone(Exception):
    """The firm does not exist, or was merged into `survivor_id`."""

    def __init__(self, survivor_id: str | None = None) -> None:
        super().__init__(survivor_id or "not found")
        self.survivor_id = survivor_id


@contextlib.contextmanager
def firm_errors() -> Iterator[None]:
    """Turn the service's page-ending refusals into the pages' own exceptions."""
    try:
        yield
    except NotFound as error:
        raise FirmGone() from error
    except MergedAway as error:
        raise FirmGone(error.survivor_id) from error
    except RoleRequired as error:
        raise WebForbidden from error
    except VersionRequired as error:  # a form without its version field: sent by hand
        raise FirmGone() from error


async def load_firm(ctx: IntakeContext, enterprise_id: str) -> EnterpriseView:
    with firm_errors():
        return await enterprises.get_enterprise(ctx, enterprise_id)
