"""Request dependencies: the service context, the calling actor (by role), If-Match, bodies."""

import json
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crm_intake.domain.errors import FieldProblem, InvalidInput
from crm_intake.service.context import Actor, IntakeContext
from crm_shared.auth.tokens import Role

# Documents the bearer scheme in OpenAPI; the shared authenticator does the checking.
_bearer = HTTPBearer(
    auto_error=False, description="An API token from `crm-intake-admin issue-token`"
)
_ETAG = re.compile(r'^\s*"?(\d{1,12})"?\s*$')


def context(request: Request) -> IntakeContext:
    return request.app.state.intake


def require(role: Role) -> Callable[..., Awaitable[Actor]]:
    async def dependency(
        request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
    ) -> Actor:
        principal = await request.app.state.authenticator.require(role)(request)
        return request.app.state.token_registry.actor(principal)

    return dependency


Ctx = Annotated[IntakeContext, Depends(context)]
Officer = Annotated[Actor, Depends(require(Role.OFFICER))]
Manager = Annotated[Actor, Depends(require(Role.MANAGER))]
Admin = Annotated[Actor, Depends(require(Role.ADMIN))]


def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The version you saw, as its ETag (`"3"`); a stale one gets 412',
        ),
    ] = None,
) -> int | None:
    if value is None:
        return None
    match = _ETAG.match(value)
    if match is None:
        raise InvalidInput([FieldProblem("If-Match", 'expected the ETag you were given, e.g. "3"')])
    return int(match.group(1))


IfMatch = Annotated[int | None, Depends(if_match)]


def etag(version: int) -> str:
    return f'"{version}"'


async def merge_patch_body(request: Request) -> Any:
    """The raw JSON body of a merge patch (validated after it is applied, not before)."""
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInput([FieldProblem("body", f"not JSON: {error}")]) from None


MergePatch = Annotated[Any, Depends(merge_patch_body)]
