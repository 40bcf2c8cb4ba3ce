"""The Kafka topics of the system: names, partition counts and retention.

Each topic has a dead-letter twin `<topic>.dlq` with the same partition count,
so a message keeps its partition (and therefore its key's ordering) there too.
"""

from dataclasses import dataclass

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    # -1 keeps history forever: district subscribers rebuild from the lifecycle topic.
    retention_ms: int
    description: str

    @property
    def dlq(self) -> str:
        return self.name + DLQ_SUFFIX


_DAY_MS = 24 * 60 * 60 * 1000

LIFECYCLE = Topic(
    "crm.enterprise.lifecycle.v1",
    partitions=6,
    retention_ms=-1,
    description="Everything that happens to a firm, its contacts and interactions (intake).",
)
FOLLOWUP = Topic(
    "crm.followup.v1",
    partitions=6,
    retention_ms=-1,
    description="Follow-ups scheduled, cancelled and completed (followup).",
)
NOTIFICATION_REQUESTS = Topic(
    "crm.notification.requests.v1",
    partitions=6,
    retention_ms=30 * _DAY_MS,
    description="Emails the follow-up service asks the notification service to send.",
)
NOTIFICATION = Topic(
    "crm.notification.v1",
    partitions=6,
    retention_ms=-1,
    description="What became of each email: sent, failed, suppressed, unsubscribed (notification).",
)

ALL_TOPICS: tuple[Topic, ...] = (LIFECYCLE, FOLLOWUP, NOTIFICATION_REQUESTS, NOTIFICATION)
DLQ_RETENTION_MS = 30 * _DAY_MS


def topic_named(name: str) -> Topic:
    """The topic called `name` (a DLQ name resolves to its source topic)."""
    base = name.removesuffix(DLQ_SUFFIX)
    for topic in ALL_TOPICS:
        if topic.name == base:
            return topic
    raise KeyError(f"unknown topic {name!r}; known: {', '.join(t.name for t in ALL_TOPICS)}")
