"""The events that tell the rest of the system what became of a notification."""

import contextlib
import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from crm_notification.domain.addresses import ascii_domain_address
from crm_notification.domain.delivery import SuppressionReason
from crm_shared.contracts.followup import NotificationRequested
from crm_shared.contracts.notification import (
    NotificationFailed,
    NotificationSent,
    NotificationSuppressed,
)

NO_RESPONSE = "no SMTP response"


@dataclass(frozen=True)
class Identity:
    """Who and what an outcome event is about (no personal data)."""

    notification_id: str
    enterprise_id: str
    contact_id: str | None
    template: str
    followup_id: str | None

    @classmethod
    def of_request(cls, request: NotificationRequested) -> "Identity":
        return cls(**{name: getattr(request, name) for name in _FIELDS})

    def fields(self) -> dict[str, str | None]:
        """The fields every outcome event carries, by the events' own names."""
        return asdict(self)


_FIELDS = tuple(f.name for f in fields(Identity))


def sent(
    who: Identity, *, message_id: str, sent_at: datetime, attempts: int, confirmed: bool = True
) -> NotificationSent:
    return NotificationSent(
        **who.fields(),
        message_id=message_id,
        sent_at=sent_at,
        attempts=attempts,
        confirmed=confirmed,
    )


def failed(
    who: Identity, *, smtp_code: int | None, smtp_response: str, attempts: int
) -> NotificationFailed:
    return NotificationFailed(
        **who.fields(),
        smtp_code=smtp_code,
        smtp_response=smtp_response or NO_RESPONSE,
        attempts=max(attempts, 1),
    )


def suppressed(who: Identity, reason: SuppressionReason) -> NotificationSuppressed:
    return NotificationSuppressed(
        **who.fields(),
        reason=reason.value,
    )


def redact(text: str, address: str) -> str:
    """SMTP replies often quote the address; events and logs must not carry it.
    Servers quote it as it went over SMTP: with the domain in ASCII form."""
    address = address.strip()
    if not address:
        return text
    spellings = {address}
    with contextlib.suppress(ValueError):
        spellings.add(ascii_domain_address(address))
    for spelling in spellings:
        if spelling.lower() in text.lower():  # the common case: not quoted at all
            text = re.sub(re.escape(spelling), "<recipient>", text, flags=re.IGNORECASE)
    return text
