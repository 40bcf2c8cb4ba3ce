"""Staff users and their API tokens (only each token's hash is stored)."""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from crm_intake.adapters.repositories import Session


class Users:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["users"]

    async def get(self, username: str, session: Session = None) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": username}, session=session)

    async def insert(self, user: dict[str, Any], session: Session) -> None:
        await self.collection.insert_one(user, session=session)

    async def update(self, username: str, fields: dict[str, Any], session: Session) -> bool:
        result = await self.collection.update_one(
            {"_id": username}, {"$set": fields}, session=session
        )
        return result.matched_count == 1

    async def all(self) -> list[dict[str, Any]]:
        return await self.collection.find({}, {"password_hash": 0}).sort("_id", 1).to_list()


class ApiTokens:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["api_tokens"]

    async def get(self, token_id: str, session: Session = None) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": token_id}, session=session)

    async def insert(self, token: dict[str, Any], session: Session) -> None:
        await self.collection.insert_one(token, session=session)

    async def upsert(self, token: dict[str, Any]) -> None:
        await self.collection.replace_one({"_id": token["_id"]}, token, upsert=True)

    async def revoke(self, token_id: str, at: datetime, session: Session) -> bool:
        result = await self.collection.update_one(
            {"_id": token_id, "revoked": None}, {"$set": {"revoked": at}}, session=session
        )
        return result.modified_count == 1

    async def of_owner(self, owner: str | None = None) -> list[dict[str, Any]]:
        query = {"owner": owner} if owner else {}
        return await self.collection.find(query, {"token_hash": 0}).sort("created", 1).to_list()
