"""Between domain models and BSON documents (BSON has no `date` or `Decimal`)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from pymongo.asynchronous.client_session import AsyncClientSession

ModelT = TypeVar("ModelT", bound=BaseModel)
# Repositories take the transaction's session for writes; reads may go without.
Session = AsyncClientSession | None


def to_bson(value: Any) -> Any:
    """Dates become ISO strings and decimals strings (exact; pydantic reads both back)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: to_bson(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_bson(item) for item in value]
    return value


def to_document(model: BaseModel, **extra: Any) -> dict[str, Any]:
    data = to_bson(model.model_dump(mode="python"))
    data["_id"] = data.pop("id")
    data.update(extra)
    return data


def from_document(cls: type[ModelT], document: dict[str, Any]) -> ModelT:
    data = dict(document)
    data["id"] = data.pop("_id")
    return cls.model_validate(data)
