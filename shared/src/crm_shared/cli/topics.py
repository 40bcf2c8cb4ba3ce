"""`crm-topics ensure [--wait S]`: create every topic and its DLQ; `crm-topics list`."""

import argparse
import asyncio
import sys

from crm_shared.contracts.topics import ALL_TOPICS, DLQ_RETENTION_MS
from crm_shared.kafka.topics import ensure_topics
from crm_shared.settings import ServiceSettings, load_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="crm-topics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    ensure = commands.add_parser("ensure", help="create missing topics (idempotent)")
    ensure.add_argument("--wait", type=float, default=0, help="seconds to wait for the broker")
    ensure.add_argument("--replication-factor", type=int, default=1)
    commands.add_parser("list", help="the topics this system uses")
    args = parser.parse_args(argv)
    if args.command == "list":
        for topic in ALL_TOPICS:
            print(f"{topic.name}\t{topic.partitions} partitions\tretention.ms={topic.retention_ms}")
            print(f"{topic.dlq}\t{topic.partitions} partitions\tretention.ms={DLQ_RETENTION_MS}")
        return
    settings = load_settings(ServiceSettings)
    try:
        created = asyncio.run(
            ensure_topics(
                settings.kafka_bootstrap_servers,
                replication_factor=args.replication_factor,
                wait_seconds=args.wait,
            )
        )
    except Exception as error:
        sys.exit(f"crm-topics: cannot reach Kafka at {settings.kafka_bootstrap_servers}: {error}")
    print(f"topics ready ({len(created)} created: {', '.join(created) or 'none'})")


if __name__ == "__main__":
    main()
