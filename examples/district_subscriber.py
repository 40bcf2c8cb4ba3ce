#!/usr/bin/env python3
"""A district system's subscriber to Warm Yang CRM events: a starting point to copy.

It needs only `aiokafka` and `jsonschema` (no code of the CRM) and the committed
JSON Schemas (`docs/schemas/`, also served at `/schemas/<type>.json` by every
service). It shows what every subscriber must do:

- read in its own consumer group, committing offsets only after processing;
- validate each event against the schema of its `type` (and the key and headers
  against the envelope), setting aside what does not validate;
- deduplicate by the event `id` (delivery is at least once);
- honour `contact.erased` by deleting what it holds on that contact.

    python examples/district_subscriber.py --bootstrap 127.0.0.1:9092 \\
        --group district-stats [--topic crm.enterprise.lifecycle.v1] \\
        [--start earliest|latest] [--max-events N] [--timeout SECONDS]

One line per event: `ok|duplicate|INVALID topic[partition]@offset firm=<key> id=<id> ...`.
Lines starting with `#` are progress notes. Exit status: 0, or 1 when --max-events
was not reached before --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from jsonschema import Draft202012Validator, FormatChecker

DEFAULT_SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"
LIFECYCLE = "crm.enterprise.lifecycle.v1"


def load_validators(directory: Path) -> dict[str, Draft202012Validator]:
    """One validator per event type, from `<type>.json` files."""
    validators = {}
    for path in sorted(directory.glob("warmyang.*.json")):
        schema = json.loads(path.read_text())
        validators[path.stem] = Draft202012Validator(schema, format_checker=FormatChecker())
    if not validators:
        raise SystemExit(f"no schemas in {directory}")
    return validators


def check(
    record: ConsumerRecord[bytes, bytes], validators: dict[str, Draft202012Validator]
) -> tuple[dict[str, Any] | None, str | None]:
    """The event, or why it is invalid."""
    try:
        event = json.loads(record.value or b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"not JSON: {error}"
    if not isinstance(event, dict):
        return None, "not a JSON object"
    validator = validators.get(str(event.get("type")))
    if validator is None:
        # A type newer than our schemas: skip it, or fetch /schemas/<type>.json.
        return event, f"unknown type {event.get('type')!r}"
    errors = sorted(validator.iter_errors(event), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(event)"
        return event, f"{where}: {errors[0].message}"
    key = (record.key or b"").decode("utf-8", "replace")
    if key != event["subject"]:
        return event, f"key {key!r} is not the subject {event['subject']!r}"
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
    if headers.get("ce_type", event["type"]) != event["type"]:
        return event, "header ce_type does not match the event type"
    return event, None


def summary(event: dict[str, Any]) -> str:
    """What happened, in a few words, without personal data (names, emails stay out of logs)."""
    data = event.get("data", {})
    name = event["type"].removeprefix("warmyang.").rsplit(".v", 1)[0]
    describe = {
        "enterprise.created": lambda: f"{data['name']} ({data['country']}), from {data['source']}",
        "enterprise.updated": lambda: "changed " + ", ".join(sorted(data["changes"])),
        "enterprise.stage_changed": lambda: f"{data['from_stage']} -> {data['to_stage']}",
        "enterprise.status_changed": lambda: f"{data['from_status']} -> {data['to_status']}",
        "enterprise.merged": lambda: f"{data['merged_id']} merged into {data['survivor_id']}",
        "contact.added": lambda: f"contact {data['contact_id']}",
        "contact.updated": lambda: (
            f"contact {data['contact_id']} changed " + ", ".join(sorted(data["changes"]))
        ),
        "contact.consent_changed": lambda: (
            f"contact {data['contact_id']} email consent "
            + ("given" if data["email_consent"] else "withdrawn")
        ),
        "contact.erased": lambda: f"contact {data['contact_id']} erased",
        "interaction.logged": lambda: f"{data['kind']} at {data['occurred_at']}",
    }.get(name)
    return f"{name}: {describe() if describe else ', '.join(sorted(data))}"


@dataclass
class LocalStore:
    """What this district system keeps. Replace with your database."""

    seen_ids: set[str] = field(default_factory=set)  # keep these with your data, in one write
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, event: dict[str, Any]) -> str:
        data = event["data"]
        kind = event["type"]
        if kind.startswith("warmyang.contact.added."):
            self.contacts[data["contact_id"]] = dict(data)
        elif kind.startswith("warmyang.contact.updated."):
            contact = self.contacts.setdefault(data["contact_id"], {})
            contact.update({k: change.get("new") for k, change in data["changes"].items()})
        elif kind.startswith("warmyang.contact.erased."):
            # The duty of every subscriber: delete what you hold on the contact.
            removed = self.contacts.pop(data["contact_id"], None)
            return " (local data deleted)" if removed is not None else " (nothing held)"
        return ""


class Subscriber:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.validators = load_validators(args.schemas)
        self.store = LocalStore()
        self.count = 0
        self.invalid = 0
        self.stop = asyncio.Event()
        self.consumer = AIOKafkaConsumer(
            *args.topic,
            bootstrap_servers=args.bootstrap,
            group_id=args.group,
            enable_auto_commit=False,  # commit after processing: at least once, never lost
            auto_offset_reset=args.start,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )

    def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self.count += 1
        event, problem = check(record, self.validators)
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        key = (record.key or b"").decode("utf-8", "replace")
        event_id = event.get("id") if event else None
        if problem is not None:
            # A real system stores it for a person to look at, and moves on.
            self.invalid += 1
            print(f"INVALID   {where} firm={key} id={event_id} {problem}", flush=True)
            return
        assert event is not None
        if event["id"] in self.store.seen_ids:
            print(f"duplicate {where} firm={key} id={event_id} {summary(event)}", flush=True)
            return
        note = self.store.apply(event)
        self.store.seen_ids.add(event["id"])
        print(f"ok        {where} firm={key} id={event_id} {summary(event)}{note}", flush=True)

    async def run(self) -> int:
        await self.consumer.start()
        announced = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.args.timeout if self.args.timeout else None
        try:
            while not self.stop.is_set() and not self._done():
                if deadline is not None and loop.time() >= deadline:
                    break
                batch = await self.consumer.getmany(timeout_ms=500, max_records=100)
                if not announced and self.consumer.assignment():
                    announced = await self._announce()
                processed: dict[TopicPartition, int] = {}
                for tp, records in batch.items():
                    for record in records:
                        if self._done():
                            break
                        self.handle(record)
                        processed[tp] = record.offset + 1
                if processed:
                    # Only what was processed is committed: a crash before this re-reads it.
                    await self.consumer.commit(processed)  # type: ignore[arg-type]
        finally:
            await self.consumer.stop()
        print(f"# {self.count} events, {self.invalid} invalid", flush=True)
        return 1 if self.args.max_events and not self._done() else 0

    async def _announce(self) -> bool:
        assigned = sorted(self.consumer.assignment())
        for tp in assigned:
            await self.consumer.position(tp)  # the start offsets are fixed from here on
        print(f"# ready: group {self.args.group}, {len(assigned)} partitions", flush=True)
        return True

    def _done(self) -> bool:
        return bool(self.args.max_events) and self.count >= self.args.max_events


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka host:port")
    parser.add_argument("--group", required=True, help="your own consumer group")
    parser.add_argument("--topic", action="append", help=f"repeatable; default {LIFECYCLE}")
    parser.add_argument("--schemas", type=Path, default=DEFAULT_SCHEMAS, help="schema directory")
    parser.add_argument(
        "--start",
        choices=["earliest", "latest"],
        default="earliest",
        help="where a new group starts: the whole history (default) or only new events",
    )
    parser.add_argument("--max-events", type=int, default=0, help="stop after N events")
    parser.add_argument("--timeout", type=float, default=0, help="stop after S seconds")
    args = parser.parse_args(argv)
    args.topic = args.topic or [LIFECYCLE]
    return args


async def main(argv: list[str] | None = None) -> int:
    subscriber = Subscriber(parse_args(argv))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, subscriber.stop.set)
    return await subscriber.run()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
