"""Request and response bodies of the webhook API."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crm_webhooks.domain.states import DeliveryStatus, SubscriptionStatus


class WebhookCreate(BaseModel):
    """A new subscription: where to post, and which event types."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2000,
        description="https URL that receives the events (http only in local development)",
        examples=["https://stats.district.invalid/hooks/warmyang"],
    )
    event_types: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Filters such as `contact.*`, `enterprise.stage_changed` or `*`",
        examples=[["enterprise.*", "interaction.logged"]],
    )
    description: str | None = Field(None, max_length=500)


class WebhookPublic(BaseModel):
    """A subscription as it is listed: never with its secret."""

    id: str
    url: str
    event_types: list[str]
    description: str | None = None
    status: SubscriptionStatus
    consecutive_failures: int
    created_at: datetime
    created_by: str
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None


class WebhookCreated(WebhookPublic):
    """The creation response: the only time the signing secret is shown."""

    secret: str = Field(description="`whsec_…`: verify `webhook-signature` with it; store it now")


class WebhooksPublic(BaseModel):
    items: list[WebhookPublic]


class AttemptPublic(BaseModel):
    attempt: int
    at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    outcome: str = Field(description="`accepted` (2xx) or `failed`")


class DeliveryPublic(BaseModel):
    id: str
    event_id: str
    event_type: str
    subject: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    log: list[AttemptPublic]


class DeliveriesPublic(BaseModel):
    items: list[DeliveryPublic]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for older deliveries")
