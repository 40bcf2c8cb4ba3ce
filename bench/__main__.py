"""`python -m bench [NAME ...]`: start Kafka and SecantusDB, run the benchmarks, print ratios.

Each benchmark module `bench/<name>.py` exposes `run(env) -> list[Figure]`. The
table is printed as Markdown, ready for the README's performance section.
"""

import argparse
import asyncio
import importlib
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import BenchEnv, Figure
from crm_devstack import KafkaNode, MongoNode
from crm_shared.kafka.topics import ensure_topics

ALL = ["foundation", "intake", "followup", "notification"]


async def _main(names: list[str]) -> list[tuple[str, list[Figure]]]:
    results: list[tuple[str, list[Figure]]] = []
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        work = Path(tmp)
        kafka = KafkaNode(work / "kafka")
        # Durable commits, as `make run` runs it: the figures are for the real setup. A
        # cache that holds the follow-up benchmark's million documents and their indexes
        # (with the devstack's 256M, loading them thrashes and stalls the server).
        mongo = MongoNode(work / "mongo", sync_on_commit=True, cache_size="4G")
        await asyncio.gather(kafka.start(timeout=120), mongo.start(timeout=60))
        try:
            await ensure_topics(kafka.bootstrap)
            env = BenchEnv(kafka_bootstrap=kafka.bootstrap, mongo_uri=mongo.uri, workdir=work)
            for name in names:
                module = importlib.import_module(f"bench.{name}")
                print(f"-- {name} …", flush=True)
                figures = await module.run(env)
                results.append((name, figures))
                _print(name, figures)
        finally:
            await asyncio.gather(kafka.stop(), mongo.stop(), return_exceptions=True)
    return results


def _print(name: str, figures: list[Figure]) -> None:
    print(f"\n### {name}\n")
    print("| figure | value | baseline (same run) | ratio | goal | note |")
    print("|---|---|---|---|---|---|")
    for figure in figures:
        print(figure.row())
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", default=None, help=f"some of: {', '.join(ALL)}")
    args = parser.parse_args()
    names = args.names or [n for n in ALL if importlib.util.find_spec(f"bench.{n}")]
    unknown = [n for n in names if n not in ALL]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ALL)}")
    started = datetime.now(UTC)
    print(f"benchmarks {', '.join(names)} on {platform.node()} at {started:%Y-%m-%d %H:%M} UTC")
    asyncio.run(_main(names))


if __name__ == "__main__":
    main()
