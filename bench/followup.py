"""Follow-up dispatch: claiming and dispatching due work must not slow down with the backlog.

Figures, all in this run on the same database:
- claim-and-dispatch rate of 10,000 due follow-ups with 10,000 pending-not-yet-due in
  the collection (the baseline), and the same with a large backlog of pending
  follow-ups not yet due (1,000,000 by default; goal ≥ 0.8× the baseline);
- how long loading the backlog took (insert_many in batches of 10,000), for the record;
- the raw database doing the dispatcher's reads and writes for the same number of
  follow-ups (candidate ids, compare-and-set claims by _id, then per 50 one transaction
  reading follow-ups, firms and contacts, marking each dispatched, recording the send on
  the contact and inserting an outbox record of the real size), so our overhead over
  SecantusDB itself is visible (for the record; the issue sets no goal for it);
- scheduling: lifecycle events (a firm created, its consenting contact added, a meeting
  logged, a stage change) through the real broker into the follow-up service running
  in this process; every transaction is counted on the wire (a PyMongo command
  listener), and those that consumed an event (the ones that write the inbox) are
  divided by the events (goal: at most one transaction per event).

`CRM_BENCH_FOLLOWUP_BACKLOGS=200000,1000000` runs several backlog sizes in one run.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from bench.followup_scheduling import transactions_per_event
from bench.harness import BenchEnv, Figure, Stopwatch
from crm_followup.adapters.documents import contact_document, firm_document, followup_document
from crm_followup.adapters.store import FollowupStore
from crm_followup.domain.calendar import BusinessHours, SendingCalendar
from crm_followup.domain.dispatching import DispatchPolicy
from crm_followup.domain.frequency import FrequencyCap
from crm_followup.domain.model import Contact, Firm, Followup
from crm_followup.domain.planning import Planner
from crm_followup.rules.loader import load_rules
from crm_followup.service.dispatcher import Dispatcher, DispatcherConfig
from crm_followup.service.journal import Journal
from crm_shared.contracts import CloudEvent
from crm_shared.contracts.vocabulary import NotificationCategory
from crm_shared.mongo.client import create_mongo_client
from crm_shared.mongo.outbox import outbox_record
from crm_shared.mongo.unit_of_work import UnitOfWork

DUE = 10_000
SMALL_BACKLOG = 10_000
DEFAULT_BACKLOGS = (1_000_000,)
INSERT_BATCH = 10_000
NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)


def _backlogs() -> tuple[int, ...]:
    raw = os.environ.get("CRM_BENCH_FOLLOWUP_BACKLOGS", "")
    return tuple(int(part) for part in raw.split(",") if part.strip()) or DEFAULT_BACKLOGS


def _followup(n: int, prefix: str, due_at: datetime, contact_id: str) -> dict[str, Any]:
    followup = Followup(
        id=f"welcome:{prefix}-{n}", enterprise_id=f"{prefix}-ent-{n % 5000}", rule="welcome",
        template="welcome", category=NotificationCategory.FOLLOWUP, audience="contact",
        due_at=due_at, contact_id=contact_id,
    )  # fmt: skip
    return {**followup_document(followup), "created_at": NOW}


async def _insert(db: AsyncDatabase, collection: str, docs: list[dict[str, Any]]) -> None:
    for start in range(0, len(docs), INSERT_BATCH):
        await db[collection].insert_many(docs[start : start + INSERT_BATCH], ordered=False)


async def _load_backlog(db: AsyncDatabase, count: int) -> float:
    """Pending follow-ups due in the future; returns the seconds the load took."""
    started = time.perf_counter()
    prefix = f"later-{uuid.uuid4().hex[:6]}"
    for start in range(0, count, INSERT_BATCH):
        batch = [
            _followup(n, prefix, NOW + timedelta(days=30, seconds=n), f"{prefix}-con-{n % 50_000}")
            for n in range(start, min(count, start + INSERT_BATCH))
        ]
        await db.followups.insert_many(batch, ordered=False)
    return time.perf_counter() - started


async def _load_due(db: AsyncDatabase) -> list[str]:
    prefix = f"due-{uuid.uuid4().hex[:6]}"
    firms = [
        firm_document(Firm(id=f"{prefix}-ent-{n}", name=f"Firm {n}", country="DE"))
        for n in range(5000)
    ]
    contacts = [
        contact_document(
            Contact(
                id=f"{prefix}-con-{n}", enterprise_id=f"{prefix}-ent-{n % 5000}",
                full_name=f"Contact {n}", email=f"c{n}@example.com", email_consent=True,
            )
        )
        for n in range(DUE)
    ]  # fmt: skip
    due = [
        _followup(n, prefix, NOW - timedelta(minutes=1), f"{prefix}-con-{n}") for n in range(DUE)
    ]
    await _insert(db, "firms", firms)
    await _insert(db, "contacts", contacts)
    await _insert(db, "followups", due)
    return [doc["_id"] for doc in due]


def _dispatcher(client: AsyncMongoClient, db: AsyncDatabase) -> Dispatcher:
    store = FollowupStore(db)
    calendar = SendingCalendar(BusinessHours(enabled=False))
    policy = DispatchPolicy(calendar, FrequencyCap(2, timedelta(days=7)))
    return Dispatcher(
        store, UnitOfWork(client, db, service="followup"), Journal(store),
        Planner(load_rules(), calendar), policy,
        clock=lambda: NOW, config=DispatcherConfig(batch_size=200, chunk_size=50),
    )  # fmt: skip


async def _dispatch_rate(client: AsyncMongoClient, name: str, backlog: int) -> tuple[float, float]:
    """(dispatches per second, seconds to load the backlog) in a fresh database."""
    db = client[name]
    await FollowupStore(db).ensure_indexes()
    await UnitOfWork(client, db, service="followup").outbox.ensure_indexes()
    load_seconds = await _load_backlog(db, backlog)
    await _load_due(db)
    print(f"   {backlog:,} not yet due loaded in {load_seconds:,.0f} s; dispatching", flush=True)
    dispatcher = _dispatcher(client, db)
    with Stopwatch() as watch:
        dispatched = await dispatcher.drain()
    print(f"   dispatched {DUE:,} in {watch.seconds:,.0f} s", flush=True)
    assert dispatched == DUE, f"dispatched {dispatched} of {DUE}"
    pending_due = await db.followups.count_documents({"status": "pending", "due_at": {"$lte": NOW}})
    assert pending_due == 0
    return watch.rate(DUE), load_seconds


async def _raw_rate(client: AsyncMongoClient, name: str) -> float:
    """The dispatcher's reads and writes without our code: read candidate ids, claim each
    by compare-and-set on _id, then per 50 one transaction that reads the follow-ups,
    firms and contacts, marks each dispatched, records the send on the contact and
    inserts an outbox record of the real size."""
    db = client[name]
    await FollowupStore(db).ensure_indexes()
    await _load_due(db)
    event = _event_like_ours()
    with Stopwatch() as watch:
        while True:
            candidates = (
                await db.followups.find({"status": "pending", "due_at": {"$lte": NOW}}, {"_id": 1})
                .limit(400)
                .to_list()
            )
            if not candidates:
                break
            chunk = []
            for doc in candidates[:200]:
                claimed = await db.followups.update_one(
                    {"_id": doc["_id"], "status": "pending"},
                    {"$set": {"status": "claimed", "claim": "raw", "lease_until": NOW}},
                )
                if claimed.modified_count:
                    chunk.append(doc["_id"])
            for part in range(0, len(chunk), 50):
                async with client.start_session() as session:
                    await session.with_transaction(
                        lambda s, ids=chunk[part : part + 50]: _raw_dispatch(db, s, ids, event)
                    )
    return watch.rate(DUE)


async def _raw_dispatch(
    db: AsyncDatabase, session: Any, ids: list[str], event: CloudEvent[Any]
) -> None:
    docs = await db.followups.find({"_id": {"$in": ids}}, session=session).to_list()
    await db.firms.find(
        {"_id": {"$in": [d["enterprise_id"] for d in docs]}}, session=session
    ).to_list()
    await db.contacts.find(
        {"_id": {"$in": [d["contact_id"] for d in docs]}}, session=session
    ).to_list()
    for doc in docs:
        await db.followups.update_one(
            {"_id": doc["_id"], "status": "claimed", "claim": "raw"},
            {"$set": {"status": "dispatched", "dispatched_at": NOW},
             "$unset": {"claim": "", "lease_until": ""}},
            session=session,
        )  # fmt: skip
        await db.contacts.update_one(
            {"_id": doc["contact_id"]}, {"$set": {"recent_sends": [NOW]}}, session=session
        )
    await db.outbox.insert_one(outbox_record([event] * len(docs)), session=session)


def _event_like_ours() -> CloudEvent[Any]:
    from crm_shared.contracts.envelope import new_event
    from crm_shared.contracts.followup import NotificationRequested

    data = NotificationRequested(
        notification_id="ntf:welcome:due-abcdef-1", enterprise_id="due-abcdef-ent-1",
        recipient="c1@example.com", recipient_name="Contact 1", template="welcome",
        context={"enterprise_id": "due-abcdef-ent-1", "enterprise_name": "Firm 1",
                 "recipient_name": "Contact 1", "account_manager": None, "rule": "welcome"},
        category=NotificationCategory.FOLLOWUP, contact_id="due-abcdef-con-1",
        followup_id="welcome:due-abcdef-1",
    )  # fmt: skip
    return new_event(data, service="followup", subject="due-abcdef-ent-1")


async def run(env: BenchEnv) -> list[Figure]:
    client = create_mongo_client(env.mongo_uri, app_name="bench-followup")
    run_id = uuid.uuid4().hex[:6]
    names: list[str] = []
    try:
        raw_name = f"bench_followup_raw_{run_id}"
        names.append(raw_name)
        raw = await _raw_rate(client, raw_name)
        print(f"   raw database, same writes: {raw:,.1f} follow-ups/s", flush=True)
        small_name = f"bench_followup_{SMALL_BACKLOG}_{run_id}"
        names.append(small_name)
        baseline, _ = await _dispatch_rate(client, small_name, SMALL_BACKLOG)
        figures = [
            Figure(
                f"dispatch {DUE:,} due, {SMALL_BACKLOG:,} not yet due", baseline, "follow-ups/s",
                "raw DB, same writes", raw,
                note="claim (CAS by _id) + transaction with outbox per 50",
            )
        ]  # fmt: skip
        for backlog in _backlogs():
            name = f"bench_followup_{backlog}_{run_id}"
            names.append(name)
            rate, load_seconds = await _dispatch_rate(client, name, backlog)
            figures.append(
                Figure(
                    f"dispatch {DUE:,} due, {backlog:,} not yet due", rate, "follow-ups/s",
                    f"{SMALL_BACKLOG:,} not yet due", baseline, goal="≥ 0.8×",
                    note=f"loading the {backlog:,} took {load_seconds:,.0f} s "
                    f"({backlog / load_seconds:,.0f} docs/s, insert_many × {INSERT_BATCH:,})",
                )
            )  # fmt: skip
        return figures + await transactions_per_event(env)
    finally:
        # Only the small databases are dropped: SecantusDB drops a database document by
        # document (minutes for 1M), and the run's server and its storage are discarded.
        for name in names[:2]:
            await client.drop_database(name)
        await client.close()
