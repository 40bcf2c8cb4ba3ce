"""Settings of the notification service (`CRM_*` environment variables)."""

from email.utils import parseaddr
from enum import StrEnum
from typing import Self

from pydantic import Field, SecretStr, model_validator

from crm_shared.settings import Environment, ServiceSettings

SERVICE = "notification"


class SmtpTls(StrEnum):
    NONE = "none"  # plain SMTP (the local sink)
    STARTTLS = "starttls"  # upgrade a plain connection (port 587)
    TLS = "tls"  # TLS from the first byte (port 465)


class NotificationSettings(ServiceSettings):
    notification_port: int = Field(
        8002, ge=1, le=65535, description="HTTP port of the notification service"
    )
    notification_database: str = Field(
        "crm_notification", min_length=1, description="MongoDB database of notification"
    )

    # -- SMTP ------------------------------------------------------------------------
    smtp_host: str = Field("127.0.0.1", description="SMTP server host")
    smtp_port: int = Field(1025, ge=1, le=65535, description="SMTP server port")
    smtp_tls: SmtpTls = Field(SmtpTls.NONE, description="none, starttls or tls")
    smtp_user: str | None = Field(None, description="SMTP user (no AUTH when unset)")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    smtp_timeout_seconds: float = Field(
        30, gt=0, le=300, description="Timeout of each SMTP command and of connecting"
    )
    mail_from: str = Field(
        "Warm Yang <warmyang@example.com>",
        min_length=3,
        description="From header and envelope sender; its domain ends every Message-ID",
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8002",
        pattern=r"^https?://[^/\s]+(/\S*)?$",
        description="Public URL of this service, for the unsubscribe links in emails",
    )

    # -- consent -----------------------------------------------------------------------
    unsubscribe_secret: SecretStr = Field(
        SecretStr("dev-only-unsubscribe-secret-change-me"),
        min_length=16,
        description="Signs the unsubscribe links; rotating it invalidates links already sent",
    )
    unsubscribe_token_max_age_days: int = Field(
        180, ge=1, description="Days an unsubscribe link keeps working"
    )
    unsubscribe_mailto: str | None = Field(
        None, description="Address of the mailto: List-Unsubscribe (default: unsubscribe@<from>)"
    )
    address_hash_secret: SecretStr = Field(
        SecretStr("dev-only-address-hash-secret-change-me"),
        min_length=16,
        description="Keys the hash of email addresses in the suppression list; never rotate it",
    )

    # -- dispatch ----------------------------------------------------------------------
    notification_concurrency: int = Field(
        8, ge=1, le=64, description="SMTP connections sending at once"
    )
    notification_batch_size: int = Field(
        100, ge=1, le=1000, description="Due deliveries read from the database at once"
    )
    notification_poll_seconds: float = Field(
        0.5, gt=0, le=60, description="How often the dispatcher looks for due deliveries"
    )
    notification_lease_seconds: float = Field(
        15, gt=0, description="A dispatcher that stops renewing its lease loses it after this"
    )
    notification_retry_base_seconds: float = Field(
        30, gt=0, description="Delay before the first retry of a transient SMTP failure"
    )
    notification_retry_max_seconds: float = Field(
        3600, gt=0, description="Longest delay between two attempts"
    )
    notification_max_attempts: int = Field(
        8, ge=1, le=50, description="Attempts before a transiently failing email is given up"
    )

    @model_validator(mode="after")
    def _production_needs_real_values(self) -> Self:
        if self.env is not Environment.PRODUCTION:
            return self
        for name in ("unsubscribe_secret", "address_hash_secret"):
            if "change-me" in getattr(self, name).get_secret_value():
                raise ValueError(f"CRM_{name.upper()} must be set to a real secret in production")
        if not self.public_base_url.startswith("https://"):
            raise ValueError("CRM_PUBLIC_BASE_URL must be an https URL in production")
        return self

    @model_validator(mode="after")
    def _mail_from_is_an_address(self) -> Self:
        if "@" not in parseaddr(self.mail_from)[1]:
            raise ValueError("CRM_MAIL_FROM must contain an email address")
        return self
