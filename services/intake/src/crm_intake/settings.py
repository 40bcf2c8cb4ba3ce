"""Settings of the intake service (`CRM_*` environment variables)."""

from pydantic import Field

from crm_shared.settings import ServiceSettings

SERVICE = "intake"


class IntakeSettings(ServiceSettings):
    intake_port: int = Field(8000, ge=1, le=65535, description="HTTP port of the intake service")
    intake_database: str = Field(
        "crm_intake", min_length=1, description="MongoDB database of intake"
    )
