"""Claims due follow-ups under a lease and turns them into `notification.requested`.

Claiming follows the only shapes that stay cheap on a large collection:
candidate ids come from an indexed range (`status`, `due_at`), each is taken
with a compare-and-set `update_one` by `_id`. Two replicas may read the same
candidates, but only one sets its claim token on each. Sending happens in one
transaction per chunk that re-reads the claims: the follow-up becomes
`dispatched` and its request enters the outbox together, and only where this
replica's token is still on it. A replica that dies leaves `claimed` follow-ups
whose lease runs out; any replica then takes them over.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter

from crm_followup.adapters.documents import followup_from
from crm_followup.adapters.store import FollowupStore
from crm_followup.domain.dispatching import Cancel, Defer, DispatchPolicy, Send
from crm_followup.domain.model import Firm, Followup, FollowupStatus
from crm_followup.domain.planning import Planner
from crm_followup.domain.templates import Audience
from crm_followup.service.journal import Journal, scheduled_event
from crm_shared.contracts.followup import NotificationRequested
from crm_shared.contracts.vocabulary import NotificationCategory
from crm_shared.mongo.client import is_transient
from crm_shared.mongo.unit_of_work import Tx, UnitOfWork

log = structlog.get_logger(__name__)

DISPATCH_OUTCOMES = Counter(
    "crm_followup_dispatch_total",
    "Due follow-ups handled by the dispatcher, by outcome (requested, deferred, cancelled)",
    ["outcome"],
)
CLAIMED, PENDING = FollowupStatus.CLAIMED.value, FollowupStatus.PENDING.value


@dataclass(frozen=True)
class DispatcherConfig:
    batch_size: int = 200  # follow-ups claimed per round
    chunk_size: int = 50  # follow-ups dispatched per transaction
    poll_seconds: float = 1.0
    lease_seconds: float = 60.0


class Dispatcher:
    def __init__(
        self,
        store: FollowupStore,
        uow: UnitOfWork,
        journal: Journal,
        planner: Planner,
        policy: DispatchPolicy,
        *,
        clock: Callable[[], datetime],
        config: DispatcherConfig | None = None,
        name: str | None = None,
    ) -> None:
        self.store = store
        self.uow = uow
        self.journal = journal
        self.planner = planner
        self.policy = policy
        self.clock = clock
        self.config = config or DispatcherConfig()
        self.name = name or f"dispatcher-{uuid.uuid4().hex[:8]}"

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set; the round in hand is finished first."""
        while not stop.is_set():
            try:
                handled = await self.dispatch_once()
            except Exception as error:
                if is_transient(error):
                    log.warning("dispatcher waiting for the database", error=str(error))
                else:
                    log.exception("dispatch round failed; retrying")
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.config.poll_seconds)

    async def dispatch_once(self) -> int:
        """Claim one round of due follow-ups and dispatch them; return how many were claimed."""
        token = f"{self.name}:{uuid.uuid4().hex[:12]}"
        claimed = await self.claim(token)
        size = self.config.chunk_size
        for start in range(0, len(claimed), size):
            await self.uow.run(
                lambda tx, ids=claimed[start : start + size]: self._dispatch(tx, ids, token)
            )
        return len(claimed)

    async def drain(self) -> int:
        """Dispatch until nothing is due (tests, benchmarks)."""
        total = 0
        while handled := await self.dispatch_once():
            total += handled
        return total

    async def claim(self, token: str) -> list[str]:
        now = self.clock()
        lease_until = now + timedelta(seconds=self.config.lease_seconds)
        taken: list[str] = []
        collection = self.store.followups
        # Claims whose replica stopped renewing them: take them over, claim token and all.
        stale = (
            await collection.find({"lease_until": {"$lte": now}}, {"_id": 1, "claim": 1})
            .limit(self.config.batch_size)
            .to_list()
        )
        for doc in stale:
            if await self._take(
                doc["_id"], {"status": CLAIMED, "claim": doc.get("claim")}, token, now, lease_until
            ):
                log.warning(
                    "took over an expired claim", followup_id=doc["_id"], claim=doc.get("claim")
                )
                taken.append(doc["_id"])
        # Read more candidates than needed and shuffle them: replicas reading the
        # same range then mostly try different follow-ups first.
        due = (
            await collection.find({"status": PENDING, "due_at": {"$lte": now}}, {"_id": 1})
            .limit(2 * self.config.batch_size)
            .to_list()
        )
        random.shuffle(due)
        for doc in due:
            if len(taken) >= self.config.batch_size:
                break
            if await self._take(doc["_id"], {"status": PENDING}, token, now, lease_until):
                taken.append(doc["_id"])
        return taken

    async def _take(
        self,
        followup_id: str,
        expected: dict[str, Any],
        token: str,
        now: datetime,
        lease_until: datetime,
    ) -> bool:
        result = await self.store.followups.update_one(
            {"_id": followup_id, **expected},
            {
                "$set": {
                    "status": CLAIMED,
                    "claim": token,
                    "claimed_at": now,
                    "lease_until": lease_until,
                }
            },
        )
        return result.modified_count == 1

    async def _dispatch(self, tx: Tx, ids: Sequence[str], token: str) -> None:
        cursor = self.store.followups.find({"_id": {"$in": list(ids)}}, session=tx.session)
        docs = [
            doc
            async for doc in cursor
            if doc.get("status") == CLAIMED and doc.get("claim") == token
        ]
        if not docs:
            return
        firms = await self.store.firms_by_id(tx, {doc["enterprise_id"] for doc in docs})
        contacts = await self.store.contacts_by_id(
            tx, {doc["contact_id"] for doc in docs if doc.get("contact_id")}
        )
        now = self.clock()
        for doc in docs:
            followup = followup_from(doc)
            firm = firms.get(followup.enterprise_id) or Firm(id=followup.enterprise_id)
            contact = contacts.get(followup.contact_id or "")
            rule = self.planner.rules.named(followup.rule)
            decision = self.policy.decide(followup, rule, firm, contact, now)
            if isinstance(decision, Cancel):
                await self.journal.cancel(tx, doc, decision.reason)
                DISPATCH_OUTCOMES.labels("cancelled").inc()
            elif isinstance(decision, Defer):
                await self._defer(tx, doc, followup, decision, token)
            else:
                await self._request(tx, followup, firm, decision, token, now)
                if rule is not None and (
                    repeat := self.planner.next_occurrence(rule, followup, firm, contact)
                ):
                    await self.journal.schedule(tx, [repeat])
                if contact is not None and _counts_for_cap(followup):
                    contact.recent_sends = self.policy.cap.remember(contact.recent_sends, now)
                    await self.store.record_send(tx, contact.id, contact.recent_sends)

    async def _request(
        self, tx: Tx, followup: Followup, firm: Firm, send: Send, token: str, now: datetime
    ) -> None:
        done = await self.store.transition(
            tx, followup.id, expected=[CLAIMED], claim=token,
            changes={
                "status": FollowupStatus.DISPATCHED.value,
                "dispatched_at": now,
                "dispatched_by": self.name,
            },
            unset=["claim", "lease_until"],
        )  # fmt: skip
        if not done:
            return
        tx.emit(
            NotificationRequested(
                notification_id=followup.notification_id,
                enterprise_id=followup.enterprise_id,
                recipient=send.recipient,
                recipient_name=send.recipient_name,
                locale=send.locale,
                timezone=send.timezone,
                template=followup.template,
                context=send.context,
                category=followup.category,
                contact_id=followup.contact_id,
                followup_id=followup.id,
            ),
            subject=firm.id,
        )
        DISPATCH_OUTCOMES.labels("requested").inc()

    async def _defer(
        self, tx: Tx, doc: dict[str, Any], followup: Followup, defer: Defer, token: str
    ) -> None:
        moved = await self.store.transition(
            tx, followup.id, expected=[CLAIMED], claim=token,
            changes={"status": PENDING, "due_at": defer.until},
            unset=["claim", "lease_until"],
        )  # fmt: skip
        if moved:
            followup.due_at, followup.status = defer.until, FollowupStatus.PENDING
            tx.emit(
                scheduled_event(followup, f"deferred:{defer.reason}"),
                subject=followup.enterprise_id,
            )
            DISPATCH_OUTCOMES.labels("deferred").inc()


def _counts_for_cap(followup: Followup) -> bool:
    return (
        followup.audience == Audience.CONTACT.value
        and followup.category is not NotificationCategory.TRANSACTIONAL
    )
