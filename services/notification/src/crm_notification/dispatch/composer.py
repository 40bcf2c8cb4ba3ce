"""From a queued delivery to the bytes sent over SMTP (render, then compose)."""

from collections.abc import Callable
from datetime import datetime

from crm_notification.adapters.deliveries import QueuedDelivery
from crm_notification.domain.addresses import address_domain
from crm_notification.domain.delivery import carries_unsubscribe, message_id
from crm_notification.domain.unsubscribe import UnsubscribeTokens
from crm_notification.rendering.compose import compose, sender, unsubscribe_links
from crm_notification.rendering.renderer import Renderer


class Composer:
    def __init__(
        self,
        renderer: Renderer,
        tokens: UnsubscribeTokens,
        *,
        mail_from: str,
        public_base_url: str,
        unsubscribe_mailbox: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._renderer = renderer
        self._tokens = tokens
        self._from_header, self.sender = sender(mail_from)
        self._domain = address_domain(self.sender)
        self._base_url = public_base_url
        self._mailbox = unsubscribe_mailbox or f"unsubscribe@{self._domain}"
        self._clock = clock

    def message_id(self, notification_id: str) -> str:
        return message_id(notification_id, self._domain)

    def message(self, delivery: QueuedDelivery) -> bytes:
        """Raises TemplateProblem or ValueError for a delivery that can never be sent."""
        if not delivery.recipient:
            raise ValueError("the delivery has no recipient address (erased?)")
        links = None
        if carries_unsubscribe(delivery.category):
            token = self._tokens.issue(delivery.id)
            links = unsubscribe_links(self._base_url, token, self._mailbox)
        rendered = self._renderer.render(
            delivery.template,
            delivery.locale,
            delivery.context,
            recipient_name=delivery.recipient_name,
            unsubscribe_url=links.url if links else None,
        )
        return compose(
            rendered,
            from_header=self._from_header,
            recipient=delivery.recipient,
            recipient_name=delivery.recipient_name,
            message_id=self.message_id(delivery.id),
            date=self._clock(),
            unsubscribe=links,
        )
