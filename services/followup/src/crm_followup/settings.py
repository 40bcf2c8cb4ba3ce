"""Settings of the followup service (`CRM_*` environment variables)."""

from pydantic import Field

from crm_shared.settings import ServiceSettings

SERVICE = "followup"


class FollowupSettings(ServiceSettings):
    followup_port: int = Field(
        8001, ge=1, le=65535, description="HTTP port of the followup service"
    )
    followup_database: str = Field(
        "crm_followup", min_length=1, description="MongoDB database of followup"
    )
