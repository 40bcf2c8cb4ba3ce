"""Base class of every event payload (the CloudEvent `data`)."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from crm_shared.contracts.topics import Topic

TYPE_PREFIX = "warmyang."


class EventData(BaseModel):
    """A payload type. Subclasses name their `event_name`, `version` and `topic`.

    Unknown fields are ignored when reading, so a v1 schema can grow by
    optional fields without breaking older consumers.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_name: ClassVar[str]
    version: ClassVar[int] = 1
    topic: ClassVar[Topic]

    @classmethod
    def type_name(cls) -> str:
        """The CloudEvent `type`, e.g. `warmyang.enterprise.created.v1`."""
        return f"{TYPE_PREFIX}{cls.event_name}.v{cls.version}"
