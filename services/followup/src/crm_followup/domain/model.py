"""What follow-up knows about firms, contacts and follow-ups (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from crm_shared.contracts.vocabulary import Language, NotificationCategory, Stage, Status

STAGE_ORDER: list[Stage] = list(Stage)
# A firm in one of these states gets nothing more (SPEC §6).
CLOSED_STATUSES = frozenset({Status.LOST, Status.WITHDRAWN})


def stage_rank(stage: Stage | str) -> int:
    return STAGE_ORDER.index(Stage(stage))


class FollowupStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # taken by one dispatcher replica, under a lease
    DISPATCHED = "dispatched"  # notification.requested is in the outbox
    COMPLETED = "completed"  # the notification service reports it sent
    FAILED = "failed"  # the notification service reports it failed or suppressed it
    CANCELLED = "cancelled"


OPEN_STATUSES = (FollowupStatus.PENDING, FollowupStatus.CLAIMED)


class CancelReason(StrEnum):
    SUPERSEDED_BY_INTERACTION = "superseded_by_interaction"
    OPTED_OUT = "opted_out"
    UNSUBSCRIBED = "unsubscribed"
    CONTACT_ERASED = "contact_erased"
    FIRM_LOST = "firm_lost"
    FIRM_WITHDRAWN = "firm_withdrawn"
    CONDITIONS_NO_LONGER_HOLD = "conditions_no_longer_hold"
    MERGED = "merged_into_survivor"
    NO_RECIPIENT = "no_recipient"
    STAFF = "cancelled_by_staff"


@dataclass
class Firm:
    id: str
    name: str = ""
    country: str | None = None
    stage: Stage = Stage.FIRST_CONTACT
    status: Status = Status.ACTIVE
    owner: str | None = None
    aftercare_owner: str | None = None
    primary_contact_id: str | None = None
    created_at: datetime | None = None
    last_interaction_at: datetime | None = None
    merged_into: str | None = None

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_STATUSES or self.merged_into is not None


@dataclass
class Contact:
    id: str
    enterprise_id: str
    full_name: str = ""
    email: str | None = None
    language: Language = Language.EN
    timezone: str = "Asia/Shanghai"
    country: str | None = None
    email_consent: bool = False
    is_primary: bool = False
    recent_sends: list[datetime] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        return self.email_consent and bool(self.email)


@dataclass
class Followup:
    """One scheduled email. `anchor` holds what its template needs from the trigger."""

    id: str
    enterprise_id: str
    rule: str
    template: str
    category: NotificationCategory
    audience: str
    due_at: datetime
    contact_id: str | None = None
    anchor: dict[str, Any] = field(default_factory=dict)
    status: FollowupStatus = FollowupStatus.PENDING
    occurrence: int = 1

    @property
    def notification_id(self) -> str:
        # Deterministic: a re-dispatch after a crash names the same notification.
        return f"ntf:{self.id}"
