"""What every use case needs: the unit of work, the repositories, who is acting."""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from crm_intake.adapters.enterprises import Enterprises
from crm_intake.adapters.records import Activity, EnterpriseRecords, IdempotencyKeys, Scrubber
from crm_intake.adapters.repositories import Contacts, Interactions
from crm_intake.adapters.staff import ApiTokens, Users
from crm_intake.domain.contact import ERASED
from crm_shared.auth.tokens import Role, TokenSigner
from crm_shared.contracts import utcnow
from crm_shared.mongo.unit_of_work import Tx, UnitOfWork


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a staff user name (or `system`, `import:<user>`) and a role."""

    id: str
    role: Role


SYSTEM = Actor("system", Role.ADMIN)


def new_id(prefix: str) -> str:
    """`ent_` + 20 hex: milliseconds since the epoch, then 32 random bits.

    Ids sort by creation time, so listing newest first is an `_id` index scan.
    """
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(4)}"


def stored_time(moment: datetime) -> datetime:
    """`moment` at the millisecond precision BSON keeps, so what a write returns equals
    what a later read gives."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class IntakeContext:
    def __init__(
        self,
        uow: UnitOfWork,
        db: AsyncDatabase,
        *,
        signer: TokenSigner,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.uow = uow
        self.db = db
        self.signer = signer
        self.clock = clock
        self.enterprises = Enterprises(db)
        self.contacts = Contacts(db)
        self.interactions = Interactions(db)
        self.stage_history = EnterpriseRecords(db["stage_history"])
        self.audit = EnterpriseRecords(db["audit"])
        self.activity = Activity(db["activity"])
        self.idempotency = IdempotencyKeys(db)
        self.users = Users(db)
        self.tokens = ApiTokens(db)
        self.scrubber = Scrubber(db, ERASED)
        self.token_registry: Any = None  # set by staff.TokenRegistry (revocation applies at once)

    async def audit_change(self, tx: Tx, actor: Actor, **entry: Any) -> None:
        """One audit entry: who changed what, when, from which value to which."""
        await self.audit.add(audit_entry(tx, actor, **entry), tx.session)


def audit_entry(
    tx: Tx,
    actor: Actor,
    *,
    enterprise_id: str | None,
    entity: str,
    entity_id: str,
    action: str,
    changes: dict[str, tuple[Any, Any]] | None = None,
    contact_id: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    return {
        "_id": new_id("aud"),
        "enterprise_id": enterprise_id,
        "entity": entity,
        "entity_id": entity_id,
        "contact_id": contact_id,
        "action": action,
        "actor": actor.id,
        "at": tx.now,
        "changes": {k: {"old": old, "new": new} for k, (old, new) in (changes or {}).items()},
        "note": note,
    }
