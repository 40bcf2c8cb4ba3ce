"""Unsubscribe tokens: signed, expiring, and carrying only the notification id.

The link in an email must work without a login, must not be forgeable (anyone
could unsubscribe anyone), and must not show the address in clear in URLs that
end up in proxies' logs. The token names the notification; the service looks up
whom it went to.
"""

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_SALT = "warmyang.unsubscribe.v1"


@dataclass(frozen=True)
class TokenCheck:
    notification_id: str | None  # None: not a token of ours
    expired: bool = False

    @property
    def valid(self) -> bool:
        return self.notification_id is not None and not self.expired


class UnsubscribeTokens:
    def __init__(self, secret: str, *, max_age: timedelta) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self._max_age = max_age

    def issue(self, notification_id: str) -> str:
        return self._serializer.dumps(notification_id)

    def check(self, token: str) -> TokenCheck:
        """Verify a token. An expired but authentic one still names its notification
        (to answer in the recipient's language) but must not unsubscribe."""
        try:
            value = self._serializer.loads(token, max_age=int(self._max_age.total_seconds()))
        except SignatureExpired as error:
            payload = error.payload
            try:
                value = self._serializer.load_payload(payload) if payload is not None else None
            except BadSignature:
                value = None
            return TokenCheck(value if isinstance(value, str) else None, expired=True)
        except BadSignature:
            return TokenCheck(None)
        return TokenCheck(value if isinstance(value, str) else None)
