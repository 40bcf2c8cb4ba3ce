"""Async MongoDB client factory (PyMongo's native asyncio API)."""

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

# Errors that mean "the database is (momentarily) out of reach": retry, never dead-letter.
from pymongo.errors import AutoReconnect, ConnectionFailure, NetworkTimeout, PyMongoError

TRANSIENT_DB_ERRORS: tuple[type[Exception], ...] = (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
)


def create_mongo_client(uri: str, *, app_name: str) -> AsyncMongoClient:
    """A client that fails fast when the server is down (callers retry with backoff)."""
    return AsyncMongoClient(
        uri,
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=5_000,
        connectTimeoutMS=5_000,
        uuidRepresentation="standard",
    )


def is_transient(error: BaseException) -> bool:
    """A database error worth retrying as it is: the server is away or asked for a retry."""
    if isinstance(error, TRANSIENT_DB_ERRORS):
        return True
    if isinstance(error, PyMongoError):
        return error.has_error_label("TransientTransactionError") or error.has_error_label(
            "RetryableWriteError"
        )
    return False


async def ping(db: AsyncDatabase) -> None:
    await db.command("ping")
