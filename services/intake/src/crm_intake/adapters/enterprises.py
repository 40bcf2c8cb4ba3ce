"""The enterprises collection: compare-and-set writes, duplicate keys, bounded listings.

SecantusDB serves a query from an index only for an equality (optionally with a range
bounded on both sides on the next key of a compound index); `$or`, `$and`, `_id`
ranges and sort+limit over many matches scan. So a listing reads windows of
`created_at` (or `updated_at`) through one such index, widening the window while it
finds too little, and applies the other filters in Python.
"""

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from crm_intake.adapters.documents import Session, from_document, to_document
from crm_intake.domain.duplicates import duplicate_keys, query_words, search_prefixes
from crm_intake.domain.enterprise import Enterprise
from crm_shared.contracts.vocabulary import Stage, Status

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # nothing was created before; windows stop here
FIRST_WINDOW = timedelta(hours=6)
# Indexed (field, created_at) pairs, most selective first: one drives each listing.
DRIVERS = ("owner", "sector_key", "country", "stage", "status", "live")


def enterprise_document(enterprise: Enterprise) -> dict[str, Any]:
    keys = duplicate_keys(
        enterprise.name, enterprise.local_name, enterprise.website, enterprise.credit_code
    )
    return to_document(
        enterprise,
        live=enterprise.merged_into is None,
        duplicate_keys=keys.tagged(),
        website_domain=keys.website_domain,
        name_prefixes=search_prefixes(enterprise.name, enterprise.local_name),
        sector_key=enterprise.sector.casefold() if enterprise.sector else None,
    )


@dataclass(frozen=True)
class EnterpriseQuery:
    stage: Stage | None = None
    status: Status | None = None
    country: str | None = None
    sector: str | None = None
    owner: str | None = None
    q: str | None = None
    updated_since: datetime | None = None
    cursor: str | None = None
    limit: int = 50

    def conditions(self) -> dict[str, Any]:
        """Equality filters on stored fields (merged firms only appear in snapshots)."""
        wanted: dict[str, Any] = {
            "stage": self.stage.value if self.stage else None,
            "status": self.status.value if self.status else None,
            "country": self.country,
            "owner": self.owner,
            "sector_key": self.sector.casefold() if self.sector else None,
            "live": None if self.updated_since else True,
        }
        return {field: value for field, value in wanted.items() if value is not None}


def encode_cursor(at: datetime, enterprise_id: str) -> str:
    raw = json.dumps([at.isoformat(), enterprise_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (time, id) of the last item of the previous page; ValueError if malformed."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(at), str(last_id)
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise ValueError("not a cursor this API gave out") from error


def _matches(document: dict[str, Any], conditions: dict[str, Any], words: list[str]) -> bool:
    if any(document.get(field) != value for field, value in conditions.items()):
        return False
    prefixes = set(document.get("name_prefixes", ()))
    return all(word in prefixes for word in words)


class Enterprises:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["enterprises"]

    async def get(self, enterprise_id: str, session: Session = None) -> Enterprise | None:
        document = await self.collection.find_one({"_id": enterprise_id}, session=session)
        return from_document(Enterprise, document) if document else None

    async def insert(self, enterprise: Enterprise, session: Session) -> None:
        await self.collection.insert_one(enterprise_document(enterprise), session=session)

    async def replace(
        self, enterprise: Enterprise, *, expected_version: int, session: Session
    ) -> bool:
        """Store `enterprise` if the stored one is still at `expected_version` (compare-and-set)."""
        result = await self.collection.replace_one(
            {"_id": enterprise.id, "version": expected_version},
            enterprise_document(enterprise),
            session=session,
        )
        return result.matched_count == 1

    async def sharing_keys(self, keys: list[str], session: Session = None) -> list[dict[str, Any]]:
        """Live firms sharing any duplicate key (one indexed `$in` on a multikey field)."""
        cursor = self.collection.find(
            {"duplicate_keys": {"$in": keys}},
            {"name": 1, "country": 1, "stage": 1, "duplicate_keys": 1, "live": 1},
            session=session,
        ).limit(100)
        return [doc async for doc in cursor if doc.get("live", True)]

    async def page(self, query: EnterpriseQuery) -> tuple[list[Enterprise], str | None]:
        """Newest first; with `updated_since`, oldest change first (a subscriber's snapshot)."""
        conditions, words = query.conditions(), query_words(query.q)
        forward = query.updated_since is not None
        time_field = "updated_at" if forward else "created_at"
        cursor = decode_cursor(query.cursor) if query.cursor else None
        if words:
            # The longest word's prefix list is short: read it whole, sort here.
            found = await self.collection.find({"name_prefixes": words[0]}).to_list()
            found = [doc for doc in found if _matches(doc, conditions, words[1:])]
            if forward:
                found = [doc for doc in found if doc["updated_at"] >= query.updated_since]
            found.sort(key=lambda d: (d[time_field], d["_id"]), reverse=not forward)
            found = [doc for doc in found if _after(doc, time_field, cursor, forward)]
        else:
            found = await self._windows(query, conditions, time_field, cursor, forward)
        items = [from_document(Enterprise, doc) for doc in found[: query.limit + 1]]
        if len(items) <= query.limit:
            return items, None
        last = items[query.limit - 1]
        return items[: query.limit], encode_cursor(getattr(last, time_field), last.id)

    async def _windows(
        self,
        query: EnterpriseQuery,
        conditions: dict[str, Any],
        time_field: str,
        cursor: tuple[datetime, str] | None,
        forward: bool,
    ) -> list[dict[str, Any]]:
        # A snapshot reads plain `updated_at` windows; a listing drives one (field, created_at)
        # index by its most selective filter.
        driver = None if forward else next((f for f in DRIVERS if f in conditions), None)
        selector = {driver: conditions[driver]} if driver else {}
        now = datetime.now(UTC) + timedelta(seconds=1)
        edge = cursor[0] if cursor else (query.updated_since if forward else now)
        width, found = FIRST_WINDOW, []
        while len(found) <= query.limit and (edge < now if forward else edge > EPOCH):
            if forward:
                bounds = {"$gte": edge, "$lt": min(edge + width, now)}
            else:
                bounds = {"$gte": max(edge - width, EPOCH), "$lte" if cursor else "$lt": edge}
            batch = await self.collection.find(
                {**selector, time_field: bounds}, {"name_prefixes": 0, "duplicate_keys": 0}
            ).to_list()
            batch = [doc for doc in batch if _matches(doc, conditions, [])]
            batch.sort(key=lambda d: (d[time_field], d["_id"]), reverse=not forward)
            found += [doc for doc in batch if _after(doc, time_field, cursor, forward)]
            edge, width, cursor = bounds["$lt" if forward else "$gte"], width * 2, None
        return found

    async def inactive_since(self, cutoff: datetime, limit: int) -> list[str]:
        """Ids of live active firms without activity since `cutoff` (a bounded index range)."""
        found = self.collection.find(
            {"status": Status.ACTIVE.value, "last_activity_at": {"$gte": EPOCH, "$lt": cutoff}},
            {"_id": 1, "live": 1},
        )
        return [doc["_id"] async for doc in found if doc.get("live", True)][:limit]


def _after(
    document: dict[str, Any], field: str, cursor: tuple[datetime, str] | None, forward: bool
) -> bool:
    """Past the cursor in listing order (ties on time are broken by id)."""
    if cursor is None:
        return True
    key, edge = (document[field], document["_id"]), cursor
    return key > edge if forward else key < edge
