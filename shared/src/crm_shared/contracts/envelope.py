"""CloudEvents 1.0 structured-mode JSON envelope (SPEC §4)."""

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from crm_shared.contracts.base import EventData

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
SCHEMA_BASE_URI = "urn:warmyang:schema:"  # + `<type>`; the file is docs/schemas/<type>.json

DataT = TypeVar("DataT", bound=EventData)


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class CloudEvent(BaseModel, Generic[DataT]):
    """One event as it travels on Kafka. `data` is the typed payload."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(
        default_factory=uuid4, description="Unique per event, stable across redelivery."
    )
    source: str = Field(pattern=r"^/warmyang/[a-z][a-z0-9-]*$", examples=["/warmyang/intake"])
    type: str = Field(pattern=r"^warmyang\.[a-z_]+\.[a-z_]+\.v[0-9]+$")
    subject: str = Field(min_length=1, description="The enterprise id; also the Kafka key.")
    time: UtcDatetime = Field(default_factory=utcnow)
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    data: DataT
    traceparent: str | None = None

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


def schema_uri(type_name: str) -> str:
    return f"{SCHEMA_BASE_URI}{type_name}"


def new_event(
    data: DataT,
    *,
    service: str,
    subject: str,
    time: datetime | None = None,
    event_id: UUID | None = None,
    traceparent: str | None = None,
) -> CloudEvent[DataT]:
    """Wrap a payload in a fresh envelope from `/warmyang/<service>`."""
    type_name = data.type_name()
    return CloudEvent[type(data)](  # type: ignore[misc]
        id=event_id or uuid4(),
        source=f"/warmyang/{service}",
        type=type_name,
        subject=subject,
        time=time or utcnow(),
        dataschema=schema_uri(type_name),
        data=data,
        traceparent=traceparent,
    )


def envelope_fields(event: CloudEvent[Any]) -> dict[str, Any]:
    """The envelope without its payload, for logs and DLQ reports."""
    return {"id": str(event.id), "type": event.type, "subject": event.subject}
