"""Follow-up scheduling: how many database transactions one lifecycle event costs.

The follow-up service runs in this process against the benchmark's broker and
database; lifecycle events are published the way intake publishes them. A PyMongo
command listener sees every command the service's client sends: a transaction that
writes the inbox consumed an event (the inbox record is written in the effect's
transaction), so those commits divided by the events is the cost asked about.
Only this run's events count: the topic may hold other benchmarks' lifecycle events,
which the service's new consumer group reads too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from pymongo import monitoring

from bench.harness import BenchEnv, Figure, Stopwatch, until
from crm_followup.bootstrap import bootstrap
from crm_followup.settings import FollowupSettings
from crm_shared.contracts import EventData, new_event
from crm_shared.contracts.lifecycle import (
    ContactAdded,
    EnterpriseCreated,
    EnterpriseStageChanged,
    InteractionLogged,
)
from crm_shared.contracts.vocabulary import InteractionKind, Language, Source, Stage
from crm_shared.observability.logging import configure_logging

FIRMS = 250  # four events each
NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)  # a Tuesday morning, no holiday


@dataclass
class TransactionCounter(monitoring.CommandListener):
    """Counts committed transactions, and those among them that wrote the inbox record
    of one of `ours` (event ids)."""

    database: str
    ours: set[str]
    committed: int = 0
    consumed: int = 0
    _inbox_writers: set[tuple[bytes, int]] = field(default_factory=set)

    @staticmethod
    def _key(command: Any) -> tuple[bytes, int] | None:
        lsid, number = command.get("lsid"), command.get("txnNumber")
        if lsid is None or number is None:
            return None
        session = lsid["id"]  # a bson Binary (a bytes subclass) or a uuid.UUID
        return getattr(session, "bytes", bytes(session)), int(number)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        key = self._key(event.command)
        if key is None:
            return
        if event.command_name == "insert" and event.database_name == self.database:
            inbox_ids = [d["_id"] for d in event.command.get("documents", [])]
            # Inbox ids are `<consumer>:<event id>`.
            if event.command.get("insert") == "inbox" and any(
                str(i).rsplit(":", 1)[-1] in self.ours for i in inbox_ids
            ):
                self._inbox_writers.add(key)
        elif event.command_name == "commitTransaction":
            self.committed += 1
            if key in self._inbox_writers:
                self.consumed += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _events(run: str) -> list[EventData]:
    events: list[EventData] = []
    for n in range(FIRMS):
        firm, contact = f"{run}-ent-{n}", f"{run}-con-{n}"
        events += [
            EnterpriseCreated(
                enterprise_id=firm, name=f"Muster {n} GmbH", country="DE", source=Source.FORUM,
                owner="li.wei", primary_contact_id=contact,
            ),
            ContactAdded(
                enterprise_id=firm, contact_id=contact, full_name=f"Anna {n}",
                email=f"{contact}@example.com", language=Language.DE, timezone="Europe/Berlin",
                country="DE", email_consent=True, is_primary=True,
            ),
            InteractionLogged(
                enterprise_id=firm, interaction_id=f"{run}-int-{n}", kind=InteractionKind.MEETING,
                occurred_at=NOW - timedelta(hours=1), contact_ids=[contact],
            ),
            EnterpriseStageChanged(
                enterprise_id=firm, from_stage=Stage.NEGOTIATING, to_stage=Stage.LANDED,
                reason="bench", actor="li.wei",
            ),
        ]  # fmt: skip
    return events


async def transactions_per_event(env: BenchEnv) -> list[Figure]:
    run = uuid.uuid4().hex[:6]
    settings = FollowupSettings(
        _env_file=None,
        env="test",
        kafka_bootstrap_servers=env.kafka_bootstrap,
        mongo_uri=env.mongo_uri,
        followup_database=f"bench_followup_scheduling_{run}",
        kafka_consumer_group_suffix=run,
        log_level="WARNING",
    )
    configure_logging(service="followup", level="WARNING", json=False)  # as `serve` would
    events = [
        new_event(data, service="intake", subject=data.enterprise_id, time=NOW)  # type: ignore[attr-defined]
        for data in _events(run)
    ]
    ours = {str(event.id) for event in events}
    counter = TransactionCounter(settings.followup_database, ours)
    monitoring.register(counter)  # before the service's client is created
    app = bootstrap(settings, clock=lambda: NOW)
    service = app.state.followup
    producer = AIOKafkaProducer(bootstrap_servers=env.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async with service.runtime.lifespan(app):
            db = service.runtime.db

            async def all_consumed() -> bool:
                consumed = {
                    d["_id"].rsplit(":", 1)[-1] async for d in db.inbox.find({}, {"_id": 1})
                }
                return ours <= consumed

            with Stopwatch() as watch:
                for event in events:
                    await producer.send(
                        event.data.topic.name, event.to_json(), key=event.subject.encode()
                    )
                await producer.flush()
                await until(all_consumed, limit=600)
            firms = list({event.subject for event in events})
            scheduled = await db.followups.count_documents({"enterprise_id": {"$in": firms}})
            await service.runtime.mongo.drop_database(settings.followup_database)
    finally:
        await producer.stop()
    per_event = counter.consumed / len(events)
    return [
        Figure(
            f"scheduling: transactions per lifecycle event ({len(events):,} events)",
            per_event, "tx/event", goal="≤ 1",
            note=f"{counter.consumed:,} transactions consumed the {len(events):,} events, "
            f"planning {scheduled:,} follow-ups; {len(events) / watch.seconds:,.0f} events/s; "
            f"{counter.committed:,} commits in all (relay and dispatcher included)",
        )
    ]  # fmt: skip
