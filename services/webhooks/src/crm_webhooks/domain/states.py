"""The states of a subscription and of one delivery (an event for one subscription)."""

from enum import StrEnum


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # too many consecutive failures; an admin enables it again
    DELETED = "deleted"  # kept so its delivery log stays attributable; never listed


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next_attempt_at
    SENDING = "sending"  # claimed by a sender until its lease (next_attempt_at) expires
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed
    PAUSED = "paused"  # its subscription is disabled; resumes when enabled
    CANCELLED = "cancelled"  # its subscription was deleted
