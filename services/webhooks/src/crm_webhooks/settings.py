"""Settings of the webhook relay (`CRM_*` environment variables)."""

from pydantic import Field, field_validator

from crm_shared.contracts.topics import FOLLOWUP, LIFECYCLE, NOTIFICATION
from crm_shared.settings import Environment, ServiceSettings

SERVICE = "webhooks"
# Topics whose events may be relayed: the public ones (not the services' internal requests).
RELAYABLE_TOPICS = (LIFECYCLE.name, FOLLOWUP.name, NOTIFICATION.name)


class WebhooksSettings(ServiceSettings):
    webhooks_port: int = Field(8003, ge=1, le=65535, description="HTTP port of the webhook relay")
    webhooks_database: str = Field(
        "crm_webhooks", min_length=1, description="MongoDB database of the webhook relay"
    )
    webhooks_topics: str = Field(
        ",".join(RELAYABLE_TOPICS),
        min_length=1,
        description="Comma-separated topics whose events are relayed to subscriptions",
    )
    webhooks_timeout_seconds: float = Field(
        10, gt=0, le=120, description="Time a receiver has to answer one delivery"
    )
    webhooks_retry_base_seconds: float = Field(
        5, gt=0, description="Delay before the first retry; it doubles with each failed attempt"
    )
    webhooks_retry_max_seconds: float = Field(
        3600, gt=0, description="Longest delay between two attempts of one delivery"
    )
    webhooks_max_attempts: int = Field(
        12, ge=1, le=100, description="Attempts of one delivery before it is marked failed"
    )
    webhooks_disable_after_failures: int = Field(
        20, ge=1, description="Consecutive failed attempts after which a subscription is disabled"
    )
    webhooks_poll_seconds: float = Field(
        0.5, gt=0, le=60, description="How often the sender looks for due deliveries when idle"
    )
    webhooks_batch_size: int = Field(50, ge=1, le=1000, description="Deliveries claimed at once")
    webhooks_concurrency: int = Field(
        8, ge=1, le=200, description="Deliveries in flight at once per replica"
    )

    @field_validator("webhooks_topics")
    @classmethod
    def _known_topics(cls, value: str) -> str:
        unknown = [t for t in _split(value) if t not in RELAYABLE_TOPICS]
        if unknown:
            raise ValueError(f"not relayable: {', '.join(unknown)}; choose from {RELAYABLE_TOPICS}")
        return value

    @property
    def relayed_topics(self) -> list[str]:
        return _split(self.webhooks_topics)

    @property
    def allow_local_targets(self) -> bool:
        """Local development and tests may post to http and to this machine; production never."""
        return self.env in (Environment.DEVELOPMENT, Environment.TEST)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
