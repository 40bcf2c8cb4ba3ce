"""Settings of the notification service (`CRM_*` environment variables)."""

from pydantic import Field

from crm_shared.settings import ServiceSettings

SERVICE = "notification"


class NotificationSettings(ServiceSettings):
    notification_port: int = Field(
        8002, ge=1, le=65535, description="HTTP port of the notification service"
    )
    notification_database: str = Field(
        "crm_notification", min_length=1, description="MongoDB database of notification"
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP server host")
    smtp_port: int = Field(1025, ge=1, le=65535, description="SMTP server port")
