"""Events on `crm.followup.v1` and `crm.notification.requests.v1`, produced by followup."""

from typing import Any

from pydantic import Field

from crm_shared.contracts.base import EventData
from crm_shared.contracts.envelope import UtcDatetime
from crm_shared.contracts.topics import FOLLOWUP, NOTIFICATION_REQUESTS
from crm_shared.contracts.vocabulary import Language, NotificationCategory


class _FollowupEvent(EventData):
    topic = FOLLOWUP

    followup_id: str
    enterprise_id: str


class FollowupScheduled(_FollowupEvent):
    event_name = "followup.scheduled"

    rule: str
    template: str
    category: NotificationCategory
    due_at: UtcDatetime
    contact_id: str | None = None
    audience: str = Field("contact", description="`contact` or `account_manager`")
    reason: str | None = Field(
        None,
        description="Why it was (re)scheduled when not by its rule's trigger: "
        "`deferred:outside_business_hours`, `deferred:frequency_cap`, `moved_by_merge`, `repeat`",
    )


class FollowupCancelled(_FollowupEvent):
    event_name = "followup.cancelled"

    reason: str
    rule: str | None = None
    contact_id: str | None = None
    actor: str | None = Field(None, description="Staff member who cancelled it, if one did.")


class FollowupCompleted(_FollowupEvent):
    event_name = "followup.completed"

    notification_id: str
    rule: str | None = None
    contact_id: str | None = None


class NotificationRequested(EventData):
    topic = NOTIFICATION_REQUESTS
    event_name = "notification.requested"

    notification_id: str
    enterprise_id: str
    recipient: str = Field(description="Email address (personal data).")
    recipient_name: str | None = None
    locale: Language = Language.EN
    timezone: str = "Asia/Shanghai"
    template: str
    context: dict[str, Any] = Field(default_factory=dict)
    category: NotificationCategory
    contact_id: str | None = None
    followup_id: str | None = None


FOLLOWUP_EVENTS: tuple[type[EventData], ...] = (
    FollowupScheduled,
    FollowupCancelled,
    FollowupCompleted,
    NotificationRequested,
)
