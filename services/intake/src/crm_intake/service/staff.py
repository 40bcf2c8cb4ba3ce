"""Staff users (argon2-hashed passwords) and API bearer tokens (only their hashes stored)."""

import asyncio
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import DuplicateKeyError

from crm_intake.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from crm_intake.domain.types import Username
from crm_intake.service.commands import validated
from crm_intake.service.context import SYSTEM, Actor, IntakeContext
from crm_shared.auth.dependencies import BOOTSTRAP_ADMIN
from crm_shared.auth.tokens import Principal, Role, token_hash
from crm_shared.contracts.vocabulary import Language
from crm_shared.mongo.unit_of_work import Tx

MIN_PASSWORD_LENGTH = 12
BOOTSTRAP_TOKEN_ID = "bootstrap"  # noqa: S105 (an id, not a secret)
_hasher = PasswordHasher()


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    role: Role
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    language: Language = Language.EN


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once; only its hash is kept
    token_id: str
    owner: str
    role: Role
    expires_at: datetime | None


def _public(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k != "password_hash"}


async def create_user(
    ctx: IntakeContext, data: dict[str, Any], actor: Actor = SYSTEM
) -> dict[str, Any]:
    """A staff user; InvalidInput names each bad field, Conflict if the name is taken."""
    user = validated(NewUser, data)
    password_hash = await asyncio.to_thread(_hasher.hash, user.password)

    async def work(tx: Tx) -> dict[str, Any]:
        document = {
            "_id": user.username,
            "display_name": user.display_name,
            "role": user.role.value,
            "language": user.language.value,
            "password_hash": password_hash,
            "active": True,
            "created_at": tx.now,
        }
        await ctx.users.insert(document, tx.session)
        await ctx.audit_change(
            tx,
            actor,
            enterprise_id=None,
            entity="user",
            entity_id=user.username,
            action="created",
            changes={"role": (None, user.role.value), "display_name": (None, user.display_name)},
        )
        return _public(document)

    try:
        return await ctx.uow.run(work)
    except DuplicateKeyError:
        raise Conflict(f"a staff user called {user.username!r} exists already") from None


async def set_password(
    ctx: IntakeContext, username: str, password: str, actor: Actor = SYSTEM
) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput([FieldProblem("password", f"at least {MIN_PASSWORD_LENGTH} characters")])
    password_hash = await asyncio.to_thread(_hasher.hash, password)

    async def work(tx: Tx) -> None:
        if not await ctx.users.update(username, {"password_hash": password_hash}, tx.session):
            raise NotFound("staff user", username)
        await ctx.audit_change(
            tx, actor, enterprise_id=None, entity="user", entity_id=username, action="password_set"
        )

    await ctx.uow.run(work)


async def authenticate_user(ctx: IntakeContext, username: str, password: str) -> Actor | None:
    """The user, if the password is right and the account active (for the web sign-in)."""
    user = await ctx.users.get(username.strip().lower())
    if user is None or not user.get("active", True):
        # Verify anyway, so timing does not tell which user names exist.
        await asyncio.to_thread(_verify, _decoy_hash(), password)
        return None
    if not await asyncio.to_thread(_verify, user["password_hash"], password):
        return None
    return Actor(user["_id"], Role(user["role"]))


@cache
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def list_users(ctx: IntakeContext) -> list[dict[str, Any]]:
    return await ctx.users.all()


async def deactivate_user(ctx: IntakeContext, username: str, actor: Actor = SYSTEM) -> int:
    """Disable the account and revoke its tokens; returns how many tokens were revoked."""

    async def work(tx: Tx) -> int:
        if not await ctx.users.update(username, {"active": False}, tx.session):
            raise NotFound("staff user", username)
        revoked = 0
        owned = [token["_id"] for token in await ctx.tokens.of_owner(username)]
        for token_id in owned:
            revoked += await ctx.tokens.revoke(token_id, tx.now, tx.session)
        _forget(ctx, owned)
        await ctx.audit_change(
            tx,
            actor,
            enterprise_id=None,
            entity="user",
            entity_id=username,
            action="deactivated",
            changes={"active": (True, False)},
        )
        return revoked

    return await ctx.uow.run(work)


async def issue_token(
    ctx: IntakeContext,
    username: str,
    *,
    role: Role | None = None,
    description: str = "",
    expires_in_days: int | None = None,
    actor: Actor = SYSTEM,
) -> IssuedToken:
    """A bearer token for `username`, with their role or a lower one."""
    user = await ctx.users.get(username)
    if user is None or not user.get("active", True):
        raise NotFound("active staff user", username)
    user_role = Role(user["role"])
    role = role or user_role
    if not user_role.at_least(role):
        raise InvalidInput(
            [
                FieldProblem(
                    "role", f"{username} is {user_role.value}; a token cannot be {role.value}"
                )
            ]
        )
    expires_at = ctx.clock() + timedelta(days=expires_in_days) if expires_in_days else None
    token, token_id = ctx.signer.issue(username, role, expires_at=expires_at)

    async def work(tx: Tx) -> None:
        await ctx.tokens.insert(
            {
                "_id": token_id,
                "token_hash": token_hash(token),
                "role": role.value,
                "owner": username,
                "description": description,
                "created": tx.now,
                "expires_at": expires_at,
                "revoked": None,
            },
            tx.session,
        )
        await ctx.audit_change(
            tx,
            actor,
            enterprise_id=None,
            entity="token",
            entity_id=token_id,
            action="issued",
            changes={"owner": (None, username), "role": (None, role.value)},
        )

    await ctx.uow.run(work)
    return IssuedToken(token, token_id, username, role, expires_at)


async def revoke_token(ctx: IntakeContext, token_id: str, actor: Actor = SYSTEM) -> None:
    async def work(tx: Tx) -> None:
        if await ctx.tokens.get(token_id, tx.session) is None:
            raise NotFound("token", token_id)
        _forget(ctx, [token_id])
        if await ctx.tokens.revoke(token_id, tx.now, tx.session):
            await ctx.audit_change(
                tx, actor, enterprise_id=None, entity="token", entity_id=token_id, action="revoked"
            )

    await ctx.uow.run(work)


async def list_tokens(ctx: IntakeContext, owner: str | None = None) -> list[dict[str, Any]]:
    return await ctx.tokens.of_owner(owner)


async def record_bootstrap_token(ctx: IntakeContext, token: str) -> None:
    """List the `CRM_BOOTSTRAP_ADMIN_TOKEN` among the tokens (the authenticator accepts it)."""
    await ctx.tokens.upsert(
        {
            "_id": BOOTSTRAP_TOKEN_ID,
            "token_hash": token_hash(token),
            "role": Role.ADMIN.value,
            "owner": BOOTSTRAP_ADMIN.subject,
            "description": "CRM_BOOTSTRAP_ADMIN_TOKEN",
            "created": ctx.clock(),
            "expires_at": None,
            "revoked": None,
        }
    )


class TokenRegistry:
    """`still_valid` for the shared authenticator, and who stands behind each token.

    A token found valid is trusted for `recheck_seconds` before its record is read again:
    a revocation in this process applies at once (`forget`), one made elsewhere (the CLI,
    another replica) within that many seconds. 0 reads the record on every request.
    """

    def __init__(self, ctx: IntakeContext, *, recheck_seconds: float = 0) -> None:
        self._ctx = ctx
        self._recheck = recheck_seconds
        # A token's owner never changes, so it is safe to remember.
        self._owners: dict[str, str] = {}
        self._checked: dict[str, float] = {}  # token id -> monotonic time it was found valid
        ctx.token_registry = self

    async def still_valid(self, principal: Principal) -> bool:
        token_id = principal.token_id
        if token_id is None:
            return True
        checked = self._checked.get(token_id)
        if checked is not None and time.monotonic() - checked < self._recheck:
            return True
        token = await self._ctx.tokens.get(token_id)
        if (
            token is None
            or token.get("revoked") is not None
            or token["role"] != principal.role.value
        ):
            self._checked.pop(token_id, None)
            return False
        self._owners[token_id] = token["owner"]
        if self._recheck:
            self._checked[token_id] = time.monotonic()
        return True

    def forget(self, token_ids: list[str]) -> None:
        for token_id in token_ids:
            self._checked.pop(token_id, None)

    def actor(self, principal: Principal) -> Actor:
        owner = self._owners.get(principal.token_id or "") if principal.token_id else None
        return Actor(owner or principal.subject, principal.role)


def _forget(ctx: IntakeContext, token_ids: list[str]) -> None:
    registry = getattr(ctx, "token_registry", None)
    if registry is not None:
        registry.forget(token_ids)
