"""Signed API bearer tokens: `wy1.<token id>.<role>.<expiry>.<signature>`.

Intake issues them (and keeps each token's hash for listing and revocation);
every service verifies them with the shared secret `CRM_API_TOKEN_SECRET`
without reading intake's database. The token carries no personal data.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

PREFIX = "wy1"


class Role(StrEnum):
    OFFICER = "officer"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: "Role") -> bool:
        return self.rank >= other.rank


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff user (session) or an API token, with its role."""

    subject: str
    role: Role
    token_id: str | None = None

    def has(self, role: Role) -> bool:
        return self.role.at_least(role)


class TokenSigner:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the API token secret must be at least 16 characters")
        self._key = secret.encode()

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(
        self, subject: str, role: Role, *, expires_at: datetime | None = None
    ) -> tuple[str, str]:
        """A new token and its id. `subject` (a user id) is kept server-side, not in the token."""
        token_id = secrets.token_hex(8)
        expiry = str(int(expires_at.timestamp())) if expires_at else "0"
        payload = f"{PREFIX}.{token_id}.{role.value}.{expiry}"
        del subject  # bound to the token id by the issuer's records
        return f"{payload}.{self._sign(payload)}", token_id

    def verify(self, token: str, *, now: datetime | None = None) -> Principal | None:
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != PREFIX:
            return None
        payload, signature = ".".join(parts[:4]), parts[4]
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        _, token_id, role, expiry = parts[:4]
        try:
            parsed_role = Role(role)
            expires = int(expiry)
        except ValueError:
            return None
        if expires and (now or datetime.now(UTC)).timestamp() >= expires:
            return None
        return Principal(subject=f"token:{token_id}", role=parsed_role, token_id=token_id)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256 (tokens are long random secrets)."""
    return hashlib.sha256(token.encode()).hexdigest()
