"""What both CLIs share: settings, the offline service context, readable failures."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo.errors import PyMongoError, ServerSelectionTimeoutError

from crm_intake.bootstrap import offline_context
from crm_intake.domain.errors import IntakeError, InvalidInput
from crm_intake.service.context import IntakeContext
from crm_intake.settings import IntakeSettings
from crm_shared.settings import load_settings

T = TypeVar("T")


def fail(message: str, status: int = 1) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(status)


def run_with_context(work: Callable[[IntakeContext], Awaitable[T]]) -> T:
    """Run `work` against intake's database; turn refusals into one clear line each."""
    settings = load_settings(IntakeSettings)

    async def main() -> T:
        async with offline_context(settings) as ctx:
            return await work(ctx)

    try:
        return asyncio.run(main())
    except InvalidInput as error:
        lines = "\n".join(f"  {p.field}: {p.message}" for p in error.problems)
        fail(f"invalid input:\n{lines}")
    except IntakeError as error:
        fail(error.detail)
    except ServerSelectionTimeoutError:
        fail(
            f"cannot reach MongoDB at {settings.mongo_uri} "
            "(is it running? set CRM_MONGO_URI to point elsewhere)"
        )
    except PyMongoError as error:
        fail(f"database error: {error}")
    raise AssertionError("unreachable")
