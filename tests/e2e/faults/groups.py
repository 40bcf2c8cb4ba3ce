"""What the broker knows about a stack's consumer groups: end offsets, what each group
has committed, who is in it and which partitions it gave to which process."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.errors import GroupCoordinatorNotAvailableError

from crm_shared.contracts.topics import (
    FOLLOWUP,
    LIFECYCLE,
    NOTIFICATION,
    NOTIFICATION_REQUESTS,
    Topic,
)

from ..stack import Stack

# The topics each service under test reads (SPEC §2; its `runtime.consumer(...)` calls).
SERVICE_TOPICS: dict[str, tuple[Topic, ...]] = {
    "intake": (FOLLOWUP, NOTIFICATION),
    "followup": (LIFECYCLE, NOTIFICATION),
    "notification": (NOTIFICATION_REQUESTS, LIFECYCLE),
}
GROUP_SUFFIX_ENV = "CRM_KAFKA_CONSUMER_GROUP_SUFFIX"

Groups = dict[str, tuple[Topic, ...]]  # consumer group -> the topics it reads


def group_of(stack: Stack, service: str) -> str:
    """`crm-<service>`, or `crm-<service>-<suffix>` where the stack gives its services a
    group suffix of their own (as crm_shared.kafka.broker.consumer_group names them)."""
    suffix = stack.services[service].env.get(GROUP_SUFFIX_ENV, "")
    return f"crm-{service}-{suffix}" if suffix else f"crm-{service}"


def groups_of(stack: Stack) -> Groups:
    return {group_of(stack, service): topics for service, topics in SERVICE_TOPICS.items()}


def _partitions(topics: list[Topic] | tuple[Topic, ...]) -> list[TopicPartition]:
    return [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]


async def end_offsets(bootstrap: str, topics: list[Topic]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(_partitions(topics)))
    finally:
        await consumer.stop()


async def start_at_end(bootstrap: str, groups: Groups) -> None:
    """Commit the current end of every topic for groups that are to start now: a new
    stack then takes up only what happens from here on, not every earlier test's events
    (a group with no offsets starts at the earliest record, as a new service must)."""
    for group, topics in groups.items():
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = _partitions(topics)
            consumer.assign(partitions)
            await consumer.commit(dict(await consumer.end_offsets(partitions)))
        finally:
            await consumer.stop()


async def consumer_lag(bootstrap: str, groups: Groups) -> dict[str, int]:
    """Records each group has yet to commit, summed over the topics it reads."""
    every_topic = list({t.name: t for topics in groups.values() for t in topics}.values())
    ends = await end_offsets(bootstrap, every_topic)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        lag = {}
        for group, topics in groups.items():
            committed = await admin.list_consumer_group_offsets(group)
            names = {t.name for t in topics}
            lag[group] = sum(
                end - (committed[tp].offset if tp in committed else 0)
                for tp, end in ends.items()
                if tp.topic in names
            )
        return lag
    finally:
        await admin.close()


async def _described(bootstrap: str, group: str) -> list[tuple[object, ...]]:
    """The members of `group` as DescribeGroups returns them (member id first,
    assignment last)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
    except GroupCoordinatorNotAvailableError:
        return []  # a fresh broker: no group has ever had a member
    finally:
        await admin.close()
    return [member for described in response.groups for member in described[5]]


async def members(bootstrap: str, group: str) -> int:
    """Consumers currently in `group`, whoever runs them."""
    return len(await _described(bootstrap, group))


async def partitions_held(bootstrap: str, group: str, client_id: str) -> int:
    """Partitions the group's current generation assigns to the members of `client_id`
    (a member id is the client id, a dash and a unique suffix)."""
    held = 0
    for member in await _described(bootstrap, group):
        assignment = member[-1]
        ours = str(member[0]).startswith(f"{client_id}-")
        if ours and isinstance(assignment, bytes) and assignment:
            held += len(ConsumerProtocolMemberAssignment.decode(assignment).partitions())
    return held
