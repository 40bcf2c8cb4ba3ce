"""`crm-outbox-relay --database NAME`: run only the outbox relay of one service database.

Services run their relay themselves; this is for operations (drain a backlog
with a stopped service) and for the fault tests, which kill it mid-batch.
"""

import argparse
import asyncio
import signal

from crm_shared.kafka.broker import BrokerRecordPublisher, create_broker
from crm_shared.kafka.relay import OutboxRelay, RelayConfig
from crm_shared.mongo.client import create_mongo_client
from crm_shared.observability.logging import configure_logging
from crm_shared.settings import ServiceSettings, load_settings


async def _run(settings: ServiceSettings, database: str, service: str) -> None:
    mongo = create_mongo_client(settings.mongo_uri, app_name=f"{service}-relay")
    broker = create_broker(settings, service=f"{service}-relay")
    await broker.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    relay = OutboxRelay(
        mongo[database],
        BrokerRecordPublisher(broker),
        service=service,
        config=RelayConfig.from_settings(settings),
    )
    try:
        await relay.run(stop)
    finally:
        await broker.stop()
        await mongo.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="crm-outbox-relay", description=__doc__)
    parser.add_argument("--database", required=True, help="the service database, e.g. crm_intake")
    parser.add_argument("--service", default=None, help="name for logs (default: from database)")
    args = parser.parse_args(argv)
    settings = load_settings(ServiceSettings)
    service = args.service or args.database.removeprefix("crm_")
    configure_logging(service=f"{service}-relay", level=settings.log_level, json=settings.log_json)
    asyncio.run(_run(settings, args.database, service))


if __name__ == "__main__":
    main()
