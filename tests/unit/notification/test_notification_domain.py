"""Pure rules: retries, outcomes, Message-IDs, address hashes, tokens, MIME headers."""

from __future__ import annotations

import email
import email.policy
import random
from datetime import UTC, datetime, timedelta

import pytest

from crm_notification.adapters.smtp import data_payload
from crm_notification.dispatch.outcomes import redact
from crm_notification.domain.addresses import address_hash, is_plausible_address
from crm_notification.domain.delivery import (
    Attempt,
    AttemptResult,
    DeliveryState,
    Outcome,
    SmtpStage,
    SuppressionReason,
    decide,
    message_id,
    result_of_reply,
    suppression_applies,
)
from crm_notification.domain.retry import RetryPolicy
from crm_notification.domain.unsubscribe import UnsubscribeTokens
from crm_notification.entrypoints.http.unsubscribe import preferred_language
from crm_notification.rendering.compose import compose, sender, unsubscribe_links
from crm_notification.rendering.contexts import TEMPLATES
from crm_notification.rendering.renderer import Renderer
from crm_shared.contracts.vocabulary import Language, NotificationCategory

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_seconds=10, max_seconds=100, max_attempts=4)


def test_retry_delays_grow_exponentially_with_bounded_jitter() -> None:
    rng = random.Random(7)
    for attempts, step in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        delays = [POLICY.delay(attempts, rng=rng).total_seconds() for _ in range(200)]
        assert min(delays) >= step / 2
        assert max(delays) <= step
        assert max(delays) - min(delays) > step / 10  # jittered, not all the same


@pytest.mark.parametrize(
    ("code", "result"),
    [
        (250, AttemptResult.ACCEPTED),
        (421, AttemptResult.TRANSIENT),
        (451, AttemptResult.TRANSIENT),
        (550, AttemptResult.PERMANENT),
        (554, AttemptResult.PERMANENT),
        (999, AttemptResult.TRANSIENT),
    ],
)
def test_smtp_replies_are_classified(code: int, result: AttemptResult) -> None:
    assert result_of_reply(code) is result


def test_transient_failures_retry_until_the_attempts_run_out() -> None:
    greylisted = Attempt(AttemptResult.TRANSIENT, SmtpStage.END_OF_DATA, 451, "try later")
    retry = decide(greylisted, 1, POLICY, NOW)
    assert retry.outcome is Outcome.RETRY
    assert retry.state is DeliveryState.QUEUED
    assert retry.next_attempt_at is not None
    assert NOW + timedelta(seconds=5) <= retry.next_attempt_at <= NOW + timedelta(seconds=10)
    given_up = decide(greylisted, 4, POLICY, NOW)
    assert given_up.outcome is Outcome.FAILED
    assert given_up.state is DeliveryState.FAILED


def test_final_outcomes() -> None:
    accepted = Attempt(AttemptResult.ACCEPTED, SmtpStage.END_OF_DATA, 250, "ok")
    assert decide(accepted, 1, POLICY, NOW).state is DeliveryState.SENT
    refused = Attempt(AttemptResult.PERMANENT, SmtpStage.RCPT, 550, "no such user")
    assert decide(refused, 1, POLICY, NOW).state is DeliveryState.FAILED
    assert refused.hard_bounce
    assert not Attempt(AttemptResult.PERMANENT, SmtpStage.END_OF_DATA, 554, "spam").hard_bounce
    unknown = Attempt(AttemptResult.UNCONFIRMED, SmtpStage.END_OF_DATA)
    assert decide(unknown, 1, POLICY, NOW).state is DeliveryState.UNCONFIRMED
    lost = Attempt(AttemptResult.LOST_CLAIM, SmtpStage.DATA)
    assert decide(lost, 1, POLICY, NOW).outcome is Outcome.NOTHING


def test_message_ids_are_deterministic_and_safe() -> None:
    assert message_id("ntf-1", "example.com") == "<ntf-1.notification@example.com>"
    odd = message_id("a b<c>@d", "example.com")
    assert odd == message_id("a b<c>@d", "example.com")
    assert " " not in odd
    assert odd.count("@") == 1
    assert odd.count("<") == 1


def test_addresses_hash_the_same_however_they_are_spelled() -> None:
    key = b"k" * 16
    assert address_hash(" Anna.Weber@Example.COM ", key=key) == address_hash(
        "anna.weber@example.com", key=key
    )
    assert address_hash("anna@example.com", key=key) != address_hash("anna@example.com", key=b"x")
    assert "anna" not in address_hash("anna@example.com", key=key)
    assert is_plausible_address("anna@example.com")
    for bad in ["anna", "anna@localhost", "a b@example.com", "a@example.com\r\nBcc: x@example.com"]:
        assert not is_plausible_address(bad)


def test_an_unsubscribe_stops_follow_ups_but_not_transactional_email() -> None:
    unsubscribed = SuppressionReason.UNSUBSCRIBED
    assert suppression_applies(unsubscribed, NotificationCategory.FOLLOWUP)
    assert suppression_applies(unsubscribed, NotificationCategory.STAFF_REMINDER)
    assert not suppression_applies(unsubscribed, NotificationCategory.TRANSACTIONAL)
    for reason in (SuppressionReason.HARD_BOUNCE, SuppressionReason.ERASED):
        assert suppression_applies(reason, NotificationCategory.TRANSACTIONAL)


def test_withdrawn_consent_stops_follow_ups_and_reminders_but_not_transactional_email() -> None:
    no_consent = SuppressionReason.NO_CONSENT
    assert no_consent.value == "no_consent"  # the value notification.suppressed documents
    assert suppression_applies(no_consent, NotificationCategory.FOLLOWUP)
    assert suppression_applies(no_consent, NotificationCategory.STAFF_REMINDER)
    assert not suppression_applies(no_consent, NotificationCategory.TRANSACTIONAL)


def test_unsubscribe_tokens_name_the_notification_only_and_expire() -> None:
    tokens = UnsubscribeTokens("s" * 32, max_age=timedelta(days=1))
    token = tokens.issue("ntf-123")
    assert tokens.check(token).notification_id == "ntf-123"
    assert tokens.check(token).valid
    assert "@" not in token
    assert not tokens.check(token[:-2] + "xx").valid
    assert tokens.check(token[:-2] + "xx").notification_id is None
    assert not UnsubscribeTokens("t" * 32, max_age=timedelta(days=1)).check(token).valid
    already_old = UnsubscribeTokens("s" * 32, max_age=timedelta(seconds=-1))
    expired = already_old.check(tokens.issue("ntf-9"))
    assert expired.expired
    assert expired.notification_id == "ntf-9"
    assert not expired.valid


def test_the_message_carries_the_headers_receivers_use() -> None:
    rendered = Renderer().render("welcome", Language.ZH, TEMPLATES["welcome"].example)
    token = "Im50Zi0xIg.Z7x9_w.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG" * 2
    links = unsubscribe_links("https://notify.example.com/", token, "unsubscribe@example.com")
    raw = compose(
        rendered,
        from_header=sender("Warm Yang <desk@example.com>")[0],
        recipient="anna@example.com",
        recipient_name="Anna Wéber, Dr.",
        message_id="<ntf-1.notification@example.com>",
        date=NOW,
        unsubscribe=links,
    )
    assert b"\r\n" in raw
    assert raw.isascii()  # 7-bit: quoted-printable bodies, encoded-word headers
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Content-Language"] == "zh"
    assert message["Message-ID"] == "<ntf-1.notification@example.com>"
    assert message["List-Unsubscribe"] == (
        f"<https://notify.example.com/unsubscribe/{token}>, "
        f"<mailto:unsubscribe@example.com?subject=unsubscribe%20{token}>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["To"].addresses[0].display_name == "Anna Wéber, Dr."
    assert message.get_body(("html",)).get_content().startswith("<!DOCTYPE html>")
    assert str(message["Subject"]) == rendered.subject
    assert message["From"].addresses[0].display_name == "Warm Yang"


@pytest.mark.parametrize(
    "name", ["Anna & Jörg <Weber>", "李伟", 'Dr. A. "Q" Weber', "Ünïcödé " * 20, "Plain Name"]
)
def test_names_and_subjects_round_trip_through_the_headers(name: str) -> None:
    rendered = Renderer().render("welcome", Language.DE, {"enterprise_name": name})
    raw = compose(
        rendered,
        from_header=sender("Warm Yang <desk@example.com>")[0],
        recipient="anna@example.com",
        recipient_name=name,
        message_id="<m@example.com>",
        date=NOW,
        unsubscribe=None,
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"].addresses[0].display_name.strip() == name.strip()
    assert message["To"].addresses[0].addr_spec == "anna@example.com"
    assert str(message["Subject"]) == rendered.subject
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    with pytest.raises(ValueError, match="line break"):
        compose(
            rendered,
            from_header="desk@example.com",
            recipient="anna@example.com",
            recipient_name="Anna\r\nBcc: eve@example.com",
            message_id="<m@example.com>",
            date=NOW,
            unsubscribe=None,
        )


def test_data_is_dot_stuffed_with_crlf_and_no_terminator() -> None:
    payload = data_payload(b"Subject: x\n\n.hidden\r\nline\n..two")
    assert payload == b"Subject: x\r\n\r\n..hidden\r\nline\r\n...two\r\n"
    assert not payload.endswith(b"\r\n.\r\n")


def test_smtp_responses_do_not_leak_the_address() -> None:
    text = "5.1.1 <Anna@Example.com>: Recipient address rejected"
    assert redact(text, "anna@example.com") == "5.1.1 <<recipient>>: Recipient address rejected"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", Language.DE),
        ("fr-FR, zh-CN;q=0.8, en;q=0.5", Language.ZH),
        ("en;q=0.2, de;q=0.7", Language.DE),
        ("fr", Language.EN),
        (None, Language.EN),
    ],
)
def test_the_page_language_follows_accept_language(header: str | None, language: Language) -> None:
    assert preferred_language(header) is language
