"""Staff API: every notification of a firm, with each attempt and its SMTP answer."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from crm_notification.adapters.deliveries import DeliveryRepository
from crm_shared.auth.dependencies import Authenticator
from crm_shared.auth.tokens import Principal, Role
from crm_shared.http.problems import PROBLEM_RESPONSES


class AttemptPublic(BaseModel):
    number: int
    started_at: datetime
    finished_at: datetime
    result: str = Field(description="accepted, transient, permanent or unconfirmed")
    stage: str = Field(
        description="Where it ended: prepare, connect, mail, rcpt, data or end_of_data"
    )
    smtp_code: int | None = None
    smtp_response: str = ""


class NotificationPublic(BaseModel):
    notification_id: str
    enterprise_id: str
    contact_id: str | None = None
    followup_id: str | None = None
    template: str
    category: str
    locale: str
    state: str = Field(description="queued, sending, sent, unconfirmed, failed or suppressed")
    recipient: str | None = Field(None, description="Null once the contact was erased")
    requested_at: datetime
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    message_id: str | None = None
    suppression_reason: str | None = None
    failure: str | None = Field(None, description="Why it failed before any SMTP attempt")
    attempts: list[AttemptPublic] = Field(default_factory=list)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> "NotificationPublic":
        return cls(notification_id=doc["_id"], **{k: v for k, v in doc.items() if k != "_id"})


class NotificationsPublic(BaseModel):
    data: list[NotificationPublic]
    count: int


def notifications_router(deliveries: DeliveryRepository, auth: Authenticator) -> APIRouter:
    router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
    Staff = Annotated[Principal, Depends(auth.require(Role.OFFICER))]

    @router.get("", responses=PROBLEM_RESPONSES)
    async def list_notifications(
        _caller: Staff,
        enterprise_id: Annotated[str, Query(min_length=1, description="The firm's id")],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        before: Annotated[
            datetime | None, Query(description="Only those requested before (paging)")
        ] = None,
    ) -> NotificationsPublic:
        """Notifications of one firm, newest first, with every attempt."""
        docs = await deliveries.for_enterprise(enterprise_id, limit=limit, before=before)
        items = [NotificationPublic.from_document(d) for d in docs]
        return NotificationsPublic(data=items, count=len(items))

    return router
