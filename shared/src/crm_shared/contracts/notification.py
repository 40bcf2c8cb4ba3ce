"""Events on `crm.notification.v1`, produced by notification."""

from pydantic import Field

from crm_shared.contracts.base import EventData
from crm_shared.contracts.envelope import UtcDatetime
from crm_shared.contracts.topics import NOTIFICATION


class _NotificationEvent(EventData):
    topic = NOTIFICATION

    enterprise_id: str
    contact_id: str | None = None


class NotificationSent(_NotificationEvent):
    event_name = "notification.sent"

    notification_id: str
    template: str
    message_id: str
    sent_at: UtcDatetime
    attempts: int = Field(1, ge=1)
    followup_id: str | None = None
    confirmed: bool = Field(
        True,
        description="False when the sending process stopped after the end of the message "
        "was due and before the server's answer was recorded: the email was most likely "
        "accepted, and is never sent again",
    )


class NotificationFailed(_NotificationEvent):
    """Permanent failure (5xx) or retries exhausted."""

    event_name = "notification.failed"

    notification_id: str
    template: str
    smtp_code: int | None = None
    smtp_response: str
    attempts: int = Field(ge=1)
    followup_id: str | None = None


class NotificationSuppressed(_NotificationEvent):
    event_name = "notification.suppressed"

    notification_id: str
    template: str
    reason: str = Field(description="`unsubscribed`, `hard_bounce`, `erased` or `no_consent`")
    followup_id: str | None = None


class NotificationUnsubscribed(_NotificationEvent):
    event_name = "notification.unsubscribed"

    notification_id: str | None = None


NOTIFICATION_EVENTS: tuple[type[EventData], ...] = (
    NotificationSent,
    NotificationFailed,
    NotificationSuppressed,
    NotificationUnsubscribed,
)
