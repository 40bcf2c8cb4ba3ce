"""Webhook relay rules: signatures, type filters, URL policy, retries (pure)."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from crm_webhooks.domain import filters, signing
from crm_webhooks.domain.retries import RetryPolicy
from crm_webhooks.domain.url_policy import UrlRefused, checked_addresses, parse_target

pytestmark = pytest.mark.unit

LIFECYCLE_TYPES = [
    "warmyang.enterprise.created.v1",
    "warmyang.enterprise.stage_changed.v1",
    "warmyang.contact.added.v1",
    "warmyang.contact.erased.v1",
]


def test_signature_is_the_standard_webhooks_hmac() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    assert len(key) == 32
    body = '{"id":"x","data":{"name":"Müller GmbH"}}'.encode()
    header = signing.sign(secret, "msg_1", 1_700_000_000, body)
    digest = hmac.new(key, b"msg_1.1700000000." + body, hashlib.sha256).digest()
    assert header == "v1," + base64.b64encode(digest).decode()


def test_verify_accepts_the_signature_and_rejects_tampering_and_old_timestamps() -> None:
    secret = signing.new_secret()
    header = signing.sign(secret, "msg_1", 1_000, b"{}")
    assert signing.verify(secret, "msg_1", 1_000, b"{}", f"v1,bogus {header}", now=1_010)
    assert not signing.verify(secret, "msg_1", 1_000, b"{ }", header, now=1_010)
    assert not signing.verify(secret, "msg_2", 1_000, b"{}", header, now=1_010)
    assert not signing.verify(signing.new_secret(), "msg_1", 1_000, b"{}", header, now=1_010)
    assert not signing.verify(secret, "msg_1", 1_000, b"{}", header, now=1_000 + 301)


@pytest.mark.parametrize(
    ("pattern", "selected"),
    [
        ("contact.*", {"warmyang.contact.added.v1", "warmyang.contact.erased.v1"}),
        ("enterprise.stage_changed", {"warmyang.enterprise.stage_changed.v1"}),
        ("warmyang.contact.added.v1", {"warmyang.contact.added.v1"}),
        ("*", set(LIFECYCLE_TYPES)),
    ],
)
def test_filters_select_by_family_or_name(pattern: str, selected: set[str]) -> None:
    canonical = filters.normalise(pattern)
    assert {t for t in LIFECYCLE_TYPES if filters.matches(canonical, t)} == selected


def test_filters_are_validated_against_the_relayed_types() -> None:
    assert filters.validate(["contact.*", "contact.*", " enterprise.* "], LIFECYCLE_TYPES) == [
        "contact.*",
        "enterprise.*",
    ]
    for bad in ("contact", "contact.*.x", "Contact.added", "", "contacts.*"):
        with pytest.raises(filters.InvalidFilter):
            filters.validate([bad], LIFECYCLE_TYPES)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.district.invalid/x", "must use https"),
        ("ftp://hooks.district.invalid/x", "must use https"),
        ("https:///x", "no host"),
        ("https://user:pw@hooks.district.invalid/x", "credentials"),
        ("https://localhost:8443/x", "this machine"),
        ("https://hooks.district.invalid:99999/x", "not a valid URL"),
    ],
)
def test_production_refuses_urls(url: str, reason: str) -> None:
    with pytest.raises(UrlRefused, match=reason):
        parse_target(url, allow_local=False)


def test_local_development_allows_http_and_this_machine() -> None:
    target = parse_target("http://127.0.0.1:9000/hook", allow_local=True)
    assert (target.scheme, target.host, target.port) == ("http", "127.0.0.1", 9000)
    assert checked_addresses("127.0.0.1", ["127.0.0.1"], allow_local=True) == ["127.0.0.1"]
    assert parse_target("https://hooks.district.invalid/x", allow_local=False).port == 443


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one we bind
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_production_refuses_loopback_and_private_addresses(address: str) -> None:
    with pytest.raises(UrlRefused, match="loopback or private"):
        checked_addresses("hooks.district.invalid", ["1.2.3.4", address], allow_local=False)


def test_public_addresses_pass_and_nothing_resolved_is_refused() -> None:
    assert checked_addresses("h", ["1.2.3.4", "2a01::1"], allow_local=False) == [
        "1.2.3.4",
        "2a01::1",
    ]
    with pytest.raises(UrlRefused, match="does not resolve"):
        checked_addresses("h", [], allow_local=False)


def test_backoff_doubles_up_to_the_cap_then_gives_up() -> None:
    policy = RetryPolicy(base_seconds=5, max_seconds=60, max_attempts=6)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    delays = [policy.next_attempt_at(n, now) for n in range(1, 7)]
    assert [d - now for d in delays[:5] if d] == [timedelta(seconds=s) for s in (5, 10, 20, 40, 60)]
    assert delays[5] is None


def test_a_run_of_failures_disables() -> None:
    policy = RetryPolicy(disable_after_failures=3)
    assert [policy.should_disable(n) for n in (1, 2, 3, 4)] == [False, False, True, True]
