"""Signed API tokens and role checks (shared by every service)."""

from datetime import UTC, datetime, timedelta

import pytest

from crm_shared.auth.tokens import Role, TokenSigner, token_hash

pytestmark = pytest.mark.unit

SECRET = "unit-test-secret-0123456789"


def test_an_issued_token_verifies_with_its_role() -> None:
    signer = TokenSigner(SECRET)
    token, token_id = signer.issue("user-1", Role.MANAGER)
    principal = signer.verify(token)
    assert principal is not None
    assert principal.role is Role.MANAGER
    assert principal.token_id == token_id
    assert "user-1" not in token


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(".officer.", ".admin."),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "wy2" + t[3:],
        lambda t: t + ".extra",
        lambda _: "not-a-token",
    ],
    ids=["role raised", "signature changed", "wrong prefix", "extra part", "garbage"],
)
def test_a_tampered_token_is_refused(tamper) -> None:
    signer = TokenSigner(SECRET)
    token, _ = signer.issue("user-1", Role.OFFICER)
    assert signer.verify(tamper(token)) is None


def test_a_token_from_another_secret_is_refused() -> None:
    token, _ = TokenSigner("another-secret-0123456789").issue("u", Role.ADMIN)
    assert TokenSigner(SECRET).verify(token) is None


def test_an_expired_token_is_refused() -> None:
    signer = TokenSigner(SECRET)
    now = datetime(2026, 11, 25, tzinfo=UTC)
    token, _ = signer.issue("u", Role.OFFICER, expires_at=now + timedelta(hours=1))
    assert signer.verify(token, now=now) is not None
    assert signer.verify(token, now=now + timedelta(hours=1)) is None


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.at_least(Role.MANAGER)
    assert Role.MANAGER.at_least(Role.OFFICER)
    assert not Role.OFFICER.at_least(Role.MANAGER)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        TokenSigner("short")


def test_only_a_hash_of_the_token_is_stored() -> None:
    assert token_hash("abc") != "abc"
    assert len(token_hash("abc")) == 64
