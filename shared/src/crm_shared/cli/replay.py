"""`crm-replay --topic T --group G (--from-time ISO | --from-offset N) [--dry-run]`.

Rewinds (or advances) a consumer group's committed offsets on every partition of
a topic, so the group's next start reads from there: from the first record at or
after a time (`offsets_for_times`), or from an offset (clamped to what the
partition holds). The group must be inactive — stop its consumers first — since
Kafka only accepts offsets from outside the group while it has no members.

Lifecycle history is kept forever (`retention.ms=-1`), so a new district system
can replay `crm.enterprise.lifecycle.v1` from the beginning.
"""

import argparse
import asyncio
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from crm_shared.settings import ServiceSettings, load_settings

# Group states in which nobody holds partitions (Kafka's classic and KIP-848 groups).
INACTIVE_STATES = {"Empty", "Dead", ""}
COORDINATOR_WAIT_SECONDS = 30
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class GroupActive(RuntimeError):
    """The group has members; their commits would overwrite ours, so Kafka refuses."""


@dataclass(frozen=True)
class PartitionReset:
    partition: int
    committed: int | None  # the group's offset before the reset (None: never committed)
    target: int
    earliest: int
    end: int

    def describe(self) -> str:
        before = "none" if self.committed is None else str(self.committed)
        to_read = self.end - self.target
        return (
            f"partition {self.partition}: {before} -> {self.target} "
            f"(partition holds {self.earliest}..{self.end}; {to_read} records to read)"
        )


def parse_time(text: str) -> datetime:
    """An ISO 8601 time with a zone (`2026-11-20T09:30:00+08:00` or `...Z`)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no time zone; add Z (UTC) or an offset like +08:00"
        )
    return value


@dataclass(frozen=True)
class _ClusterView:
    partitions: list[int]
    group_state: str
    group_members: int


async def _look(bootstrap: str, topic: str, group: str) -> _ClusterView:
    """The topic's partitions and the group's state, as the cluster sees them now."""
    # A young cluster answers "coordinator not available" until its offsets topic exists.
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(lambda e: isinstance(e, KafkaError) and e.retriable),
        stop=stop_after_delay(COORDINATOR_WAIT_SECONDS),
        wait=wait_exponential(multiplier=0.2, max=2),
        reraise=True,
    ):
        with attempt:
            return await _look_once(bootstrap, topic, group)
    raise AssertionError("unreachable")  # pragma: no cover


async def _look_once(bootstrap: str, topic: str, group: str) -> _ClusterView:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    if described["error_code"] or not described["partitions"]:
        raise ValueError(f"topic {topic!r} does not exist")
    # A group description: (error_code, group_id, state, protocol_type, protocol, members, …)
    group_description = response.groups[0]
    return _ClusterView(
        partitions=sorted(p["partition"] for p in described["partitions"]),
        group_state=group_description[2],
        group_members=len(group_description[5]),
    )


async def reset_offsets(
    bootstrap: str,
    topic: str,
    group: str,
    *,
    from_time: datetime | None = None,
    from_offset: int | None = None,
    dry_run: bool = False,
) -> list[PartitionReset]:
    """Move `group`'s committed offsets on every partition of `topic`; return what moved."""
    if (from_time is None) == (from_offset is None):
        raise ValueError("give exactly one of from_time and from_offset")
    view = await _look(bootstrap, topic, group)
    if view.group_members or view.group_state not in INACTIVE_STATES:
        raise GroupActive(
            f"consumer group {group!r} is active ({view.group_state}, {view.group_members} "
            "member(s)); stop its consumers and run crm-replay again — the offsets of an "
            "active group cannot be reset"
        )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in view.partitions]
        # Assigned, not subscribed: we never join the group, we only write its offsets.
        consumer.assign(tps)
        earliest = await consumer.beginning_offsets(tps)
        end = await consumer.end_offsets(tps)
        targets = await _targets(consumer, tps, earliest, end, from_time, from_offset)
        plan = [
            PartitionReset(
                tp.partition, await consumer.committed(tp), targets[tp], earliest[tp], end[tp]
            )
            for tp in tps
        ]
        if not dry_run:
            await consumer.commit({tp: OffsetAndMetadata(targets[tp], "crm-replay") for tp in tps})
        return plan
    finally:
        await consumer.stop()


async def _targets(
    consumer: AIOKafkaConsumer,
    tps: list[TopicPartition],
    earliest: dict[TopicPartition, int],
    end: dict[TopicPartition, int],
    from_time: datetime | None,
    from_offset: int | None,
) -> dict[TopicPartition, int]:
    if from_offset is not None:
        return {tp: min(max(from_offset, earliest[tp]), end[tp]) for tp in tps}
    assert from_time is not None
    # Exact milliseconds, rounded up: "at or after" must not take a record from just before.
    stamp = -((EPOCH - from_time) // timedelta(milliseconds=1))
    found = await consumer.offsets_for_times({tp: stamp for tp in tps})
    # No record at or after the time: the group starts at the end (nothing to replay there).
    return {tp: found[tp].offset if found.get(tp) else end[tp] for tp in tps}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="crm-replay", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--topic", required=True, help="e.g. crm.enterprise.lifecycle.v1")
    parser.add_argument("--group", required=True, help="the consumer group to move")
    start = parser.add_mutually_exclusive_group(required=True)
    start.add_argument("--from-time", type=parse_time, help="ISO 8601 with a zone")
    start.add_argument("--from-offset", type=int, help="the same offset on every partition")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument("--bootstrap", help="host:port (default: CRM_KAFKA_BOOTSTRAP_SERVERS)")
    args = parser.parse_args(argv)
    if args.from_offset is not None and args.from_offset < 0:
        parser.error("--from-offset must be 0 or more")
    bootstrap = args.bootstrap or load_settings(ServiceSettings).kafka_bootstrap_servers
    try:
        plan = asyncio.run(
            reset_offsets(
                bootstrap,
                args.topic,
                args.group,
                from_time=args.from_time,
                from_offset=args.from_offset,
                dry_run=args.dry_run,
            )
        )
    except (GroupActive, ValueError) as error:
        sys.exit(f"crm-replay: {error}")
    except KafkaError as error:
        # E.g. a consumer joined between the check and the commit: Kafka rejects outside offsets.
        sys.exit(f"crm-replay: Kafka refused the reset ({error!r}); is {args.group!r} active?")
    for item in plan:
        print(item.describe())
    verb = "would move" if args.dry_run else "moved"
    print(f"{verb} group {args.group!r} on {args.topic} ({len(plan)} partitions)")


if __name__ == "__main__":
    main()
