"""Settings common to every service, read from `CRM_*` environment variables (and `.env`).

Each service subclasses `ServiceSettings` with its own fields (`CRM_INTAKE_PORT`, …).
A missing or invalid setting stops the service at start with a message naming it.
"""

import sys
from enum import StrEnum
from typing import Self, TypeVar

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CRM_"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = Field(Environment.DEVELOPMENT, description="development, test or production")
    log_level: str = Field(
        "INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$", description="DEBUG, INFO, WARNING or ERROR"
    )
    log_json: bool = Field(True, description="JSON log lines (false: human-readable console)")
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", min_length=1, description="Comma-separated host:port list"
    )
    kafka_client_id_suffix: str = Field("", description="Tells replicas apart in broker logs")
    kafka_consumer_group_suffix: str = Field(
        "",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Appended to the consumer groups (crm-<service>-<suffix>): separates whole "
        "stacks sharing one broker (tests, staging); replicas of one stack share it",
    )
    mongo_uri: str = Field(
        "mongodb://127.0.0.1:27017/?retryWrites=false",
        pattern=r"^mongodb(\+srv)?://",
        description="MongoDB connection string (a replica set: transactions are used)",
    )
    http_host: str = Field("127.0.0.1", description="Address the HTTP server binds to")
    api_token_secret: SecretStr = Field(
        SecretStr("dev-only-token-secret-change-me"),
        min_length=16,
        description="Signs API bearer tokens (shared by all services); set it outside development",
    )
    bootstrap_admin_token: SecretStr | None = Field(
        None, description="If set, an admin API token with this value exists (first start, tests)"
    )
    outbox_batch_size: int = Field(
        500, ge=1, le=10_000, description="Events the relay aims to publish a batch"
    )
    outbox_poll_seconds: float = Field(
        0.2, gt=0, le=60, description="How often an idle relay looks for new outbox records"
    )
    outbox_lease_seconds: float = Field(
        30, gt=0, description="A relay that stops renewing loses the lease after this"
    )
    consumer_retry_base_seconds: float = Field(0.2, gt=0, description="First retry delay")
    consumer_max_attempts: int = Field(
        5, ge=1, le=100, description="Attempts before a failing event goes to the DLQ"
    )
    shutdown_grace_seconds: float = Field(20, gt=0, description="In-flight work allowed to finish")

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Self:
        secret = self.api_token_secret.get_secret_value()
        if self.env is Environment.PRODUCTION and "change-me" in secret:
            raise ValueError("CRM_API_TOKEN_SECRET must be set to a real secret in production")
        return self

    @property
    def kafka_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def describe_settings_error(error: ValidationError, prefix: str = ENV_PREFIX) -> str:
    lines = ["invalid configuration:"]
    for item in error.errors(include_url=False):
        name = "_".join(str(p) for p in item["loc"]).upper()
        setting = f"{prefix}{name}" if name else "(settings)"
        lines.append(f"  {setting}: {item['msg']}")
    return "\n".join(lines)


def load_settings(cls: type[SettingsT]) -> SettingsT:
    """Read the settings or exit with status 2 and a message naming each bad setting."""
    try:
        return cls()
    except ValidationError as error:
        print(describe_settings_error(error), file=sys.stderr)
        raise SystemExit(2) from None
