"""Every index intake's queries rely on (SecantusDB scans without one; see INFRA.md).
The outbox's, erasure's included, are the shared `Outbox.ensure_indexes`."""

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from crm_intake.adapters.enterprises import DRIVERS

INDEXES: dict[str, list[IndexModel]] = {
    "enterprises": [
        # Duplicate detection: one `$in` over the tagged normalised keys (multikey).
        IndexModel([("duplicate_keys", ASCENDING)]),
        # `q`: equality on one prefix of a word of the names.
        IndexModel([("name_prefixes", ASCENDING)]),
        # Listings: a window of creation times under one equality filter.
        *(IndexModel([(field, ASCENDING), ("created_at", ASCENDING)]) for field in DRIVERS),
        IndexModel([("updated_at", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("last_activity_at", ASCENDING)]),
    ],
    "contacts": [
        IndexModel([("enterprise_id", ASCENDING)]),
        IndexModel([("email_key", ASCENDING)], sparse=True),
    ],
    "interactions": [
        IndexModel([("enterprise_id", ASCENDING), ("occurred_at", ASCENDING)]),
        IndexModel([("contact_ids", ASCENDING)]),
    ],
    "stage_history": [IndexModel([("enterprise_id", ASCENDING), ("at", ASCENDING)])],
    "audit": [
        IndexModel([("enterprise_id", ASCENDING), ("at", ASCENDING)]),
        IndexModel([("contact_id", ASCENDING)], sparse=True),
    ],
    "activity": [
        IndexModel([("enterprise_id", ASCENDING), ("at", ASCENDING)]),
        IndexModel([("contact_id", ASCENDING)], sparse=True),
    ],
    "idempotency_keys": [IndexModel([("created_at", ASCENDING)])],
    "api_tokens": [
        IndexModel([("token_hash", ASCENDING)], unique=True),
        IndexModel([("owner", ASCENDING)]),
    ],
}


async def ensure_indexes(db: AsyncDatabase) -> None:
    for collection, indexes in INDEXES.items():
        await db[collection].create_indexes(indexes)
