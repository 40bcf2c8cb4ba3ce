"""`crm-dlq list TOPIC` / `crm-dlq replay TOPIC`: inspect and replay dead letters.

`replay` re-publishes each dead letter (original key, value and headers, without
the dlq headers) to its original topic; consumers then apply it if they did not
before (the inbox skips ids already applied). The replayed range is remembered
in the `crm-dlq-replay` consumer group, so a second replay sends only newer ones.
"""

import argparse
import asyncio
import json
import sys
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from crm_shared.contracts.topics import topic_named
from crm_shared.kafka import headers as h
from crm_shared.settings import ServiceSettings, load_settings

REPLAY_GROUP = "crm-dlq-replay"


async def _read_all(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> list[Any]:
    """Everything from the current positions up to the end offsets at the time of the call."""
    end = await consumer.end_offsets(partitions)
    records: list[Any] = []
    while not await _reached(consumer, end):
        batch = await consumer.getmany(*partitions, timeout_ms=1000)
        for items in batch.values():
            records.extend(r for r in items if r.offset < end[TopicPartition(r.topic, r.partition)])
    return sorted(records, key=lambda r: (r.partition, r.offset))


async def _reached(consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
    for tp, offset in end.items():
        if await consumer.position(tp) < offset:
            return False
    return True


def _describe(record: Any) -> dict[str, Any]:
    headers = h.decode_headers(record.headers or ())
    origin = (headers.get(h.DLQ_TOPIC), headers.get(h.DLQ_PARTITION), headers.get(h.DLQ_OFFSET))
    return {
        "dlq_partition": record.partition,
        "dlq_offset": record.offset,
        "key": record.key.decode("utf-8", "replace") if record.key else None,
        "error": headers.get(h.DLQ_ERROR),
        "error_type": headers.get(h.DLQ_ERROR_TYPE),
        "group": headers.get(h.DLQ_GROUP),
        "original": "{}[{}]@{}".format(*origin),
        "failed_at": headers.get(h.DLQ_FAILED_AT),
        "value_preview": (record.value or b"")[:200].decode("utf-8", "replace"),
    }


async def list_dead_letters(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    source = topic_named(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(source.dlq, p) for p in range(source.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        return [_describe(r) for r in await _read_all(consumer, partitions)]
    finally:
        await consumer.stop()


async def replay_dead_letters(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    source = topic_named(topic)
    consumer = AIOKafkaConsumer(
        source.dlq,
        bootstrap_servers=bootstrap,
        group_id=REPLAY_GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await consumer.start()
    await producer.start()
    replayed: list[dict[str, Any]] = []
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=500)
        partitions = sorted(consumer.assignment())
        for tp in partitions:
            committed = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        for record in await _read_all(consumer, partitions):
            original = [
                (k, v)
                for k, v in (record.headers or ())
                if k not in (*h.DLQ_HEADERS, *h.DLQ_OPTIONAL_HEADERS)
            ]
            await producer.send_and_wait(
                source.name, record.value, key=record.key, headers=original
            )
            replayed.append(_describe(record))
        await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()
    return replayed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="crm-dlq", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("list", "print dead letters as JSON lines"), ("replay", "re-publish them")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("topic", help="original topic, e.g. crm.enterprise.lifecycle.v1")
    args = parser.parse_args(argv)
    try:
        topic_named(args.topic)
    except KeyError as error:
        sys.exit(f"crm-dlq: {error.args[0]}")
    settings = load_settings(ServiceSettings)
    if args.command == "list":
        for item in asyncio.run(list_dead_letters(settings.kafka_bootstrap_servers, args.topic)):
            print(json.dumps(item, ensure_ascii=False))
    else:
        replayed = asyncio.run(replay_dead_letters(settings.kafka_bootstrap_servers, args.topic))
        for item in replayed:
            print(json.dumps(item, ensure_ascii=False))
        print(f"replayed {len(replayed)} dead letters to {args.topic}")


if __name__ == "__main__":
    main()
