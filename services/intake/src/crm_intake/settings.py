"""Settings of the intake service (`CRM_*` environment variables)."""

from typing import Self

from pydantic import Field, SecretStr, model_validator

from crm_shared.settings import Environment, ServiceSettings

SERVICE = "intake"


class IntakeSettings(ServiceSettings):
    intake_port: int = Field(8000, ge=1, le=65535, description="HTTP port of the intake service")
    intake_database: str = Field(
        "crm_intake", min_length=1, description="MongoDB database of intake"
    )
    intake_dormant_after_days: int = Field(
        90,
        ge=0,
        le=3650,
        description="Active firms without interaction for this many days become dormant (0: never)",
    )
    intake_token_recheck_seconds: float = Field(
        2,
        ge=0,
        le=300,
        description="A valid API token is re-read (revocation) after this many seconds (0: always)",
    )
    intake_dormant_sweep_seconds: float = Field(
        3600, gt=0, description="How often to look for firms that became dormant"
    )
    intake_session_secret: SecretStr = Field(
        SecretStr("dev-only-session-secret-change-me"),
        min_length=16,
        description="Signs the staff web sessions (cookie); set it outside development",
    )

    @model_validator(mode="after")
    def _no_placeholder_session_secret_in_production(self) -> Self:
        secret = self.intake_session_secret.get_secret_value()
        if self.env is Environment.PRODUCTION and "change-me" in secret:
            raise ValueError("CRM_INTAKE_SESSION_SECRET must be set to a real secret in production")
        return self
