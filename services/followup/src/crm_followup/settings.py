"""Settings of the followup service (`CRM_*` environment variables)."""

from datetime import time
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from crm_shared.settings import Environment, ServiceSettings

SERVICE = "followup"


class FollowupSettings(ServiceSettings):
    followup_port: int = Field(
        8001, ge=1, le=65535, description="HTTP port of the followup service"
    )
    followup_database: str = Field(
        "crm_followup", min_length=1, description="MongoDB database of followup"
    )
    followup_rules_file: Path | None = Field(
        None, description="Rules file (YAML) to use instead of the one shipped in the package"
    )
    followup_business_hours: bool = Field(
        True,
        description="off: send at the rule delay without waiting for business hours (demos, tests)",
    )
    followup_business_start: time = Field(time(9, 0), description="Sending window opens (local)")
    followup_business_end: time = Field(time(17, 0), description="Sending window closes (local)")
    followup_frequency_cap: int = Field(
        2, ge=0, description="Most non-transactional emails per contact per window (0: no cap)"
    )
    followup_frequency_window_days: float = Field(
        7, gt=0, description="Length of the frequency-cap window in days"
    )
    followup_staff_timezone: str = Field(
        "Asia/Shanghai", description="Time zone of the service desk (staff reminders)"
    )
    followup_staff_country: str = Field(
        "CN", pattern=r"^[A-Z]{2}$", description="Public holidays of the service desk"
    )
    followup_staff_mailbox: str = Field(
        "service-desk@localhost",
        description="Where staff reminders go when the account manager's address is unknown",
    )
    followup_staff_email_domain: str | None = Field(
        None, description="Staff reminders go to <account manager id>@<this domain> when set"
    )
    followup_dispatch_batch_size: int = Field(
        200, ge=1, le=5000, description="Due follow-ups claimed per dispatcher round"
    )
    followup_dispatch_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="Dispatcher pause when nothing is due"
    )
    followup_claim_lease_seconds: float = Field(
        60, gt=0, description="A claim not dispatched within this is taken over by another replica"
    )
    followup_clock_offset_seconds: float = Field(
        0,
        description="Tests and demos only: the dispatcher's now is the real time plus this "
        "(makes follow-ups due without waiting); refused in production",
    )

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if self.followup_business_hours and (
            self.followup_business_start >= self.followup_business_end
        ):
            raise ValueError("CRM_FOLLOWUP_BUSINESS_START must be before CRM_FOLLOWUP_BUSINESS_END")
        if self.followup_clock_offset_seconds and self.env is Environment.PRODUCTION:
            raise ValueError("CRM_FOLLOWUP_CLOCK_OFFSET_SECONDS must be 0 in production")
        return self
