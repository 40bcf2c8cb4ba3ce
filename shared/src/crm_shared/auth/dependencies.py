"""FastAPI dependencies: authenticate a bearer token, then require a role.

Caller = Annotated[Principal, Depends(authenticator.require(Role.OFFICER))]
"""

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request

from crm_shared.auth.tokens import Principal, Role, TokenSigner
from crm_shared.http.problems import ProblemError

BOOTSTRAP_ADMIN = Principal(subject="bootstrap-admin", role=Role.ADMIN)

# Extra check a service may add (intake: is the token revoked?).
TokenCheck = Callable[[Principal], Awaitable[bool]]


class Authenticator:
    def __init__(
        self,
        signer: TokenSigner,
        *,
        bootstrap_admin_token: str | None = None,
        still_valid: TokenCheck | None = None,
    ) -> None:
        self._signer = signer
        self._bootstrap = bootstrap_admin_token or None
        self._still_valid = still_valid

    async def principal(self, request: Request) -> Principal:
        """The caller, from `Authorization: Bearer …` or a signed-in session; else 401."""
        session_principal = getattr(request.state, "principal", None)
        if isinstance(session_principal, Principal):
            return session_principal
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("a bearer token is required")
        token = token.strip()
        if self._bootstrap and hmac.compare_digest(token.encode(), self._bootstrap.encode()):
            return BOOTSTRAP_ADMIN
        principal = self._signer.verify(token)
        if principal is None or (self._still_valid and not await self._still_valid(principal)):
            raise _unauthorized("the token is invalid, expired or revoked")
        return principal

    def require(self, role: Role) -> Callable[[Request], Awaitable[Principal]]:
        async def dependency(request: Request) -> Principal:
            principal = await self.principal(request)
            if not principal.has(role):
                raise ProblemError(
                    403, "Forbidden", f"this needs the {role.value} role", kind="forbidden"
                )
            return principal

        return dependency


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401, "Unauthorized", detail, kind="unauthorized", headers={"WWW-Authenticate": "Bearer"}
    )
