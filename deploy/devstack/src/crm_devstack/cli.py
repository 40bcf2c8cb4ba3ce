"""`crm-devstack`: run one local component in the foreground (what the Procfile runs).

    crm-devstack kafka --port 9092 --controller-port 9093 --data .data/kafka
    crm-devstack mongo --port 27017 --data .data/mongo
    crm-devstack smtp  --port 1025 --http-port 8025 --maildir .data/mail
    crm-devstack fetch-kafka            # download Kafka's jars into the cache now
    crm-devstack up [-f Procfile]       # the whole stack: honcho, with time to stop cleanly

Each runs until SIGINT/SIGTERM, then stops its server cleanly and exits 0. If the
server dies by itself the command exits 1, so honcho stops the rest of the stack
instead of leaving it half-alive.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from crm_devstack.kafka import KafkaNode, default_cache_dir, ensure_kafka_libs
from crm_devstack.mongo import MongoNode
from crm_devstack.process import ProcessNode
from crm_devstack.tools import MissingToolError


def _say(message: str) -> None:
    print(f"crm-devstack: {message}", flush=True)


async def _until_signal() -> asyncio.Event:
    """An event set on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _run_node(node: ProcessNode, timeout_s: float, stop_delay: float = 0.0) -> int:
    stop = await _until_signal()
    start = asyncio.create_task(node.start(timeout_s))
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({start, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not start.done():  # a signal while starting: do not leave it half-started
        start.cancel()
        await asyncio.gather(start, return_exceptions=True)
        node.kill()
        return 0
    seconds = start.result()
    _say(f"{node.name} ready: {node.address} (started in {seconds:.1f} s; log {node.log_path})")
    while not stop.is_set():
        if not node.running:
            _say(f"{node.name} exited unexpectedly; log {node.log_path}")
            return 1
        await asyncio.sleep(0.5)
    if stop_delay > 0:
        # honcho signals every process at once; the services still commit offsets and
        # flush their outbox while they stop, so the broker and database go last.
        _say(f"stopping {node.name} in {stop_delay:g} s, after its clients")
        await asyncio.sleep(stop_delay)
    _say(f"stopping {node.name}")
    code = await node.stop()
    _say(f"{node.name} stopped (status {code})")
    return 0


async def _run_smtp(host: str, port: int, http_port: int, maildir: Path) -> int:
    from crm_devstack.inbox import InboxServer
    from crm_devstack.smtp_sink import SmtpSink

    stop = await _until_signal()
    sink = SmtpSink(host, port, maildir)
    inbox = InboxServer(maildir, host, http_port)
    sink.start()
    inbox.start()
    _say(f"SMTP sink on {host}:{sink.port}, inbox {inbox.url}, Maildir {maildir}")
    await stop.wait()
    inbox.stop()
    sink.stop()
    _say("SMTP sink stopped")
    return 0


def _up(procfile: Path, kill_wait: float) -> int:
    """honcho's `start`, with longer than its fixed 5 s between SIGTERM and SIGKILL.

    The services finish in-flight work on SIGTERM (CRM_SHUTDOWN_GRACE_SECONDS, 20 s by
    default); honcho would SIGKILL them after 5 s. It reads the module constant at
    shutdown, so setting it here is enough.
    """
    import honcho.command
    import honcho.manager

    honcho.manager.KILL_WAIT = kill_wait
    honcho.command.main(["-f", str(procfile), "start"])
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm-devstack", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    kafka = sub.add_parser("kafka", help="single-node Apache Kafka (KRaft)")
    kafka.add_argument("--host", default="127.0.0.1")
    kafka.add_argument("--port", type=int, default=9092)
    kafka.add_argument("--controller-port", type=int, default=9093)
    kafka.add_argument("--data", type=Path, default=Path(".data/kafka"))
    kafka.add_argument("--heap", default="512m", help="JVM -Xmx")
    kafka.add_argument(
        "--stop-delay", type=float, default=0.0, help="seconds to keep serving after SIGTERM"
    )
    kafka.add_argument("--start-timeout", type=float, default=120.0)

    mongo = sub.add_parser("mongo", help="SecantusDB, a MongoDB-compatible replica set")
    mongo.add_argument("--host", default="127.0.0.1")
    mongo.add_argument("--port", type=int, default=27017)
    mongo.add_argument("--data", type=Path, default=Path(".data/mongo"))
    mongo.add_argument("--sync-on-commit", action="store_true", help="fsync on every commit")
    mongo.add_argument(
        "--stop-delay", type=float, default=0.0, help="seconds to keep serving after SIGTERM"
    )
    mongo.add_argument("--start-timeout", type=float, default=60.0)

    smtp = sub.add_parser("smtp", help="SMTP sink keeping mail in a Maildir, with a web inbox")
    smtp.add_argument("--host", default="127.0.0.1")
    smtp.add_argument("--port", type=int, default=1025)
    smtp.add_argument("--http-port", type=int, default=8025)
    smtp.add_argument("--maildir", type=Path, default=Path(".data/mail"))

    up = sub.add_parser("up", help="run the whole Procfile (honcho) until Ctrl-C")
    up.add_argument("-f", "--procfile", type=Path, default=Path("Procfile"))
    up.add_argument("--kill-wait", type=float, default=30.0, help="seconds from SIGTERM to SIGKILL")

    fetch = sub.add_parser("fetch-kafka", help="download Kafka's jars into the cache")
    fetch.add_argument(
        "--cache", type=Path, default=None, help="default: $CRM_DEVSTACK_CACHE or .cache"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "fetch-kafka":
            libs = ensure_kafka_libs(args.cache or default_cache_dir())
            _say(f"Kafka jars in {libs} ({len(list(libs.glob('*.jar')))} jars)")
            return 0
        if args.command == "up":
            return _up(args.procfile, args.kill_wait)
        if args.command == "kafka":
            kafka = KafkaNode(
                args.data,
                host=args.host,
                port=args.port,
                controller_port=args.controller_port,
                heap=args.heap,
            )
            return asyncio.run(_run_node(kafka, args.start_timeout, args.stop_delay))
        if args.command == "mongo":
            mongo = MongoNode(
                args.data, host=args.host, port=args.port, sync_on_commit=args.sync_on_commit
            )
            return asyncio.run(_run_node(mongo, args.start_timeout, args.stop_delay))
        return asyncio.run(_run_smtp(args.host, args.port, args.http_port, args.maildir))
    except MissingToolError as error:
        print(f"crm-devstack: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # NodeStartError, a failed download or format
        print(f"crm-devstack: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # e.g. a port already taken by another stack
        print(f"crm-devstack: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
