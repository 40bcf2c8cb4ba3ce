"""The life of one email request (a delivery): states, attempts and what each attempt decides.

    queued ──claim (just before the SMTP end-of-data)──> sending ──250──> sent
      │  ^                                                 │ 4xx / lost connection before the reply
      │  └──────── retry at next_attempt_at ───────────────┤ (4xx only: after the reply)
      │                                                    ├─5xx / retries exhausted──> failed
      ├─ 4xx, connection error before the claim ─> queued  └─ process died, reply unknown
      ├─ 5xx before the claim, bad template ─────> failed        ──> unconfirmed (never resent)
      └─ suppressed address, erased or opted-out contact ──> suppressed

See services/notification/README.md ("Sent once") for why the claim sits where it does.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from crm_notification.domain.retry import RetryPolicy
from crm_shared.contracts.vocabulary import NotificationCategory


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    UNCONFIRMED = "unconfirmed"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


FINAL_STATES = frozenset(
    {
        DeliveryState.SENT,
        DeliveryState.UNCONFIRMED,
        DeliveryState.FAILED,
        DeliveryState.SUPPRESSED,
    }
)


class SuppressionReason(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    HARD_BOUNCE = "hard_bounce"
    ERASED = "erased"
    NO_CONSENT = "no_consent"  # the contact's email consent was withdrawn (intake)


# Reasons that are the recipient's choice about marketing-like email.
_CONSENT_REASONS = frozenset({SuppressionReason.UNSUBSCRIBED, SuppressionReason.NO_CONSENT})


def suppression_applies(reason: SuppressionReason, category: NotificationCategory) -> bool:
    """An unsubscribe or withdrawn consent stops follow-ups and reminders, not the
    transactional email a person asked for; nothing at all goes to an address that
    bounced or was erased."""
    if category is NotificationCategory.TRANSACTIONAL:
        return reason not in _CONSENT_REASONS
    return True


def carries_unsubscribe(category: NotificationCategory) -> bool:
    """RFC 8058 headers and the footer link go on every non-transactional email."""
    return category is not NotificationCategory.TRANSACTIONAL


class AttemptResult(StrEnum):
    ACCEPTED = "accepted"  # 2xx after the end of data
    TRANSIENT = "transient"  # 4xx, connection error, timeout: try again later
    PERMANENT = "permanent"  # 5xx: never try again
    UNCONFIRMED = "unconfirmed"  # end of data sent, then no reply: presumed delivered
    LOST_CLAIM = "lost_claim"  # another dispatcher claimed it first: nothing was sent


class SmtpStage(StrEnum):
    PREPARE = "prepare"  # rendering, before any SMTP command
    CONNECT = "connect"
    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"  # the DATA command and the content, up to the claim
    END_OF_DATA = "end_of_data"  # the final "." and the server's reply


@dataclass(frozen=True)
class Attempt:
    result: AttemptResult
    stage: SmtpStage
    smtp_code: int | None = None
    smtp_response: str = ""

    @property
    def claimed(self) -> bool:
        """The delivery was moved to `sending` for this attempt (end of data was due)."""
        return self.stage is SmtpStage.END_OF_DATA

    @property
    def hard_bounce(self) -> bool:
        """The server refused the mailbox itself: suppress the address."""
        return self.result is AttemptResult.PERMANENT and self.stage is SmtpStage.RCPT


def result_of_reply(code: int) -> AttemptResult:
    if 200 <= code < 300:
        return AttemptResult.ACCEPTED
    if 500 <= code < 600:
        return AttemptResult.PERMANENT
    # 4xx, and anything unexpected (a confused server), is worth another try.
    return AttemptResult.TRANSIENT


class Outcome(StrEnum):
    """What the delivery becomes after an attempt."""

    SENT = "sent"
    UNCONFIRMED = "unconfirmed"
    RETRY = "retry"
    FAILED = "failed"
    NOTHING = "nothing"  # lost claim: the other dispatcher records it


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    state: DeliveryState | None
    next_attempt_at: datetime | None = None


def decide(attempt: Attempt, attempts_made: int, policy: RetryPolicy, now: datetime) -> Decision:
    """The delivery's next state after its `attempts_made`-th attempt ended like this."""
    match attempt.result:
        case AttemptResult.ACCEPTED:
            return Decision(Outcome.SENT, DeliveryState.SENT)
        case AttemptResult.UNCONFIRMED:
            return Decision(Outcome.UNCONFIRMED, DeliveryState.UNCONFIRMED)
        case AttemptResult.PERMANENT:
            return Decision(Outcome.FAILED, DeliveryState.FAILED)
        case AttemptResult.LOST_CLAIM:
            return Decision(Outcome.NOTHING, None)
        case AttemptResult.TRANSIENT:
            if policy.exhausted(attempts_made):
                return Decision(Outcome.FAILED, DeliveryState.FAILED)
            return Decision(
                Outcome.RETRY, DeliveryState.QUEUED, policy.next_attempt_at(now, attempts_made)
            )
    raise AssertionError(f"unknown attempt result {attempt.result}")  # pragma: no cover


_MSGID_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def message_id(notification_id: str, domain: str) -> str:
    """`<id@domain>`, the same for every attempt of one notification, so a receiver
    (or a person) can tell a resend of the same email from a new one."""
    local = notification_id
    if not _MSGID_SAFE.match(local):
        local = hashlib.sha256(notification_id.encode()).hexdigest()[:40]
    return f"<{local}.notification@{domain}>"
